"""Small binary encodings for behaviour state: 32-bit name hashes and packed pairs.

Behaviour state must fit in about a kilobyte per active account and travel
unchanged to SQLite or Redis, so it is stored as ``bytes`` rather than as
Python objects (a dict of 32 user ids costs ~5 KB; 32 packed pairs cost 256
bytes). Names are reduced to 32-bit keyed hashes: a profile only needs to
know *whether* it saw a recipient or domain before, never to list them, and
a collision (about one in 4·10⁹ per pair) makes one recipient look familiar.
The hash is the same in every process, so several workers share state.
"""

from __future__ import annotations

import hashlib
import struct

__all__ = ["hash32", "pack_pairs", "pack_ts", "pack_u32", "unpack_pairs", "unpack_u32"]

_KEY = b"spimguard-state-1"
_MAX_U32 = 0xFFFFFFFF


def hash32(name: str) -> int:
    """A stable keyed 32-bit hash of a user id, domain, device or IP."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8", "surrogatepass"),
                                          digest_size=4, key=_KEY).digest(), "little")


def pack_ts(ts: float) -> int:
    """Seconds as an unsigned 32-bit int (clamped; enough until 2106)."""
    if ts != ts:  # NaN
        return 0
    return min(max(int(ts), 0), _MAX_U32)


def pack_u32(values: list[int]) -> bytes:
    return struct.pack(f"<{len(values)}I", *values)


def unpack_u32(raw: bytes, offset: int = 0, count: int | None = None) -> tuple[int, ...]:
    n = (len(raw) - offset) // 4 if count is None else count
    return struct.unpack_from(f"<{n}I", raw, offset)


def pack_pairs(pairs: dict[int, float]) -> bytes:
    """``{hash: time}`` as little-endian u32 pairs."""
    flat: list[int] = []
    for k, ts in pairs.items():
        flat.append(k)
        flat.append(pack_ts(ts))
    return pack_u32(flat)


def unpack_pairs(raw: bytes, offset: int, count: int) -> dict[int, float]:
    """``count`` pairs from ``raw`` at ``offset`` (inverse of :func:`pack_pairs`)."""
    flat = unpack_u32(raw, offset, 2 * count)
    return {flat[i]: float(flat[i + 1]) for i in range(0, len(flat), 2)}
