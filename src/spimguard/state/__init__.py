"""State behind one small store interface (memory now; SQLite and Redis later)."""

from spimguard.state.base import Store, StoreError
from spimguard.state.memory import MemoryStore

__all__ = ["MemoryStore", "Store", "StoreError"]
