"""SQLite store: behaviour state that survives a restart and is shared by processes.

Same contract as :class:`~spimguard.state.memory.MemoryStore` (logical time,
expiry at ``expires <= now``, counters that keep a live key's expiry), with
values stored as the exact bytes of :mod:`spimguard.state.codec`, so a row
written here reads back identically in any other backend.

Durability is a choice, because the state is a cache of evidence, not a ledger:

* default (``durable=False``): writes are grouped, one commit every
  ``commit_every`` writes (and on :meth:`SqliteStore.flush` and close), with
  ``synchronous=NORMAL``. A crash of the process loses the uncommitted
  writes, at most the last ``commit_every``; a power loss or OS crash may also
  lose the last commits (WAL with NORMAL syncs at checkpoints only).
  Uncommitted writes are invisible to other connections, and the open write
  transaction holds SQLite's single writer lock, so several *processes*
  sharing one file should use ``commit_every=1`` (cheap in WAL mode) or
  ``durable=True``, or call ``flush()`` when idle: otherwise a process that
  goes quiet mid-batch blocks the others' writes until ``timeout``, and they
  fail with :class:`StoreError`.
* ``durable=True``: every write is committed before the call returns, with
  ``synchronous=FULL`` (on disk, not only in the OS cache), for callers who
  acknowledge an event only once it is stored. Costs an fsync per write.

Never-expiring rows store ``expires = +inf`` (SQLite keeps IEEE infinity as a
REAL), so every lookup is the one comparison ``expires > now``. Expired rows
are not deleted on read (a read stays a read). There is no index on
``expires``: it would cost every write about 40% (measured at 200k keys), and
the state is written on every message. Instead, every ``sweep_every`` writes
an automatic sweep scans the next ``SWEEP_ROWS`` rowids for expired rows (a
bounded pause of a few tens of ms, where a whole-table scan at 5 M rows takes
seconds), walking the whole table over successive sweeps, and enforces
``max_keys``. ``max_keys`` is therefore a soft bound: the table may hold up
to ``sweep_every`` rows more between sweeps. :meth:`SqliteStore.sweep` does a
full pass on demand (for a maintenance job, not the message path).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from spimguard.state.base import StoreError
from spimguard.state.codec import decode, encode

__all__ = ["SCHEMA_VERSION", "SqliteStore"]

log = logging.getLogger("spimguard.state")

#: ``PRAGMA user_version`` of the files this code writes; a newer file is refused.
SCHEMA_VERSION = 1

_NEVER = float("inf")
#: Damaged keys remembered so each is logged once; past this many, newly
#: damaged keys still read as absent but are not logged (bounded memory).
_MAX_DAMAGED_LOGGED = 10_000

_SCHEMA = ("CREATE TABLE IF NOT EXISTS kv ("
           "key TEXT PRIMARY KEY, value BLOB NOT NULL, expires REAL NOT NULL)")
_GET = "SELECT value FROM kv WHERE key = ? AND expires > ?"
_GET_ROW = "SELECT value, expires FROM kv WHERE key = ? AND expires > ?"
# An UPSERT, not INSERT OR REPLACE: the row keeps its rowid (its age for
# eviction), as a dict keeps a key's insertion position on assignment.
_PUT = ("INSERT INTO kv (key, value, expires) VALUES (?, ?, ?) ON CONFLICT (key) "
        "DO UPDATE SET value = excluded.value, expires = excluded.expires")
_DELETE = "DELETE FROM kv WHERE key = ?"
_SWEEP = "DELETE FROM kv WHERE expires <= ?"
_SWEEP_RANGE = "DELETE FROM kv WHERE rowid > ? AND rowid <= ? AND expires <= ?"
# Two subqueries: each min()/max() alone is a B-tree edge lookup, together a scan.
_SPAN = "SELECT (SELECT min(rowid) FROM kv), (SELECT max(rowid) FROM kv)"
_COUNT = "SELECT COUNT(*) FROM kv"
_EVICT = "DELETE FROM kv WHERE rowid IN (SELECT rowid FROM kv ORDER BY rowid LIMIT ?)"

_Key = str | bytes


class SqliteStore:
    """The :class:`~spimguard.state.base.Store` on one SQLite file (or ``":memory:"``).

    One connection, guarded by a lock, so the store can be shared by the
    threads of one process (the HTTP service's threadpool); processes each
    open their own ``SqliteStore`` on the same file. Driver errors become
    :class:`StoreError` naming the file and the operation.

    A key that is not valid Unicode text (a lone surrogate, which broken JSON
    can put in a user id) is stored as its ``surrogatepass`` UTF-8 bytes, a
    BLOB, which never equals any TEXT key, so it cannot collide with one.
    """

    SCHEME = "sqlite"
    #: Rowids an automatic sweep scans (about 40 ms at 200-byte rows).
    SWEEP_ROWS = 100_000

    def __init__(
        self,
        path: str | Path,
        *,
        max_keys: int = 5_000_000,
        durable: bool = False,
        commit_every: int = 200,
        sweep_every: int = 10_000,
        timeout: float = 5.0,
        cache_mb: int = 64,
    ) -> None:
        if max_keys < 1 or commit_every < 1 or sweep_every < 1:
            raise ValueError("max_keys, commit_every and sweep_every must be at least 1")
        self.path = str(path)
        self.durable = durable
        self._max = max_keys
        self._commit_every = 1 if durable else commit_every
        self._sweep_every = sweep_every
        self._pending = 0  # writes in the open transaction
        self._since_sweep = 0
        self._sweep_from = 0  # rowid where the next automatic sweep starts
        self._damaged: set[_Key] = set()
        self._lock = threading.Lock()
        self._closed = False
        try:
            self._conn = _connect(self.path, durable, timeout, cache_mb)
        except sqlite3.Error as e:
            raise self._error("open", e) from e
        self._cur = self._conn.cursor()

    # -- the Store protocol ----------------------------------------------------

    def get(self, key: str, now: float) -> Any | None:
        try:
            return self._get(key, now)
        except UnicodeEncodeError:
            return self._get(_blob(key), now)

    def set(self, key: str, value: Any, now: float, ttl: float | None = None) -> None:
        raw = encode(value)  # TypeError here: nothing is written
        expires = _NEVER if ttl is None else now + ttl
        try:
            self._put(key, raw, expires, now)
        except UnicodeEncodeError:
            self._put(_blob(key), raw, expires, now)

    def delete(self, key: str) -> None:
        try:
            self._delete(key)
        except UnicodeEncodeError:
            self._delete(_blob(key))

    def incr(self, key: str, amount: float, now: float, ttl: float | None = None) -> float:
        """Atomic across threads and processes: the read and the write share one
        write transaction (SQLite's writer lock), so no increment is lost."""
        try:
            return self._incr(key, amount, now, ttl)
        except UnicodeEncodeError:
            return self._incr(_blob(key), amount, now, ttl)

    def ping(self) -> bool:
        with self._lock:
            try:
                self._cur.execute("SELECT 1").fetchone()
            except sqlite3.Error:
                return False
            return True

    # -- beyond the protocol ---------------------------------------------------

    def get_many(self, keys: list[str], now: float) -> list[Any | None]:
        """Values of ``keys`` in order (None for absent or expired), under one lock
        acquisition: fewer lock round trips, and no write from another thread of
        this process lands between two of the reads."""
        with self._lock:
            try:
                rows = [self._fetch(k, now) for k in keys]
            except sqlite3.Error as e:
                raise self._error("get_many", e) from e
            return [None if row is None else self._decode(k, row[0])
                    for k, row in zip(keys, rows, strict=True)]

    def sweep(self, now: float) -> int:
        """Delete every row expired at ``now``, then the oldest rows past ``max_keys``.

        Returns the number of rows removed. Scans the whole table, under the
        lock: seconds at millions of rows, so the message path only ever runs
        the bounded automatic sweep.
        """
        with self._lock:
            try:
                self._begin()
                removed = max(self._cur.execute(_SWEEP, (now,)).rowcount, 0)
                removed += self._evict()
                self._wrote()
            except sqlite3.Error as e:
                raise self._error("sweep", e) from e
        return removed

    def flush(self) -> None:
        """Commit the pending writes: on return they are visible to other
        connections and survive a crash of this process (a power loss too only
        with ``durable=True``)."""
        with self._lock:
            try:
                self._commit()
            except sqlite3.Error as e:
                raise self._error("flush", e) from e

    def close(self) -> None:
        """Flush and close; idempotent. Later calls raise :class:`StoreError`."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._commit()
            except sqlite3.Error as e:
                raise self._error("close", e) from e
            finally:
                self._conn.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __len__(self) -> int:
        """Rows in the table: live keys plus expired ones not yet swept."""
        with self._lock:
            try:
                row = self._cur.execute(_COUNT).fetchone()
            except sqlite3.Error as e:
                raise self._error("count", e) from e
        return int(row[0])

    def __repr__(self) -> str:
        return f"SqliteStore({self.path!r}, durable={self.durable})"

    # -- internals -------------------------------------------------------------

    def _get(self, key: _Key, now: float) -> Any | None:
        with self._lock:
            try:
                row = self._cur.execute(_GET, (key, now)).fetchone()
            except sqlite3.Error as e:
                raise self._error("get", e) from e
            return None if row is None else self._decode(key, row[0])

    def _fetch(self, key: str, now: float) -> Any:
        try:
            return self._cur.execute(_GET, (key, now)).fetchone()
        except UnicodeEncodeError:
            return self._cur.execute(_GET, (_blob(key), now)).fetchone()

    def _put(self, key: _Key, raw: bytes, expires: float, now: float) -> None:
        with self._lock:
            try:
                self._begin()
                self._cur.execute(_PUT, (key, raw, expires))
                self._wrote(now)
            except sqlite3.Error as e:
                raise self._error("set", e) from e

    def _delete(self, key: _Key) -> None:
        with self._lock:
            try:
                self._begin()
                self._cur.execute(_DELETE, (key,))
                self._wrote()
            except sqlite3.Error as e:
                raise self._error("delete", e) from e

    def _incr(self, key: _Key, amount: float, now: float, ttl: float | None) -> float:
        with self._lock:
            try:
                self._begin()
                try:
                    row = self._cur.execute(_GET_ROW, (key, now)).fetchone()
                    current = None if row is None else self._decode(key, row[0])
                    value = (current or 0.0) + amount  # TypeError on a non-number, as in memory
                    if current is not None:
                        expires = row[1]
                    else:
                        expires = _NEVER if ttl is None else now + ttl
                    self._cur.execute(_PUT, (key, encode(value), expires))
                except (TypeError, UnicodeEncodeError):
                    if self._pending == 0:  # release the writer lock taken for nothing
                        self._cur.execute("ROLLBACK")
                    raise
                self._wrote(now)
            except sqlite3.Error as e:
                raise self._error("incr", e) from e
        return float(value)

    def _begin(self) -> None:
        # IMMEDIATE takes the writer lock up front (waiting up to ``timeout``),
        # so a read-modify-write inside the transaction is atomic.
        if not self._conn.in_transaction:
            self._cur.execute("BEGIN IMMEDIATE")

    def _wrote(self, now: float | None = None) -> None:
        self._pending += 1
        if now is not None:
            self._since_sweep += 1
            if self._since_sweep >= self._sweep_every:
                self._auto_sweep(now)
        if self._pending >= self._commit_every:
            self._commit()

    def _commit(self) -> None:
        if self._conn.in_transaction:
            self._cur.execute("COMMIT")
        self._pending = 0

    def _auto_sweep(self, now: float) -> None:
        self._since_sweep = 0
        lo, hi = self._cur.execute(_SPAN).fetchone()
        if lo is None:
            return
        start = self._sweep_from if lo <= self._sweep_from < hi else lo - 1
        end = start + self.SWEEP_ROWS
        self._cur.execute(_SWEEP_RANGE, (start, end, now))
        self._sweep_from = end  # past ``hi``: the next sweep starts over
        if hi - lo + 1 > self._max:  # rowid span >= row count: COUNT only when it may be over
            self._evict()

    def _evict(self) -> int:
        excess = int(self._cur.execute(_COUNT).fetchone()[0]) - self._max
        if excess <= 0:
            return 0
        return max(self._cur.execute(_EVICT, (excess,)).rowcount, 0)

    def _decode(self, key: _Key, raw: bytes) -> Any | None:
        """Damage reads as absent: the evidence is lost, the message still flows."""
        try:
            return decode(raw)
        except ValueError as e:
            if key not in self._damaged and len(self._damaged) < _MAX_DAMAGED_LOGGED:
                self._damaged.add(key)
                log.warning("sqlite store %s: damaged value for key %r read as absent: %s",
                            self.path, key, e)
            return None

    def _error(self, op: str, e: sqlite3.Error) -> StoreError:
        return StoreError(f"sqlite store {self.path!r}: {op} failed: {e}")


def _connect(path: str, durable: bool, timeout: float, cache_mb: int) -> sqlite3.Connection:
    """Open, check the schema version, switch to WAL and create the table.

    The version is read before anything is changed, so a file from a newer
    spimguard is left exactly as it was.
    """
    # isolation_level=None: the store issues BEGIN/COMMIT itself (write-behind).
    conn = sqlite3.connect(path, timeout=timeout, isolation_level=None,
                           check_same_thread=False)
    try:
        version = _user_version(conn)
        if version > SCHEMA_VERSION:
            raise StoreError(f"sqlite store {path!r}: schema version {version} is newer "
                             f"than this spimguard supports ({SCHEMA_VERSION})")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        # Page cache per connection, used as it fills: the default 2 MB is
        # outgrown by a few thousand accounts' profiles (+25% writes at 200k keys).
        conn.execute(f"PRAGMA cache_size={-int(cache_mb) * 1024}")
        if version < SCHEMA_VERSION:
            conn.execute("BEGIN IMMEDIATE")  # another process may be creating it too
            if _user_version(conn) < SCHEMA_VERSION:
                conn.execute(_SCHEMA)
                conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            conn.execute("COMMIT")
    except BaseException:
        conn.close()
        raise
    return conn


def _user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _blob(key: str) -> bytes:
    return key.encode("utf-8", "surrogatepass")
