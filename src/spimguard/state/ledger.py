"""The ledger: what must never be lost, in SQLite, written before it is acknowledged.

Behaviour state is a cache of evidence and may lose its last writes in a
crash; reports, account actions and API keys may not. The service writes
them here with ``synchronous=FULL`` (each insert is on disk when the call
returns) and only then answers 200, so a report or a lock that a client saw
acknowledged survives ``kill -9``. On start the service re-applies the
standing account actions from here to the engine's store.

API keys are stored as SHA-256 of their secret part: the secret is 32 random
bytes, so a plain hash is enough (no password stretching needed), and the
database alone never lets anyone call the API.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spimguard.state.base import StoreError

__all__ = ["SCOPES", "ApiKey", "Ledger", "LedgerError"]

#: ``check``: integrations sending messages, events and user reports;
#: ``admin``: moderators' reports, unlocks, takedowns, lists.
SCOPES = ("check", "admin")
_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    id INTEGER PRIMARY KEY, ts REAL NOT NULL, reporter TEXT NOT NULL,
    message_id TEXT NOT NULL, label TEXT NOT NULL, moderator INTEGER NOT NULL,
    received REAL NOT NULL);
CREATE TABLE IF NOT EXISTS actions (
    id INTEGER PRIMARY KEY, ts REAL NOT NULL, user TEXT NOT NULL, action TEXT NOT NULL,
    reason TEXT NOT NULL, received REAL NOT NULL);
CREATE INDEX IF NOT EXISTS actions_user ON actions(user, id);
CREATE TABLE IF NOT EXISTS examples (
    id INTEGER PRIMARY KEY, message_id TEXT NOT NULL UNIQUE, text TEXT NOT NULL,
    spam INTEGER NOT NULL, source TEXT NOT NULL, received REAL NOT NULL);
CREATE TABLE IF NOT EXISTS model_versions (
    version INTEGER PRIMARY KEY, created REAL NOT NULL, examples INTEGER NOT NULL,
    note TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS model_checks (
    version INTEGER PRIMARY KEY, ok INTEGER NOT NULL, reason TEXT NOT NULL,
    figures TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS model_active (
    id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER);
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY, secret_sha256 TEXT NOT NULL, name TEXT NOT NULL,
    scopes TEXT NOT NULL, created REAL NOT NULL, revoked REAL);
"""


class LedgerError(StoreError):
    """The ledger could not be read or written (the caller must not acknowledge)."""


@dataclass(frozen=True, slots=True)
class ApiKey:
    key_id: str
    name: str
    scopes: tuple[str, ...]
    created: float
    revoked: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"key_id": self.key_id, "name": self.name, "scopes": list(self.scopes),
                "created": self.created, "revoked": self.revoked}


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


