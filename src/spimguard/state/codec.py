"""How store values become bytes for a backend outside the process (SQLite, Redis).

Detectors keep their state as ``bytes`` (packed profiles, windows, buckets) or
as small JSON values (an account action's name, a counter). One tag byte
says which, so every backend stores the same bytes and a value written by one
worker reads back identically in another. Nothing is ever pickled: a value
that is neither bytes nor JSON is refused when it is written, not when a
different process fails to read it.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["decode", "encode"]

_BYTES = b"b"
_JSON = b"j"


def encode(value: Any) -> bytes:
    """``bytes`` as they are, anything else as JSON; ``TypeError`` for what JSON can't say."""
    if isinstance(value, bytes | bytearray | memoryview):
        return _BYTES + bytes(value)
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as e:
        raise TypeError(f"store values must be bytes or JSON, got {type(value).__name__}: {e}"
                        ) from None
    return _JSON + text.encode("utf-8", "surrogatepass")


def decode(raw: bytes) -> Any:
    """Inverse of :func:`encode` (JSON arrays come back as lists); ``ValueError`` if damaged."""
    tag, body = raw[:1], raw[1:]
    if tag == _BYTES:
        return bytes(body)
    if tag == _JSON:
        try:
            return json.loads(body.decode("utf-8", "surrogatepass"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"damaged store value: {e}") from None
    raise ValueError(f"damaged store value: unknown tag {tag!r}")
