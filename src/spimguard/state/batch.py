"""One message, few round trips: reads fetched together, writes sent together.

With a store across the network (Redis), each ``get`` and ``set`` of the
detectors is a round trip: about 15 for a message to one person. The engine
therefore opens a *batch* for each message: keys the detectors announce are
fetched in one ``get_many`` up front, later reads of them are served from
that copy, and every write waits in order until the verdict is out, then
goes in one pipeline. Other workers see the writes when the message is done,
a fraction of a millisecond later. ``incr`` is atomic on the server, so it
first sends the writes waiting before it and then goes through at once.

Outside a batch (logins, contacts, reports) every call goes straight to the
store. A store in the same process (memory, SQLite) is not wrapped at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from spimguard.state.base import Store

__all__ = ["BatchedStore", "Write", "get_many", "write_many"]

#: ("set", key, value, now, ttl) or ("delete", key, None, 0.0, None)
Write = tuple[str, str, Any, float, float | None]
_ABSENT = object()


def get_many(store: Store, keys: list[str], now: float) -> list[Any | None]:
    """``store.get_many`` when the backend has it, one ``get`` per key otherwise."""
    batch = getattr(store, "get_many", None)
    if batch is not None:
        return list(batch(keys, now))
    return [store.get(k, now) for k in keys]


def write_many(store: Store, writes: list[Write]) -> None:
    """``store.write_many`` (one pipeline) when the backend has it, else one call each."""
    batch = getattr(store, "write_many", None)
    if batch is not None:
        batch(writes)
        return
    for op, key, value, now, ttl in writes:
        if op == "set":
            store.set(key, value, now, ttl)
        else:
            store.delete(key)


class BatchedStore:
    """A store that buffers one message's reads and writes (see the module docstring)."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self._open = False
        self._cache: dict[str, Any] = {}
        self._writes: list[Write] = []

    # -- the batch ---------------------------------------------------------------

    def begin(self, now: float, keys: Iterable[str] = ()) -> None:
        self._open = True
        self._cache = {}
        self._writes = []
        wanted = list(dict.fromkeys(keys))
        if wanted:
            for k, v in zip(wanted, get_many(self.inner, wanted, now), strict=True):
                self._cache[k] = v

    def commit(self) -> None:
        """Send the waiting writes and close the batch (also after an error)."""
        writes, self._writes = self._writes, []
        self._open = False
        self._cache = {}
        if writes:
            write_many(self.inner, writes)

    # -- the Store protocol ------------------------------------------------------

    def get(self, key: str, now: float) -> Any | None:
        if self._open:
            v = self._cache.get(key, _ABSENT)
            if v is not _ABSENT:
                return v
            v = self.inner.get(key, now)
            self._cache[key] = v
            return v
        return self.inner.get(key, now)

    def set(self, key: str, value: Any, now: float, ttl: float | None = None) -> None:
        if not self._open:
            self.inner.set(key, value, now, ttl)
            return
        from spimguard.state.codec import encode

        encode(value)  # a value no backend can hold fails here, in the detector's call
        self._cache[key] = value
        self._writes.append(("set", key, value, now, ttl))

    def delete(self, key: str) -> None:
        if not self._open:
            self.inner.delete(key)
            return
        self._cache[key] = None
        self._writes.append(("delete", key, None, 0.0, None))

    def incr(self, key: str, amount: float, now: float, ttl: float | None = None) -> float:
        if self._open and self._writes:
            writes, self._writes = self._writes, []
            write_many(self.inner, writes)
        value = self.inner.incr(key, amount, now, ttl)
        if self._open:
            self._cache[key] = value
        return value

    def ping(self) -> bool:
        return self.inner.ping()

    def __getattr__(self, name: str) -> Any:
        # degraded, errors, close, flush... of the wrapped store
        return getattr(self.inner, name)
