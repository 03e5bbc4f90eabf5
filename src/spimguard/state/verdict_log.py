"""The verdict log: every decision the service made, with its signals, for audit.

Trust-and-safety staff must be able to say why a message was blocked (or
let through) weeks later, and a court case needs the record. Each checked
message adds a row: when, which message and sender, the action, the score,
the account action, the campaign and every signal with its detail.

Its own SQLite file (WAL, ``synchronous=NORMAL``). Rows are written by a
background thread in one transaction every ``FLUSH_EVERY`` seconds (or
``BATCH`` rows): a transaction per check cost a tenth of a check, and
SQLite does its work outside the GIL, so the writer runs beside the request
path on another core. The price: a crash of the process loses the verdicts
of its last ``FLUSH_EVERY`` seconds. Unlike reports and actions in the
ledger, which are durable before they are acknowledged, a verdict is an
answer already given, not a promise to anyone. ``query`` and ``close``
write what is pending first. A failed write (disk full) keeps the rows for
the next attempt, up to ``MAX_PENDING``; beyond that the oldest are dropped
and counted. The oldest rows beyond ``max_rows`` are deleted every
``TRIM_EVERY`` additions.

The writer cannot die silently. A row that cannot be written as it is (a
lone surrogate in a sender name, a value SQLite refuses) is written with its
text repaired, or else quarantined: counted in ``quarantined``, logged, and
never allowed to cost the other rows of its batch. Any other failure is
logged and retried; if the thread stops anyway, the next ``add`` starts a
new one (``restarts``). :meth:`status` says whether the log is healthy, for
``/healthz`` and ``/metrics``.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from spimguard.core.verdicts import Verdict
from spimguard.state.base import StoreError
from spimguard.text.compat import repair_surrogates

__all__ = ["VerdictLog"]

TRIM_EVERY = 10_000
FLUSH_EVERY = 0.05
BATCH = 500
MAX_PENDING = 200_000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS verdicts (
    id INTEGER PRIMARY KEY, ts REAL NOT NULL, message_id TEXT NOT NULL, sender TEXT NOT NULL,
    action TEXT NOT NULL, score REAL NOT NULL, account_action TEXT, campaign TEXT,
    signals TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS verdicts_message ON verdicts(message_id);
CREATE INDEX IF NOT EXISTS verdicts_sender ON verdicts(sender, id);
"""
_INSERT = ("INSERT INTO verdicts (ts, message_id, sender, action, score, account_action, "
           "campaign, signals) VALUES (?,?,?,?,?,?,?,?)")

log = logging.getLogger("spimguard.verdict_log")

Pending = tuple[float, str, "Verdict | Mapping[str, Any]"]


def _row(ts: float, sender: str, verdict: Verdict | Mapping[str, Any]) -> tuple[Any, ...]:
    d = verdict.to_dict() if isinstance(verdict, Verdict) else verdict
    try:
        signals = orjson.dumps(d.get("signals", [])).decode()
    except TypeError:  # a lone surrogate in a detail: stored repaired by the writer
        signals = json.dumps(d.get("signals", []), ensure_ascii=False)
    return (ts, d["id"], sender, d["action"], d["score"], d.get("account_action"),
            d.get("campaign"), signals)


