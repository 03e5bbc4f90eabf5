"""The one input boundary: every interface decodes JSON and checks limits here.

``/v1/check``, ``/v1/events``, ``spimguard replay`` and anything else that reads events
from outside go through :func:`loads` and :func:`json_lines`, then
:func:`spimguard.core.events.parse_event`, so the same input gets the same
answer everywhere: a clear per-item error, never a crash.

What is refused, and why:

* invalid UTF-8, and strings holding a lone surrogate (``"\\ud800"`` is valid
  JSON but not text: it cannot be encoded, stored or answered);
* nesting deeper than :data:`MAX_DEPTH` (Python's parser recurses; 1,000 levels
  raised ``RecursionError``), and numbers longer than :data:`MAX_NUMBER_CHARS`
  characters or out of float range (an integer of 4,301 digits raised
  ``ValueError`` from Python's int limit; ``1e999`` is infinity);
* ``NaN`` and ``Infinity``, which are not JSON;
* texts over :data:`MAX_TEXT_CHARS` (checked in ``parse_event``).

JSON Lines are split on ``\\n`` only: a raw U+2028 inside a JSON string is
allowed by JSON and must not split an item.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

from spimguard.text.compat import has_surrogates

__all__ = ["MAX_DEPTH", "MAX_NUMBER_CHARS", "MAX_TEXT_CHARS", "InputError", "check",
           "json_lines", "loads"]

MAX_DEPTH = 16
MAX_NUMBER_CHARS = 64
#: Longest message text accepted by any interface (the engine analyses the first
#: 65,536 characters and says so in ``TEXT_TRUNCATED``).
MAX_TEXT_CHARS = 100_000


class InputError(ValueError):
    """Input that no interface accepts; the message says why, without echoing it."""


def _int(s: str) -> int:
    if len(s) > MAX_NUMBER_CHARS:
        raise InputError(f"a number of {len(s)} digits (at most {MAX_NUMBER_CHARS})")
    return int(s)


def _float(s: str) -> float:
    if len(s) > MAX_NUMBER_CHARS:
        raise InputError(f"a number of {len(s)} characters (at most {MAX_NUMBER_CHARS})")
    v = float(s)
    if not math.isfinite(v):
        raise InputError("a number out of range")
    return v


def _constant(s: str) -> Any:
    raise InputError(f"{s} is not a JSON number")


def check(obj: Any) -> None:
    """Depth and strings of a decoded value, without recursion; :class:`InputError`."""
    stack: list[tuple[Any, int, str]] = [(obj, 1, "")]
    while stack:
        item, depth, where = stack.pop()
        if isinstance(item, str):
            if has_surrogates(item):
                raise InputError(f"invalid Unicode (a lone surrogate) in {where or 'a string'}")
            continue
        if isinstance(item, dict):
            if depth > MAX_DEPTH:
                raise InputError(f"nested deeper than {MAX_DEPTH} levels")
            for k, v in item.items():
                if has_surrogates(k):
                    raise InputError("invalid Unicode (a lone surrogate) in a field name")
                stack.append((v, depth + 1, f"field {k[:40]!r}"))
        elif isinstance(item, list):
            if depth > MAX_DEPTH:
                raise InputError(f"nested deeper than {MAX_DEPTH} levels")
            stack.extend((v, depth + 1, where) for v in item)


def loads(data: str | bytes, checked: bool = True) -> Any:
    """Decode one JSON document within the limits; :class:`InputError` otherwise.

    ``checked=False`` leaves :func:`check` to the caller (a batch checks each
    item on its own, so one bad item does not spoil the others)."""
    if isinstance(data, bytes | bytearray):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError as e:
            raise InputError(f"invalid UTF-8 at byte {e.start}") from None
    try:
        obj = json.loads(data, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except json.JSONDecodeError as e:
        raise InputError(f"invalid JSON: {e.msg} (column {e.colno})") from None
    except RecursionError:
        raise InputError(f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as e:  # int() beyond Python's digit limit, and our own InputError
        raise InputError(str(e)) from None
    if checked:
        check(obj)
    return obj


def json_lines(raw: bytes) -> Iterator[tuple[int, Any | InputError]]:
    """(line number, decoded item or the error) for each non-blank line, split on ``\\n``."""
    for n, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            yield n, loads(line.rstrip(b"\r"))
        except InputError as e:
            yield n, e
