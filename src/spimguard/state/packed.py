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
from functools import lru_cache

__all__ = ["hash32", "pack_pairs", "pack_ts", "pack_u32", "unpack_pairs", "unpack_u32"]

_KEY = b"spimguard-state-1"
_MAX_U32 = 0xFFFFFFFF


@lru_cache(maxsize=65_536)
def hash32(name: str) -> int:
    """A stable keyed 32-bit hash of a user id, domain, device or IP.

    Cached: the same few thousand active names are hashed on every message
    (64K entries, ~10 MB at most)."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8", "surrogatepass"),
                                          digest_size=4, key=_KEY).digest(), "little")


@lru_cache(maxsize=1024)
def _u32s(n: int) -> struct.Struct:
    return struct.Struct(f"<{n}I")


def pack_ts(ts: float) -> int:
    """Seconds as an unsigned 32-bit int (clamped; enough until 2106)."""
    if ts != ts:  # NaN
        return 0
    return min(max(int(ts), 0), _MAX_U32)


def pack_u32(values: list[int]) -> bytes:
    return _u32s(len(values)).pack(*values)


def unpack_u32(raw: bytes, offset: int = 0, count: int | None = None) -> tuple[int, ...]:
    n = (len(raw) - offset) // 4 if count is None else count
    return _u32s(n).unpack_from(raw, offset)


def pack_pairs(pairs: dict[int, float]) -> bytes:
    """``{hash: time}`` as little-endian u32 pairs (times clamped into u32 if they must be)."""
    flat = [x for k, ts in pairs.items() for x in (k, int(ts))]
    try:
        return pack_u32(flat)
    except struct.error:  # a time before 1970 or after 2106 (or NaN): clamp, slowly
        return pack_u32([x for k, ts in pairs.items() for x in (k, pack_ts(ts))])


def unpack_pairs(raw: bytes, offset: int, count: int) -> dict[int, float]:
    """``count`` pairs from ``raw`` at ``offset`` (inverse of :func:`pack_pairs`)."""
    flat = unpack_u32(raw, offset, 2 * count)
    return dict(zip(flat[::2], flat[1::2], strict=True))  # int seconds compare as floats
