"""The verdict log: every decision the service made, with its signals, for audit.

Trust-and-safety staff must be able to say why a message was blocked (or
let through) weeks later, and a court case needs the record. Each checked
message adds a row: when, which message and sender, the action, the score,
the account action, the campaign and every signal with its detail.

Its own SQLite file (WAL, ``synchronous=NORMAL``), committed once per
request by the service: cheap (no fsync), and a crash of the process loses
nothing committed (a power cut may lose the last moments). Unlike reports
and actions in the ledger, a verdict is not an acknowledgement to anyone,
so it does not wait for the disk. The oldest rows beyond ``max_rows`` are
deleted every ``TRIM_EVERY`` additions.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from spimguard.state.base import StoreError

__all__ = ["VerdictLog"]

TRIM_EVERY = 10_000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS verdicts (
    id INTEGER PRIMARY KEY, ts REAL NOT NULL, message_id TEXT NOT NULL, sender TEXT NOT NULL,
    action TEXT NOT NULL, score REAL NOT NULL, account_action TEXT, campaign TEXT,
    signals TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS verdicts_message ON verdicts(message_id);
CREATE INDEX IF NOT EXISTS verdicts_sender ON verdicts(sender, id);
"""


class VerdictLog:
    def __init__(self, path: str | Path, max_rows: int = 5_000_000) -> None:
        if max_rows < 1:
            raise ValueError("max_rows must be at least 1")
        self.path = str(path)
        self.max_rows = max_rows
        self._lock = threading.Lock()
        self._added = 0
        self._dirty = False
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False,
                                       isolation_level=None, timeout=10.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as e:
            raise StoreError(f"cannot open the verdict log {self.path}: {e}") from e

    def add(self, ts: float, sender: str, verdict: dict[str, Any]) -> None:
        """One verdict in the spec's JSON shape (``Verdict.to_dict()``)."""
        signals = json.dumps(verdict.get("signals", []), ensure_ascii=False)
        row = (ts, verdict["id"], sender, verdict["action"], verdict["score"],
               verdict.get("account_action"), verdict.get("campaign"), signals)
        try:
            with self._lock:
                if not self._dirty:
                    self._db.execute("BEGIN")
                    self._dirty = True
                self._db.execute("INSERT INTO verdicts (ts, message_id, sender, action, score, "
                                 "account_action, campaign, signals) VALUES (?,?,?,?,?,?,?,?)",
                                 row)
                self._added += 1
                if self._added % TRIM_EVERY == 0:
                    self._db.execute("DELETE FROM verdicts WHERE id <= (SELECT MAX(id) FROM "
                                     "verdicts) - ?", (self.max_rows,))
        except sqlite3.Error as e:
            raise StoreError(f"verdict log {self.path}: write failed: {e}") from e

    def flush(self) -> None:
        with self._lock:
            if self._dirty:
                self._dirty = False
                try:
                    self._db.execute("COMMIT")
                except sqlite3.Error as e:
                    raise StoreError(f"verdict log {self.path}: commit failed: {e}") from e

    def query(self, message_id: str | None = None, sender: str | None = None,
              limit: int = 100) -> list[dict[str, Any]]:
        """Newest first; by message id or by sender (or the newest of all)."""
        where, args = "", ()  # type: tuple[str, tuple[Any, ...]]
        if message_id is not None:
            where, args = "WHERE message_id = ?", (message_id,)
        elif sender is not None:
            where, args = "WHERE sender = ?", (sender,)
        self.flush()
        with self._lock:
            rows = self._db.execute(
                f"SELECT ts, message_id, sender, action, score, account_action, campaign, "
                f"signals FROM verdicts {where} ORDER BY id DESC LIMIT ?",
                (*args, limit)).fetchall()
        return [{"ts": r[0], "id": r[1], "sender": r[2], "action": r[3], "score": r[4],
                 "account_action": r[5], "campaign": r[6], "signals": json.loads(r[7])}
                for r in rows]

    def close(self) -> None:
        self.flush()
        with self._lock:
            self._db.close()