class Ledger:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False,
                                       isolation_level=None, timeout=10.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > _VERSION:
                raise LedgerError(f"{self.path}: ledger version {version} is newer than this "
                                  f"spimguard ({_VERSION}); upgrade spimguard")
            self._db.executescript(_SCHEMA)
            self._db.execute(f"PRAGMA user_version={_VERSION}")
        except sqlite3.Error as e:
            raise LedgerError(f"cannot open the ledger {self.path}: {e}") from e

    def _write(self, sql: str, args: tuple[Any, ...]) -> int:
        try:
            with self._lock:
                cur = self._db.execute(sql, args)  # autocommit: durable on return
                return int(cur.lastrowid or 0)
        except sqlite3.Error as e:
            raise LedgerError(f"ledger {self.path}: write failed: {e}") from e

    def _read(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            with self._lock:
                return list(self._db.execute(sql, args).fetchall())
        except sqlite3.Error as e:
            raise LedgerError(f"ledger {self.path}: read failed: {e}") from e

    # -- reports and actions ---------------------------------------------------

    def add_report(self, ts: float, reporter: str, message_id: str, label: str,
                   moderator: bool) -> int:
        return self._write("INSERT INTO reports (ts, reporter, message_id, label, moderator, "
                           "received) VALUES (?, ?, ?, ?, ?, ?)",
                           (ts, reporter, message_id, label, int(moderator), time.time()))

    def reports(self, limit: int = 100, message_id: str | None = None) -> list[dict[str, Any]]:
        where, args = ("WHERE message_id = ?", (message_id,)) if message_id else ("", ())
        rows = self._read(f"SELECT id, ts, reporter, message_id, label, moderator FROM reports "
                          f"{where} ORDER BY id DESC LIMIT ?", (*args, limit))
        return [{"id": r[0], "ts": r[1], "reporter": r[2], "message_id": r[3], "label": r[4],
                 "moderator": bool(r[5])} for r in rows]

    def add_action(self, ts: float, user: str, action: str, reason: str) -> int:
        """Record ``challenge``, ``lock`` or ``unlock`` for ``user``, or
        ``session-challenge`` (one of its sessions; the reason names it)."""
        return self._write("INSERT INTO actions (ts, user, action, reason, received) "
                           "VALUES (?, ?, ?, ?, ?)", (ts, user, action, reason, time.time()))

    def actions(self, user: str, limit: int = 50) -> list[dict[str, Any]]:
        rows = self._read("SELECT id, ts, action, reason FROM actions WHERE user = ? "
                          "ORDER BY id DESC LIMIT ?", (user, limit))
        return [{"id": r[0], "ts": r[1], "action": r[2], "reason": r[3]} for r in rows]

    def standing_actions(self) -> dict[str, tuple[str, float]]:
        """User -> (challenge or lock, since when) for accounts not unlocked since."""
        rows = self._read("SELECT user, action, ts FROM actions WHERE id IN "
                          "(SELECT MAX(id) FROM actions WHERE action IN "
                          "('challenge', 'lock', 'unlock') GROUP BY user)")
        return {u: (a, ts) for u, a, ts in rows if a != "unlock"}

    def actions_after(self, after_id: int) -> list[tuple[int, str, str]]:
        """(id, user, action) of every action recorded after ``after_id``, oldest first:
        how each worker follows the locks and unlocks of the others."""
        return [(int(i), u, a) for i, u, a in self._read(
            "SELECT id, user, action FROM actions WHERE id > ? ORDER BY id", (after_id,))]

    def counts(self) -> dict[str, int]:
        return {t: int(self._read(f"SELECT COUNT(*) FROM {t}")[0][0])
                for t in ("reports", "actions", "examples")}

    # -- learning -----------------------------------------------------------------

    def add_example(self, message_id: str, text: str, spam: bool, source: str) -> bool:
        """A labelled text for the next retrain; a later label of the same message wins."""
        self._write("INSERT INTO examples (message_id, text, spam, source, received) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT(message_id) DO UPDATE SET "
                    "spam = excluded.spam, source = excluded.source",
                    (message_id, text, int(spam), source, time.time()))
        return True

    def examples(self) -> list[tuple[str, bool]]:
        return [(t, bool(s)) for t, s in self._read("SELECT text, spam FROM examples ORDER BY id")]

    def add_model_version(self, examples: int, note: str) -> int:
        """A new version number (its file is named after it by the caller)."""
        return self._write("INSERT INTO model_versions (created, examples, note) "
                           "VALUES (?, ?, ?)", (time.time(), examples, note))

    def model_versions(self) -> list[dict[str, Any]]:
        """Every version with its guard-rail check (``None`` for versions made before it)."""
        rows = self._read("SELECT v.version, v.created, v.examples, v.note, c.ok, c.reason, "
                          "c.figures FROM model_versions v LEFT JOIN model_checks c "
                          "ON c.version = v.version ORDER BY v.version")
        return [{"version": r[0], "created": r[1], "examples": r[2], "note": r[3],
                 "validation": None if r[4] is None else {
                     "ok": bool(r[4]), "reason": r[5], "figures": json.loads(r[6])}}
                for r in rows]

    def add_model_check(self, version: int, ok: bool, reason: str,
                        figures: dict[str, Any]) -> None:
        self._write("INSERT OR REPLACE INTO model_checks (version, ok, reason, figures) "
                    "VALUES (?, ?, ?, ?)", (version, int(ok), reason, json.dumps(figures)))

    def active_model(self) -> int | None:
        """The model version in use (None: the shipped model)."""
        rows = self._read("SELECT version FROM model_active WHERE id = 1")
        return None if not rows else rows[0][0]

    def set_active_model(self, version: int | None) -> None:
        self._write("INSERT INTO model_active (id, version) VALUES (1, ?) ON CONFLICT(id) "
                    "DO UPDATE SET version = excluded.version", (version,))

    # -- API keys ---------------------------------------------------------------

    def create_key(self, name: str, scopes: Iterable[str]) -> tuple[ApiKey, str]:
        """A new key and its token (shown once: only its hash is kept)."""
        wanted = tuple(dict.fromkeys(scopes))
        bad = [s for s in wanted if s not in SCOPES]
        if bad or not wanted:
            raise ValueError(f"scopes must be some of {', '.join(SCOPES)}; got {list(wanted)}")
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        created = time.time()
        self._write("INSERT INTO api_keys (key_id, secret_sha256, name, scopes, created) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (key_id, _digest(secret), name, json.dumps(list(wanted)), created))
        return ApiKey(key_id, name, wanted, created, None), f"sg_{key_id}_{secret}"

    def keys(self) -> list[ApiKey]:
        rows = self._read("SELECT key_id, name, scopes, created, revoked FROM api_keys "
                          "ORDER BY created")
        return [ApiKey(r[0], r[1], tuple(json.loads(r[2])), r[3], r[4]) for r in rows]

    def revoke_key(self, key_id: str) -> bool:
        try:
            with self._lock:
                cur = self._db.execute("UPDATE api_keys SET revoked = ? WHERE key_id = ? AND "
                                       "revoked IS NULL", (time.time(), key_id))
                return cur.rowcount > 0
        except sqlite3.Error as e:
            raise LedgerError(f"ledger {self.path}: write failed: {e}") from e

    def authenticate(self, token: str) -> ApiKey | None:
        """The live key a bearer token belongs to, or None (never raises on bad tokens)."""
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != "sg" or not parts[1] or not parts[2]:
            return None
        rows = self._read("SELECT key_id, secret_sha256, name, scopes, created, revoked FROM "
                          "api_keys WHERE key_id = ?", (parts[1],))
        if not rows:
            return None
        key_id, digest, name, scopes, created, revoked = rows[0]
        if revoked is not None or not hmac.compare_digest(digest, _digest(parts[2])):
            return None
        return ApiKey(key_id, name, tuple(json.loads(scopes)), created, revoked)

    def close(self) -> None:
        with self._lock:
            self._db.close()
