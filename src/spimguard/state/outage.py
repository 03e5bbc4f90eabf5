"""Whether a shared dependency is down, and when to try it again.

Both the Redis store's fallback and the campaign log must keep answering
while Redis (or a log file) is away, warn once per outage rather than once
per call, try again at most every ``retry_after`` seconds, and say how many
calls failed when it comes back. This is that bookkeeping, once; the callers
decide what to log and what to do meanwhile.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["Outage", "OutageStatus"]


class Outage:
    def __init__(self, retry_after: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.retry_after = retry_after
        self._clock = clock
        #: Calls that failed, over the object's life.
        self.errors = 0
        #: True from a failure until a call succeeds again.
        self.degraded = False
        self._retry_at = 0.0
        self._errors_before = 0
        self._lock = threading.Lock()

    def due(self) -> bool:
        """True when the dependency should be tried (up, or down long enough)."""
        return not self.degraded or self._clock() >= self._retry_at

    def failed(self) -> bool:
        """Count a failed call; True when it starts an outage (the moment to warn)."""
        with self._lock:
            self.errors += 1
            self._retry_at = self._clock() + self.retry_after
            if self.degraded:
                return False
            self.degraded = True
            self._errors_before = self.errors - 1
            return True

    def recovered(self) -> int | None:
        """End an outage after a call succeeded: how many calls it failed (None: no outage)."""
        with self._lock:
            if not self.degraded:
                return None
            self.degraded = False
            return self.errors - self._errors_before


class OutageStatus:
    """``errors`` and ``degraded`` for an object that watches its dependency with
    ``self._outage`` (the Redis fallback store, the replicated campaigns)."""

    _outage: Outage

    @property
    def errors(self) -> int:
        """Calls to the dependency that failed."""
        return self._outage.errors

    @property
    def degraded(self) -> bool:
        """True from a failed call until a call succeeds again."""
        return self._outage.degraded
