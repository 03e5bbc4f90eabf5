"""The campaign fact log in a SQLite file: campaigns that survive a restart.

Campaign state is built by applying facts in order (see
:mod:`spimguard.campaigns.replicated`). With a Redis stream that order is
shared by workers on many machines; with this table it is shared by the
workers of one machine and, above all, kept on disk: a service restarted on
the same data folder replays the log and has the campaigns it had, with the
same ids, before it answers the first message.

Same interface as :class:`~spimguard.campaigns.replicated.CampaignLog`.
Each append is its own commit (WAL, ``synchronous=NORMAL``: a power cut may
lose the last facts, a process crash does not). The table keeps the newest
``maxlen`` facts; a restart replays at ~0.2-0.5 ms a fact, so the default
200,000 is under two minutes in the worst case. A separate file from the
state store: that one batches its commits and holds SQLite's write lock
between them, which an append here must never wait for.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

__all__ = ["SqliteCampaignLog", "log_path_for"]

DEFAULT_MAXLEN = 200_000
READ_BATCH = 1000
#: Appends between two trims of the oldest facts.
TRIM_EVERY = 1000


def log_path_for(state_path: str | Path) -> Path:
    """``state.sqlite`` -> ``state.campaigns.sqlite`` (next to the state file)."""
    p = Path(state_path)
    return p.with_name(p.stem + ".campaigns" + (p.suffix or ".sqlite"))


class SqliteCampaignLog:
    def __init__(self, path: str | Path, *, maxlen: int = DEFAULT_MAXLEN,
                 batch: int = READ_BATCH) -> None:
        if maxlen < 1 or batch < 1:
            raise ValueError("maxlen and batch must be at least 1")
        self.key = str(path)
        self.maxlen = maxlen
        self.batch = batch
        self.last_id = "0"
        self.malformed = 0
        self.more = False
        self._appends = 0
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.key, check_same_thread=False, isolation_level=None,
                                   timeout=10.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS facts (id INTEGER PRIMARY KEY "
                         "AUTOINCREMENT, fact TEXT NOT NULL)")

    def __repr__(self) -> str:
        return f"SqliteCampaignLog({self.key!r}, last_id={self.last_id!r})"

    def append(self, fact: dict[str, Any]) -> str:
        text = json.dumps(fact, ensure_ascii=False, separators=(",", ":"))
        with self._lock:
            cur = self._db.execute("INSERT INTO facts (fact) VALUES (?)", (text,))
            self._appends += 1
            if self._appends % TRIM_EVERY == 0:
                self._db.execute("DELETE FROM facts WHERE id <= ?",
                                 (int(cur.lastrowid or 0) - self.maxlen,))
            return str(cur.lastrowid)

    def append_and_read(self, fact: dict[str, Any]
                        ) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
        added = self.append(fact)
        return added, self.read_new()

    def read_new(self, block_ms: int = 0) -> list[tuple[str, dict[str, Any]]]:
        """Facts after :attr:`last_id`, oldest first, at most ``batch`` (never blocks)."""
        with self._lock:
            rows = self._db.execute("SELECT id, fact FROM facts WHERE id > ? ORDER BY id "
                                    "LIMIT ?", (int(self.last_id), self.batch)).fetchall()
        out: list[tuple[str, dict[str, Any]]] = []
        for rid, text in rows:
            self.last_id = str(rid)
            try:
                fact = json.loads(text)
            except json.JSONDecodeError:
                fact = None
            if not isinstance(fact, dict):
                self.malformed += 1
                continue
            out.append((str(rid), fact))
        self.more = len(rows) >= self.batch
        return out

    def length(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM facts").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
