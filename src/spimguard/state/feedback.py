"""Recipients' feedback about a sender (blocks, leaves), as the store keeps it.

Written by the feedback detector, read by it and by the engine's account
escalation, which acts when feedback arrives (``core`` must not import a
detector, so the record lives here). Per sender: the last day of
(time, recipient hash, kind) as packed u32/u8 triples, each recipient once.
"""

from __future__ import annotations

import struct

from spimguard.state.base import Store

__all__ = ["OPS", "WINDOW", "feedback_key", "negative_feedback", "pack", "read"]

WINDOW = 86_400.0
MAX_ENTRIES = 32
_ENTRY = struct.Struct("<IIB")
OPS = {"block": 1, "leave": 2}

Entry = tuple[float, int, int]


def feedback_key(sender: str) -> str:
    return f"feedback:{sender}"


def read(store: Store, sender: str, now: float) -> list[Entry]:
    raw = store.get(feedback_key(sender), now)
    if not isinstance(raw, bytes | bytearray) or len(raw) % _ENTRY.size:
        return []
    return [(float(t), u, op) for t, u, op in _ENTRY.iter_unpack(bytes(raw))
            if 0.0 <= now - t <= WINDOW]


def pack(store: Store, sender: str, entries: list[Entry], now: float) -> None:
    raw = b"".join(_ENTRY.pack(min(max(int(t), 0), 0xFFFFFFFF), u, o)
                   for t, u, o in entries[-MAX_ENTRIES:])
    store.set(feedback_key(sender), raw, now, WINDOW)


def negative_feedback(store: Store, sender: str, now: float, within: float = WINDOW
                      ) -> dict[str, int]:
    """Distinct recipients who blocked, and who only left, within ``within`` seconds."""
    out: dict[int, set[int]] = {1: set(), 2: set()}
    for t, user, op in read(store, sender, now):
        if now - t <= within and op in out:
            out[op].add(user)
    return {"block": len(out[1]), "leave": len(out[2] - out[1])}
