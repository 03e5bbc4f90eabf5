"""State behind one small store interface: memory, SQLite (one machine) or Redis (several).

``open_store("memory" | "sqlite:PATH" | "redis://...")`` picks one by name;
values are bytes or JSON (``codec``), so every backend holds the same bytes.
"""

from spimguard.state.base import Store, StoreError
from spimguard.state.memory import MemoryStore
from spimguard.state.open import open_store
from spimguard.state.sqlite import SqliteStore

__all__ = ["MemoryStore", "SqliteStore", "Store", "StoreError", "open_store"]
