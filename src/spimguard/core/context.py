"""What a detector sees of one message."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from spimguard.core.events import MessageEvent

if TYPE_CHECKING:
    from spimguard.state.base import Store
    from spimguard.text.normalize import NormalizedText

__all__ = ["MessageContext"]


@dataclass(frozen=True, slots=True)
class MessageContext:
    message: MessageEvent
    #: Normalised text (``None`` for encrypted messages): detectors read
    #: ``text.match`` or ``text.clean``, never the raw text, so every
    #: obfuscation trick is undone once for all of them.
    text: NormalizedText | None
    #: State, for reading; detectors write in ``observe``.
    store: Store
    #: The engine's notion of now (the event's timestamp in replays).
    now: float
    #: True when the text was longer than the engine analyses.
    truncated: bool = False
    #: Work shared between detectors for this one message (e.g. the extracted
    #: links), so that it is done once; see ``spimguard.detectors.shared``.
    memo: dict[str, Any] = field(default_factory=dict)
