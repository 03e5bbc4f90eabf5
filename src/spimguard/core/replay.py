"""Reading event streams (JSON Lines) and replaying them through an engine.

A malformed line is reported with its line number and processing goes on; an
unknown event type is skipped and counted (shared/spec/formats.md, section 2).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO

from spimguard.core.boundary import InputError, loads
from spimguard.core.engine import Engine
from spimguard.core.errors import EventError, UnknownEventType
from spimguard.core.events import Event, MessageEvent, parse_event
from spimguard.core.verdicts import AccountNotice, Verdict

__all__ = ["ReplayStats", "iter_events", "replay"]

#: Longest line read (a bigger line is reported, not parsed).
MAX_LINE_BYTES = 8 * 1024 * 1024


@dataclass(slots=True)
class ReplayStats:
    events: int = 0
    messages: int = 0
    unknown_types: Counter[str] = field(default_factory=Counter)
    #: (line number, reason) for each line that could not be used.
    errors: list[tuple[int, str]] = field(default_factory=list)


def iter_events(lines: Iterable[bytes], stats: ReplayStats) -> Iterator[tuple[int, Event]]:
    """Parse JSON Lines; bad lines go to ``stats.errors``, unknown types to ``stats``."""
    for n, raw in enumerate(lines, start=1):
        if len(raw) > MAX_LINE_BYTES:
            stats.errors.append((n, f"line longer than {MAX_LINE_BYTES} bytes"))
            continue
        if not raw.strip():
            continue
        try:
            obj = loads(raw.rstrip(b"\r\n"))
        except InputError as exc:
            stats.errors.append((n, str(exc)))
            continue
        try:
            event = parse_event(obj)
        except UnknownEventType:
            kind = obj.get("type") if isinstance(obj, dict) else None
            stats.unknown_types[str(kind)[:40]] += 1
            continue
        except EventError as exc:
            stats.errors.append((n, str(exc)))
            continue
        stats.events += 1
        yield n, event


def replay(engine: Engine, stream: IO[bytes], stats: ReplayStats,
           on_event: Callable[[Event], None] | None = None,
           on_notice: Callable[[AccountNotice], None] | None = None,
           ) -> Iterator[tuple[MessageEvent, Verdict]]:
    """Feed every event to the engine; yield each message with its verdict.

    ``on_event`` sees every parsed event first, ground truth included (the
    scorer needs ``truth`` events, which the engine ignores). ``on_notice``
    gets the account actions that other events (recipients' feedback) took.
    """
    for _, event in iter_events(stream, stats):
        if on_event is not None:
            on_event(event)
        verdict = engine.observe(event)
        if isinstance(event, MessageEvent) and verdict is not None:
            stats.messages += 1
            yield event, verdict
        elif on_notice is not None:
            for notice in engine.drain_notices():
                on_notice(notice)
