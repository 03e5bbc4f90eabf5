"""Open a store from one setting, so every interface names backends the same way.

``memory`` (one process, lost on exit), ``sqlite`` (a file in the data
folder, kept across restarts: the embedded default of the service),
``sqlite:PATH``, or a ``redis://`` URL (shared by several workers; wrapped so
that a worker keeps answering on local memory while Redis is away).
"""

from __future__ import annotations

from pathlib import Path

from spimguard.state.base import Store
from spimguard.state.memory import MemoryStore

__all__ = ["open_store"]


def open_store(spec: str, data_dir: str | Path | None = None) -> Store:
    """A store for ``spec``; ``ValueError`` names the accepted forms."""
    if spec == "memory":
        return MemoryStore()
    if spec == "sqlite" or spec.startswith("sqlite:"):
        from spimguard.state.sqlite import SqliteStore

        path = spec[len("sqlite:"):] if spec.startswith("sqlite:") else ""
        if not path:
            if data_dir is None:
                raise ValueError("store 'sqlite' needs a data folder (or use sqlite:PATH)")
            Path(data_dir).mkdir(parents=True, exist_ok=True)
            path = str(Path(data_dir) / "state.sqlite")
        return SqliteStore(path)
    if spec.startswith(("redis://", "rediss://", "unix://")):
        from spimguard.state.redis import FallbackStore, RedisStore

        return FallbackStore(RedisStore(spec), MemoryStore())
    raise ValueError(f"unknown store {spec!r}: use memory, sqlite, sqlite:PATH or redis://HOST")
