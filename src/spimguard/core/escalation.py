"""Account escalation: evidence that adds up per account and per session, not per message.

One message's score acts on the account only when it is extreme (the
policy's ``account.challenge`` and ``account.lock``). A hijacked session is
usually quieter than that: each message alone is a warning, an encrypted one
shows nothing but metadata. So the engine also keeps, per account, the last
hour of its messages (time, session, stopped or not, new session or not, and
the score of the signals that do not read the text) and applies two rules
after every verdict, and one when recipients' feedback arrives:

1. **Stopped in a row.** ``stopped`` (3) messages held or blocked within
   ``stopped_window`` (30 min), to at least two different people, challenge
   the account. Ham that one content rule holds three times in half an hour
   is rare, and a held message sent again to the same person is a retry;
   an attacker sending lure after lure to one contact after another is not.
2. **Hijacked session.** A session under two hours old, new for the account,
   whose message is stopped and whose metadata alone scores ``session_score``
   (7, a little over the hold threshold) is challenged at once. The score leaves out the
   signals that read the text or its links (profile deviation, stranger links,
   link bursts), and the session's newness and the account's age (the rule's
   premises, not its evidence): a session is judged by what it
   does, and an encrypted session by the only thing there is. (A sum over the
   session's messages was tried first: each message re-counts the same burst,
   so an owner's new phone chatting for an hour added up to it.)
3. **Feedback.** When ``feedback_blocks`` (2) of the people a new session
   wrote to block it or leave within the hour, the session is challenged at
   once, before it sends again (``Engine.observe`` returns the notice).

Where the messages carry a device id, rules 1 to 3 target the **session**:
the verdict names it (``session``), its messages are held, the transport may
log it out (the Synapse module deletes the device), and the owner's other
devices keep working. Any *new* session of that account within
``guard_days`` is then challenged on its first message (the attacker still
has the password). Without a device id the whole account is challenged.
An ``unlock`` clears all of it.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from spimguard.core.errors import PolicyError
from spimguard.state.base import Store

__all__ = ["Escalation", "EscalationSettings", "Finding"]

_ENTRY = struct.Struct("<IIIBf")  # time, session, first recipient, flags, metadata score
_STOPPED = 1
_NEW = 2
MAX_ENTRIES = 32
_GUARD = struct.Struct("<d")


class Entry(NamedTuple):
    ts: float
    session: int
    recipient: int
    flags: int
    score: float


@dataclass(frozen=True, slots=True)
class EscalationSettings:
    stopped: int = 3
    stopped_window: float = 1800.0
    session_score: float = 7.0
    session_window: float = 3600.0
    feedback_blocks: int = 2
    guard_days: float = 7.0

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> EscalationSettings:
        kw: dict[str, Any] = {}
        for key, value in table.items():
            if key not in cls.__dataclass_fields__:
                raise PolicyError(f"unknown key account.escalation.{key}")
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise PolicyError(f"account.escalation.{key} must be a positive number, "
                                  f"got {value!r}")
            kw[key] = int(value) if key in ("stopped", "feedback_blocks") else float(value)
        return cls(**kw)


@dataclass(frozen=True, slots=True)
class Finding:
    """An escalation: challenge the account, or only ``session`` when set."""

    reason: str
    session: int | None


def _key(user: str) -> str:
    return f"account:{user}:escalation"


def sessions_key(user: str) -> str:
    """Challenged sessions (u32 hashes), and the guard's start time, of ``user``."""
    return f"account:{user}:sessions"


class Escalation:
    def __init__(self, settings: EscalationSettings | None = None) -> None:
        self.settings = settings or EscalationSettings()

    def _read(self, store: Store, user: str, now: float) -> list[Entry]:
        raw = store.get(_key(user), now)
        if not isinstance(raw, bytes | bytearray) or len(raw) % _ENTRY.size:
            return []
        horizon = max(self.settings.session_window, self.settings.stopped_window)
        return [Entry(float(t), s, r, f, m) for t, s, r, f, m in _ENTRY.iter_unpack(bytes(raw))
                if 0.0 <= now - t <= horizon]

    def after_message(self, store: Store, user: str, session: int, recipient: int,
                      new_session: bool, stopped: bool, metadata_score: float, now: float,
                      fresh: bool = True) -> Finding | None:
        """Record the message; return the escalation it completes, if any.

        Only stopped messages and messages from a new session are evidence for a rule:
        the owner's ordinary, delivered messages (nearly all) neither read nor write
        the record."""
        cfg = self.settings
        if not stopped and not new_session:
            return None
        entries = self._read(store, user, now)
        flags = (_STOPPED if stopped else 0) | (_NEW if new_session else 0)
        entries.append(Entry(now, session, recipient, flags, float(metadata_score)))
        entries = entries[-MAX_ENTRIES:]
        store.set(_key(user), b"".join(
            _ENTRY.pack(min(max(int(e.ts), 0), 0xFFFFFFFF), e.session, e.recipient, e.flags,
                        e.score) for e in entries),
            now, max(cfg.session_window, cfg.stopped_window))
        stops = [e for e in entries if e.flags & _STOPPED and now - e.ts <= cfg.stopped_window]
        # a held message sent again to the same person is a retry, not a run of lures
        if stopped and len(stops) >= cfg.stopped and len({e.recipient for e in stops}) >= 2:
            target = _one_new_session(stops)
            return Finding(f"{len(stops)} messages stopped in "
                           f"{int(cfg.stopped_window // 60)} min", target)
        if new_session and fresh and stopped and metadata_score >= cfg.session_score:
            return Finding(f"a new session stopped on its metadata alone "
                           f"({metadata_score:.1f} without its text or the session's "
                           "newness)", session or None)
        return None

    def after_feedback(self, store: Store, sender: str, negative: int, now: float
                       ) -> Finding | None:
        """Recipients blocked or left: challenge the new session that wrote to them lately."""
        if negative < self.settings.feedback_blocks:
            return None
        entries = [e for e in self._read(store, sender, now) if e.flags & _NEW]
        if not entries:
            return None
        session = entries[-1].session
        return Finding(f"{negative} recipients blocked or left after messages from a new "
                       "session", session or None)

    # -- standing session challenges --------------------------------------------

    def challenged_sessions(self, store: Store, user: str, now: float
                            ) -> tuple[set[int], float | None]:
        """The account's challenged sessions and when its guard began (None: no guard)."""
        raw = store.get(sessions_key(user), now)
        if not isinstance(raw, bytes | bytearray) or len(raw) < _GUARD.size or \
                (len(raw) - _GUARD.size) % 4:
            return set(), None
        (since,) = _GUARD.unpack_from(raw)
        ids = {int.from_bytes(raw[i:i + 4], "little")
               for i in range(_GUARD.size, len(raw), 4)}
        if now - since > self.settings.guard_days * 86_400.0:
            return ids, None
        return ids, since

    def challenge_session(self, store: Store, user: str, session: int, now: float) -> None:
        ids, since = self.challenged_sessions(store, user, now)
        ids.add(session)
        raw = _GUARD.pack(now) + b"".join(i.to_bytes(4, "little") for i in sorted(ids)[-64:])
        store.set(sessions_key(user), raw, now)


def _one_new_session(entries: list[Entry]) -> int | None:
    """The session all these messages came from, if it is one new session."""
    sessions = {e.session for e in entries}
    if len(sessions) == 1 and all(e.flags & _NEW for e in entries):
        s = next(iter(sessions))
        return s or None
    return None