class VerdictLog:
    def __init__(self, path: str | Path, max_rows: int = 5_000_000,
                 flush_every: float = FLUSH_EVERY) -> None:
        if max_rows < 1:
            raise ValueError("max_rows must be at least 1")
        self.path = str(path)
        self.max_rows = max_rows
        self.flush_every = flush_every
        #: Rows dropped because the disk refused them for too long.
        self.dropped = 0
        #: Rows that could not be written even repaired (each logged).
        self.quarantined = 0
        #: Rows written with their text repaired (lone surrogates replaced).
        self.repaired = 0
        #: Times the writer thread had to be started again.
        self.restarts = 0
        self.last_error: str | None = None
        self._added = 0
        self._pending: list[Pending] = []
        self._cond = threading.Condition()
        self._db_lock = threading.Lock()  # one writer or reader of the connection at a time
        self._closed = False
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False,
                                       isolation_level=None, timeout=10.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as e:
            raise StoreError(f"cannot open the verdict log {self.path}: {e}") from e
        self._writer = self._start()

    def _start(self) -> threading.Thread:
        writer = threading.Thread(target=self._run, name="spimguard-verdict-log", daemon=True)
        writer.start()
        return writer

    def status(self) -> dict[str, Any]:
        """Health of the log: ``ok`` false when the writer is failing or far behind."""
        with self._cond:
            pending = len(self._pending)
        alive = self._writer.is_alive() or self._closed
        ok = alive and self.last_error is None and pending < MAX_PENDING // 2
        why = ("writer stopped" if not alive else self.last_error if self.last_error
               else f"{pending} verdicts waiting" if not ok else "")
        return {"ok": ok, "why": why, "pending": pending, "dropped": self.dropped,
                "quarantined": self.quarantined, "repaired": self.repaired,
                "restarts": self.restarts}

    def add(self, ts: float, sender: str, verdict: Verdict | Mapping[str, Any]) -> None:
        """One verdict (a :class:`Verdict` or its spec JSON dict); written within
        ``flush_every`` seconds."""
        with self._cond:
            if self._closed:
                raise StoreError(f"verdict log {self.path} is closed")
            self._pending.append((ts, sender, verdict))
            if len(self._pending) >= BATCH:
                self._cond.notify()
            if not self._writer.is_alive():
                self.restarts += 1
                log.error("verdict log %s: the writer had stopped; starting it again", self.path)
                self._writer = self._start()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._closed or len(self._pending) >= BATCH,
                                    timeout=self.flush_every)
                if self._closed:
                    return
            try:
                self.flush()
            except StoreError as e:
                log.error("%s (kept for the next attempt)", e)
            except Exception:  # a bug must not stop the audit trail for good
                log.exception("verdict log %s: unexpected error in the writer", self.path)

    def flush(self) -> None:
        """Write what is pending now, in one transaction."""
        with self._db_lock:
            with self._cond:
                batch, self._pending = self._pending, []
            if not batch:
                return
            rows = self._rows(batch)
            try:
                self._db.execute("BEGIN")
                try:
                    self._db.executemany(_INSERT, rows)
                except (UnicodeError, ValueError, OverflowError, sqlite3.InterfaceError):
                    rows = self._one_by_one(rows)
                before = self._added
                self._added += len(rows)
                if self._added // TRIM_EVERY != before // TRIM_EVERY:
                    self._db.execute("DELETE FROM verdicts WHERE id <= (SELECT MAX(id) FROM "
                                     "verdicts) - ?", (self.max_rows,))
                self._db.execute("COMMIT")
                self.last_error = None
            except sqlite3.Error as e:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                self._keep(batch)
                self.last_error = str(e)
                raise StoreError(f"verdict log {self.path}: write failed: {e}") from e

    def _rows(self, batch: list[Pending]) -> list[tuple[Any, ...]]:
        rows = []
        for p in batch:
            try:
                rows.append(_row(*p))
            except Exception as e:  # a malformed verdict dict: that row only
                self._quarantine(p, e)
        return rows

    def _one_by_one(self, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Inside the open transaction: each row alone, repaired if it must be."""
        written = []
        for row in rows:
            for attempt in (row, _repaired(row)):
                try:
                    self._db.execute(_INSERT, attempt)
                except (UnicodeError, ValueError, OverflowError, sqlite3.InterfaceError):
                    continue
                written.append(attempt)
                if attempt is not row:
                    self.repaired += 1
                break
            else:
                self._quarantine(row, ValueError("cannot be stored"))
        return written

    def _quarantine(self, row: object, error: Exception) -> None:
        self.quarantined += 1
        log.error("verdict log %s: quarantined a row that cannot be written (%s: %s): %.200r",
                  self.path, type(error).__name__, error, row)

    def _keep(self, batch: list[Pending]) -> None:
        with self._cond:
            self._pending[:0] = batch
            excess = len(self._pending) - MAX_PENDING
            if excess > 0:
                del self._pending[:excess]
                self.dropped += excess
                log.error("verdict log %s: dropped the %d oldest unwritten verdicts",
                          self.path, excess)

    def query(self, message_id: str | None = None, sender: str | None = None,
              limit: int = 100) -> list[dict[str, Any]]:
        """Newest first; by message id or by sender (or the newest of all)."""
        where, args = "", ()  # type: tuple[str, tuple[Any, ...]]
        if message_id is not None:
            where, args = "WHERE message_id = ?", (message_id,)
        elif sender is not None:
            where, args = "WHERE sender = ?", (sender,)
        self.flush()
        with self._db_lock:
            rows = self._db.execute(
                f"SELECT ts, message_id, sender, action, score, account_action, campaign, "
                f"signals FROM verdicts {where} ORDER BY id DESC LIMIT ?",
                (*args, limit)).fetchall()
        return [{"ts": r[0], "id": r[1], "sender": r[2], "action": r[3], "score": r[4],
                 "account_action": r[5], "campaign": r[6], "signals": orjson.loads(r[7])}
                for r in rows]

    def close(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify()
        self._writer.join(timeout=10)
        try:
            self.flush()
        finally:
            with self._db_lock:
                self._db.close()


def _repaired(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """The row with every string made valid UTF-8 (lone surrogates become U+FFFD)."""
    return tuple(repair_surrogates(v) if isinstance(v, str) else v for v in row)
