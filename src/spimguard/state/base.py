"""The store: the one place where detectors and the engine keep state.

Small on purpose (after ``limits``' storage base): a key/value map with
expiry and counters. Memory, SQLite and Redis backends implement the same
methods, so detectors never change when the state moves. Keys are namespaced
by their owner, e.g. ``account:<user>:action`` for the engine's account
actions. Values are ``bytes`` or JSON (see ``codec``): the in-memory store
keeps what it is given, the others encode it, so a detector must never store
anything else.

Optional, looked up with ``getattr`` where they matter: ``get_many(keys,
now)`` and ``write_many(writes)`` (one round trip each; see ``batch``),
``remote = True`` (the engine then batches each message's calls),
``flush()`` (commit buffered writes: the service calls it after each
request), ``close()``.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

__all__ = ["Store", "StoreError"]


class StoreError(Exception):
    """A backend failed (connection lost, disk full); wraps the driver's error."""


@runtime_checkable
class Store(Protocol):
    def get(self, key: str, now: float) -> Any | None:
        """The value, or None if absent or expired at ``now``."""

    def set(self, key: str, value: Any, now: float, ttl: float | None = None) -> None:
        """Store ``value``; it expires ``ttl`` seconds after ``now`` (None: never)."""

    def delete(self, key: str) -> None: ...

    def incr(self, key: str, amount: float, now: float, ttl: float | None = None) -> float:
        """Add to a counter (created at 0) and return the new value."""

    def ping(self) -> bool:
        """Health probe: True when the backend answers."""
