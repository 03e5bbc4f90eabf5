"""In-process store with expiry: the embedded default for one worker."""

from __future__ import annotations

from typing import Any

__all__ = ["MemoryStore"]

_NEVER = float("inf")


class MemoryStore:
    """A dict with per-key expiry; expired keys are dropped lazily and by sweeps.

    ``max_keys`` bounds memory: past it, a sweep drops expired keys and, if
    still full, the oldest-inserted ones (state is a cache of evidence, not a
    ledger; durable records go to the SQLite store of the service).
    """

    SCHEME = "memory"

    def __init__(self, max_keys: int = 1_000_000) -> None:
        self._data: dict[str, tuple[Any, float]] = {}
        self._max = max_keys

    def get(self, key: str, now: float) -> Any | None:
        item = self._data.get(key)
        if item is None:
            return None
        if item[1] <= now:
            del self._data[key]
            return None
        return item[0]

    def set(self, key: str, value: Any, now: float, ttl: float | None = None) -> None:
        if len(self._data) >= self._max and key not in self._data:
            self._sweep(now)
        self._data[key] = (value, _NEVER if ttl is None else now + ttl)

    def delete(self, key: str) -> None:
        self._data.pop(key, None)

    def incr(self, key: str, amount: float, now: float, ttl: float | None = None) -> float:
        current = self.get(key, now)
        value = (current or 0.0) + amount
        item = self._data.get(key)
        expires = item[1] if item is not None and current is not None else (
            _NEVER if ttl is None else now + ttl)
        self._data[key] = (value, expires)
        return float(value)

    def ping(self) -> bool:
        return True

    def __len__(self) -> int:
        return len(self._data)

    def _sweep(self, now: float) -> None:
        for k in [k for k, (_, exp) in self._data.items() if exp <= now]:
            del self._data[k]
        excess = len(self._data) - self._max + 1
        if excess > 0:
            for k in list(self._data)[:excess]:
                del self._data[k]
