"""Per-key counters for the module's own limits (registrations per client IP)."""

from __future__ import annotations

from collections import OrderedDict

__all__ = ["Window"]


class Window:
    """Events per key in the last ``seconds`` (registrations per IP), bounded in keys."""

    MAX_KEYS = 100_000

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._times: OrderedDict[str, list[float]] = OrderedDict()

    def take(self, key: str, now: float) -> int:
        """Count one more for ``key``; how many within the window, this one included."""
        times = [t for t in self._times.pop(key, []) if now - t < self.seconds]
        times.append(now)
        self._times[key] = times[-10_000:]
        if len(self._times) > self.MAX_KEYS:
            self._times.popitem(last=False)
        return len(times)
