"""Per-account sessions and recent outreach: what the metadata detectors read.

An encrypted message shows only who wrote to whom, when, how big, and from
which device. Two small records per account hold that:

* :class:`SessionBook`: the devices (sessions) the account sent from, each
  with when it was first and last seen and whether it appeared *after* the
  account already had another one (a new session is how a stolen password
  shows), and when the account last sent anything (dormancy).
* :class:`Outreach`: the last minutes of sends, one entry per recipient:
  time, recipient, size, session, and whether that recipient had been
  dormant. Bursts, wake-ups and platform correlation are counted from it.

Both are packed ``bytes`` (hashes and u32 times, see ``packed``) of at most
a few hundred bytes, so they travel unchanged to SQLite or Redis. One
detector (``session``) writes them; the others only read.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from spimguard.state.base import Store

__all__ = ["ANSWER", "DIRECT", "DORMANT", "MAX_REACHED", "MAX_SESSIONS", "NEW_SESSION",
           "OUTREACH_WINDOW",
           "SESSION_TTL", "Outreach", "OutreachEntry", "Session", "SessionBook",
           "outreach_key", "outreach_of", "session_key", "sessions_of"]

#: Sessions remembered per account (the stalest is dropped past this).
MAX_SESSIONS = 8
#: Sends remembered per account, and for how long (seconds).
MAX_OUTREACH = 64
OUTREACH_WINDOW = 3600.0
#: Kept this long after the account's last send.
SESSION_TTL = 90 * 86400.0

_BOOK_HEAD = struct.Struct("<BBI")  # version, sessions, last message time
_SESSION = struct.Struct("<IIIIBB")  # key, first/last seen, messages, flags, reached
#: People a new session wrote to, remembered (as hashes) for its first day.
MAX_REACHED = 16
_ENTRY = struct.Struct("<IIIIB")  # time, recipient, size, session, flags
_VERSION = 2
_NEW = 1

#: Outreach entry flags.
DORMANT = 1
NEW_SESSION = 2
#: The message went to a direct chat (at most two recipients).
DIRECT = 4
#: The recipient had written to the sender in the hour before: an answer.
ANSWER = 8


@dataclass(slots=True)
class Session:
    key: int
    first_seen: float
    last_seen: float
    messages: int = 0
    #: It appeared after the account already had another session.
    new: bool = False
    #: Whom a new session wrote to (hashes, up to MAX_REACHED): a thief's session
    #: reaches many of the victim's friends; it is kept for new sessions only.
    reached: set[int] = field(default_factory=set)


@dataclass(slots=True)
class SessionBook:
    sessions: dict[int, Session] = field(default_factory=dict)
    last_message: float | None = None

    def see(self, key: int, now: float) -> Session:
        """The session ``key``, created (and marked new if others exist) on first sight."""
        s = self.sessions.get(key)
        if s is None:
            s = Session(key, now, now, 0, new=bool(self.sessions))
            self.sessions[key] = s
            if len(self.sessions) > MAX_SESSIONS:
                stalest = min(self.sessions.values(), key=lambda x: x.last_seen)
                del self.sessions[stalest.key]
        return s

    def new_in(self, since: float) -> int:
        """Sessions that appeared as new after ``since`` (device ids churning)."""
        return sum(1 for s in self.sessions.values() if s.new and s.first_seen >= since)

    def to_bytes(self) -> bytes:
        parts = [_BOOK_HEAD.pack(_VERSION, len(self.sessions), _u32(self.last_message or 0))]
        for s in self.sessions.values():
            reached = sorted(s.reached)[:MAX_REACHED]
            parts.append(_SESSION.pack(s.key, _u32(s.first_seen), _u32(s.last_seen),
                                       min(s.messages, 0xFFFFFFFF), _NEW if s.new else 0,
                                       len(reached)))
            parts.append(struct.pack(f"<{len(reached)}I", *reached))
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, raw: bytes) -> SessionBook:
        try:
            version, n, last = _BOOK_HEAD.unpack_from(raw, 0)
            if version != _VERSION:
                raise ValueError(f"stored sessions have version {version}")
            book = cls(last_message=float(last) if last else None)
            off = _BOOK_HEAD.size
            for _ in range(n):
                k, first, seen, msgs, flags, nr = _SESSION.unpack_from(raw, off)
                off += _SESSION.size
                reached = set(struct.unpack_from(f"<{nr}I", raw, off))
                off += 4 * nr
                book.sessions[k] = Session(k, float(first), float(seen), msgs,
                                           bool(flags & _NEW), reached)
        except struct.error as e:
            raise ValueError(f"not stored sessions: {e}") from None
        return book


@dataclass(frozen=True, slots=True)
class OutreachEntry:
    ts: float
    recipient: int
    size: int
    session: int
    flags: int


class Outreach:
    """The account's sends in the last ``OUTREACH_WINDOW``, oldest first."""

    __slots__ = ("entries",)

    def __init__(self, entries: list[OutreachEntry] | None = None) -> None:
        self.entries = entries if entries is not None else []

    def since(self, t: float) -> list[OutreachEntry]:
        return [e for e in self.entries if e.ts >= t]

    def add(self, entries: list[OutreachEntry], now: float) -> None:
        keep = [e for e in self.entries if now - e.ts <= OUTREACH_WINDOW]
        keep.extend(entries)
        self.entries = keep[-MAX_OUTREACH:]

    def to_bytes(self) -> bytes:
        return b"".join(_ENTRY.pack(_u32(e.ts), e.recipient, min(e.size, 0xFFFFFFFF),
                                    e.session, e.flags) for e in self.entries)

    @classmethod
    def from_bytes(cls, raw: bytes) -> Outreach:
        if len(raw) % _ENTRY.size:
            raise ValueError("not a stored outreach window")
        return cls([OutreachEntry(float(t), r, s, k, f)
                    for t, r, s, k, f in _ENTRY.iter_unpack(raw)])


def session_key(user: str) -> str:
    return f"sessions:{user}"


def outreach_key(user: str) -> str:
    return f"outreach:{user}"


def sessions_of(store: Store, user: str, now: float) -> SessionBook | None:
    raw = store.get(session_key(user), now)
    if not isinstance(raw, bytes | bytearray):
        return None
    try:
        return SessionBook.from_bytes(bytes(raw))
    except ValueError:
        return None  # damaged: the next message rewrites it


def outreach_of(store: Store, user: str, now: float) -> Outreach:
    raw = store.get(outreach_key(user), now)
    if not isinstance(raw, bytes | bytearray):
        return Outreach()
    try:
        out = Outreach.from_bytes(bytes(raw))
    except ValueError:
        return Outreach()
    out.entries = [e for e in out.entries if now - e.ts <= OUTREACH_WINDOW]
    return out


def _u32(ts: float) -> int:
    if ts != ts:
        return 0
    return min(max(int(ts), 0), 0xFFFFFFFF)
