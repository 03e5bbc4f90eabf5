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

Rows read or written are remembered (their raw bytes, ``CACHE_ROWS`` at
most) and served from memory while no other connection has committed:
``PRAGMA data_version`` changes exactly when another connection (another
worker) commits, so the first read after that drops the copy. One worker
alone reads SQLite only for rows it has not seen; several workers writing
all the time gain little, and lose nothing but that one pragma per read.
The engine reads and writes a message's keys in one call each
(``batched``: it wraps the store in :class:`~spimguard.state.batch.BatchedStore`).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from spimguard.state.base import StoreError
from spimguard.state.batch import Write
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
_GET = "SELECT value, expires FROM kv WHERE key = ?"
_GET_IN = "SELECT key, value, expires FROM kv WHERE key IN ({})"
_VERSION = "PRAGMA data_version"
#: Keys per ``IN (...)`` query (SQLite allows at least 999 parameters).
_IN_CHUNK = 500
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
    #: Rows remembered in memory (raw bytes; see the module docstring): the keys of a few
    #: thousand active accounts, ~13 MB at the bound (measured with 420-byte profiles;
    #: 100,000 rows were 65 MB).
    CACHE_ROWS = 20_000
    #: The engine batches a message's reads and writes for this store.
    batched = True

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
        #: key -> (raw value or None when absent, expires), valid at ``_version``
        self._rows: dict[str, tuple[bytes | None, float]] = {}
        self._version: int | None = None
        self._lock = threading.Lock()
        self._closed = False
        try:
            self._conn = _connect(self.path, durable, timeout, cache_mb)
        except sqlite3.Error as e:
            raise self._error("open", e) from e
        self._cur = self._conn.cursor()

    # -- the Store protocol ----------------------------------------------------

    def get(self, key: str, now: float) -> Any | None:
        with self._lock:
            try:
                self._refresh()
                raw, expires = self._row(key)
            except sqlite3.Error as e:
                raise self._error("get", e) from e
            return None if raw is None or expires <= now else self._decode(key, raw)

    def set(self, key: str, value: Any, now: float, ttl: float | None = None) -> None:
        raw = encode(value)  # TypeError here: nothing is written
        self._put(key, raw, _NEVER if ttl is None else now + ttl, now)

    def delete(self, key: str) -> None:
        self._delete(key)

    def incr(self, key: str, amount: float, now: float, ttl: float | None = None) -> float:
        """Atomic across threads and processes: the read and the write share one
        write transaction (SQLite's writer lock), so no increment is lost."""
        return self._incr(key, amount, now, ttl)

    def ping(self) -> bool:
        with self._lock:
            try:
                self._cur.execute("SELECT 1").fetchone()
            except sqlite3.Error:
                return False
            return True

    # -- beyond the protocol ---------------------------------------------------

    def get_many(self, keys: list[str], now: float) -> list[Any | None]:
        """Values of ``keys`` in order (None for absent or expired): rows not in memory
        are fetched in one query, and no write of another thread of this process
        lands between two of the reads."""
        with self._lock:
            try:
                self._refresh()
                missing = [k for k in dict.fromkeys(keys) if k not in self._rows]
                for i in range(0, len(missing), _IN_CHUNK):
                    self._fetch_many(missing[i:i + _IN_CHUNK])
                rows = [self._rows.get(k) or self._row(k) for k in keys]
            except sqlite3.Error as e:
                raise self._error("get_many", e) from e
            return [None if raw is None or expires <= now else self._decode(k, raw)
                    for k, (raw, expires) in zip(keys, rows, strict=True)]

    def write_many(self, writes: list[Write]) -> None:
        """Writes in order, in the open transaction, under one lock acquisition."""
        with self._lock:
            try:
                self._begin()
                last = None
                for op, key, value, now, ttl in writes:
                    if op == "set":
                        raw = encode(value)
                        expires = _NEVER if ttl is None else now + ttl
                        self._execute(_PUT, key, raw, expires)
                        self._remember(key, raw, expires)
                        last = now
                    else:
                        self._execute(_DELETE, key)
                        self._remember(key, None, _NEVER)
                self._pending += len(writes) - 1
                self._wrote(last)
            except sqlite3.Error as e:
                raise self._error("write_many", e) from e

    def sweep(self, now: float) -> int:
        """Delete every row expired at ``now``, then the oldest rows past ``max_keys``.

        Returns the number of rows removed. Scans the whole table, under the
        lock: seconds at millions of rows, so the message path only ever runs
        the bounded automatic sweep.
        """
        with self._lock:
            try:
                self._begin()
                self._rows.clear()
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

    def _refresh(self) -> None:
        """Forget the remembered rows if another connection committed since."""
        version = self._cur.execute(_VERSION).fetchone()[0]
        if version != self._version:
            self._rows.clear()
            self._version = version

    def _remember(self, key: str, raw: bytes | None, expires: float) -> None:
        rows = self._rows
        if len(rows) >= self.CACHE_ROWS and key not in rows:
            del rows[next(iter(rows))]  # the oldest remembered
        rows[key] = (raw, expires)

    def _row(self, key: str) -> tuple[bytes | None, float]:
        """(raw, expires) from memory, else from the file (then remembered)."""
        hit = self._rows.get(key)
        if hit is not None:
            return hit
        found = self._execute(_GET, key).fetchone()
        row = (None, _NEVER) if found is None else (bytes(found[0]), float(found[1]))
        self._remember(key, *row)
        return row

    def _fetch_many(self, keys: list[str]) -> None:
        try:
            found = self._cur.execute(_GET_IN.format(",".join("?" * len(keys))),
                                      keys).fetchall()
        except UnicodeEncodeError:  # a key with a lone surrogate: one by one
            for k in keys:
                self._row(k)
            return
        for k in keys:
            self._remember(k, None, _NEVER)
        for k, raw, expires in found:
            self._remember(k, bytes(raw), float(expires))

    def _execute(self, sql: str, key: str, *args: Any) -> sqlite3.Cursor:
        try:
            return self._cur.execute(sql, (key, *args))
        except UnicodeEncodeError:
            return self._cur.execute(sql, (_blob(key), *args))

    def _put(self, key: str, raw: bytes, expires: float, now: float) -> None:
        with self._lock:
            try:
                self._begin()
                self._execute(_PUT, key, raw, expires)
                self._remember(key, raw, expires)
                self._wrote(now)
            except sqlite3.Error as e:
                raise self._error("set", e) from e

    def _delete(self, key: str) -> None:
        with self._lock:
            try:
                self._begin()
                self._execute(_DELETE, key)
                self._remember(key, None, _NEVER)
                self._wrote()
            except sqlite3.Error as e:
                raise self._error("delete", e) from e

    def _incr(self, key: str, amount: float, now: float, ttl: float | None) -> float:
        with self._lock:
            try:
                self._begin()
                self._refresh()  # under the writer lock: what we read is the latest
                try:
                    raw, expires = self._row(key)
                    live = raw is not None and expires > now
                    current = self._decode(key, raw) if live and raw is not None else None
                    value = (current or 0.0) + amount  # TypeError on a non-number, as in memory
                    if current is None:
                        expires = _NEVER if ttl is None else now + ttl
                    new = encode(value)
                    self._execute(_PUT, key, new, expires)
                    self._remember(key, new, expires)
                except TypeError:
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
        self._rows.clear()  # rows go: the remembered copy would outlive them
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
        self._rows.clear()  # a failed transaction may have taken remembered writes with it
        self._version = None
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
