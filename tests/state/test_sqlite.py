"""The SQLite store: the Store contract (shared with MemoryStore), persistence,
atomic counters across processes, damage, limits, and the engine on top of it."""

from __future__ import annotations

import logging
import multiprocessing
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spimguard import build_engine
from spimguard.core.replay import ReplayStats, replay
from spimguard.state.base import Store, StoreError
from spimguard.state.codec import encode
from spimguard.state.memory import MemoryStore
from spimguard.state.sqlite import SCHEMA_VERSION, SqliteStore

T0 = 1_700_000_000.0
DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo-events.jsonl"


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
        return
    s = SqliteStore(tmp_path / "s.db")
    yield s
    s.close()


@pytest.fixture
def sql(tmp_path: Path) -> Iterator[SqliteStore]:
    s = SqliteStore(tmp_path / "s.db")
    yield s
    s.close()


def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


# -- the contract, on both backends ---------------------------------------------


def test_is_a_store(store: Store) -> None:
    assert isinstance(store, Store)
    assert store.ping() is True


def test_get_set_delete(store: Store) -> None:
    assert store.get("nope", T0) is None
    store.set("k", "v", T0)
    assert store.get("k", T0) == "v"
    store.set("k", "w", T0)
    assert store.get("k", T0) == "w"
    store.delete("k")
    assert store.get("k", T0) is None
    store.delete("k")  # deleting an absent key is fine


def test_expiry_boundary(store: Store) -> None:
    store.set("k", 1, T0, ttl=10)
    assert store.get("k", T0 + 9.999) == 1
    assert store.get("k", T0 + 10) is None  # expires <= now: gone
    store.set("z", 1, T0, ttl=0)
    assert store.get("z", T0) is None


def test_ttl_none_never_expires(store: Store) -> None:
    store.set("k", "forever", T0)
    assert store.get("k", 1e300) == "forever"


def test_set_after_expiry_revives(store: Store) -> None:
    store.set("k", 1, T0, ttl=1)
    store.set("k", 2, T0 + 5, ttl=1)
    assert store.get("k", T0 + 5.5) == 2


def test_incr_creates_accumulates_and_keeps_expiry(store: Store) -> None:
    assert store.incr("c", 1, T0, ttl=10) == 1.0
    assert store.incr("c", 2.5, T0 + 5, ttl=100) == 3.5  # ttl ignored: key is live
    assert store.get("c", T0 + 9.9) == 3.5
    assert store.get("c", T0 + 10) is None  # the first expiry stands
    assert store.incr("c", 1, T0 + 10, ttl=10) == 1.0  # expired: starts again at 0
    assert store.get("c", T0 + 19) == 1.0
    assert store.incr("n", -2, T0) == -2.0
    assert store.get("n", 1e300) == -2.0


def test_incr_on_a_number_set_before(store: Store) -> None:
    store.set("c", 4, T0, ttl=10)
    assert store.incr("c", 1, T0, ttl=1000) == 5.0
    assert store.get("c", T0 + 10) is None


@pytest.mark.parametrize("value", [
    b"", b"\x00\x01\xff\x00", "", "héllo \u202e wörld 🙂", 0, -7, 1.5, 1e-300, 2.0**60,
    True, None, [1, "a", [2.5, None]], {"a": [1, 2], "ü": {"x": None}},
])
def test_values_round_trip(store: Store, value: Any) -> None:
    store.set("k", value, T0)
    got = store.get("k", T0)
    assert got == value and type(got) is type(value)


def test_weird_keys(store: Store) -> None:
    keys = ["", " ", "profile:@ünïcødé:example.org", "a\u202eb", "🙂" * 100,
            "k'; DROP TABLE kv; --", "a\tb\nc", "x" * 10_000, "lone\ud800surrogate"]
    for i, k in enumerate(keys):
        store.set(k, i, T0)
    for i, k in enumerate(keys):
        assert store.get(k, T0) == i
    store.delete("lone\ud800surrogate")
    assert store.get("lone\ud800surrogate", T0) is None
    assert store.incr("lone\udfffx", 2, T0) == 2.0


def test_incr_on_a_non_number_raises_like_memory(store: Store) -> None:
    store.set("b", b"bytes", T0)
    with pytest.raises(TypeError):
        store.incr("b", 1, T0)
    assert store.get("b", T0) == b"bytes"


# -- SQLite only ------------------------------------------------------------------


def test_persists_after_flush_and_close(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    with SqliteStore(path) as s:
        s.set("a", b"bytes", T0, ttl=100)
        s.set("b", {"x": 1}, T0)
        s.incr("c", 3, T0)
        s.flush()
        with _raw(path) as other:  # flushed: visible to another connection
            assert other.execute("SELECT COUNT(*) FROM kv").fetchone()[0] == 3
        s.set("d", "after flush", T0)  # committed by close
    with SqliteStore(path) as s:
        assert s.get("a", T0 + 99) == b"bytes"
        assert s.get("a", T0 + 100) is None
        assert s.get("b", T0) == {"x": 1}
        assert s.get("c", T0) == 3.0
        assert s.get("d", T0) == "after flush"


def test_stores_exactly_the_codec_bytes(sql: SqliteStore) -> None:
    sql.set("k", [1, "é"], T0)
    sql.flush()
    with _raw(Path(sql.path)) as other:
        raw, expires = other.execute("SELECT value, expires FROM kv").fetchone()
    assert raw == encode([1, "é"]) and expires == float("inf")


def test_durable_write_is_visible_without_flush(tmp_path: Path) -> None:
    path = tmp_path / "d.db"
    with SqliteStore(path, durable=True) as s, _raw(path) as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        s.set("k", "v", T0)
        assert other.execute("SELECT COUNT(*) FROM kv").fetchone()[0] == 1
        s.incr("c", 1, T0)
        s.delete("k")
        assert other.execute("SELECT key FROM kv").fetchall() == [("c",)]
        assert s.durable


def test_write_behind_commits_every_n(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    with SqliteStore(path, commit_every=3) as s, _raw(path) as other:
        s.set("a", 1, T0)
        s.set("b", 1, T0)
        assert other.execute("SELECT COUNT(*) FROM kv").fetchone()[0] == 0
        s.set("c", 1, T0)
        assert other.execute("SELECT COUNT(*) FROM kv").fetchone()[0] == 3


def test_an_open_batch_blocks_other_writers_until_flushed(tmp_path: Path) -> None:
    """Documented limit of write-behind: the batch holds SQLite's writer lock."""
    path = tmp_path / "b.db"
    with SqliteStore(path) as a, SqliteStore(path, timeout=0.05) as b:
        a.set("k", 1, T0)  # opens a batch (commit_every=200)
        with pytest.raises(StoreError, match="set failed: database is locked"):
            b.set("j", 1, T0)
        assert b.get("k", T0) is None  # and it is not visible yet
        a.flush()
        b.set("j", 2, T0)
        assert b.get("k", T0) == 1


def _incr_worker(path: str, n: int, commit_every: int) -> None:
    with SqliteStore(path, commit_every=commit_every, timeout=30) as s:
        for _ in range(n):
            s.incr("shared", 1, T0, ttl=3600)


@pytest.mark.parametrize("commit_every", [1, 200])
def test_two_processes_never_lose_an_increment(tmp_path: Path, commit_every: int) -> None:
    path = str(tmp_path / "c.db")
    SqliteStore(path).close()  # create the file and switch it to WAL first
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_incr_worker, args=(path, 500, commit_every))
             for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    with SqliteStore(path) as s:
        assert s.get("shared", T0) == 1000.0


def test_damaged_value_reads_as_absent_and_is_logged_once(
        sql: SqliteStore, caplog: pytest.LogCaptureFixture) -> None:
    sql.set("bad", "x", T0)
    sql.set("bad2", "x", T0)
    sql.flush()
    with _raw(Path(sql.path)) as other:
        other.execute("UPDATE kv SET value = ? WHERE key = 'bad'", (b"j{not json",))
        other.execute("UPDATE kv SET value = ? WHERE key = 'bad2'", (b"\x00garbage",))
    with caplog.at_level(logging.WARNING, logger="spimguard.state"):
        assert sql.get("bad", T0) is None
        assert sql.get("bad", T0) is None
        assert sql.get("bad2", T0) is None
    assert len(caplog.records) == 2
    assert "damaged" in caplog.records[0].getMessage()
    assert sql.incr("bad", 2, T0) == 2.0  # a damaged counter starts again


def test_unencodable_value_raises_and_writes_nothing(sql: SqliteStore) -> None:
    sql.set("k", "before", T0)
    for value in [{1, 2}, object(), float("nan"), {"a": b"bytes inside json"}]:
        with pytest.raises(TypeError):
            sql.set("k", value, T0)
        with pytest.raises(TypeError):
            sql.set("new", value, T0)
    assert sql.get("k", T0) == "before"
    assert sql.get("new", T0) is None
    assert len(sql) == 1


def test_get_many(sql: SqliteStore) -> None:
    sql.set("a", 1, T0)
    sql.set("b", b"x", T0, ttl=1)
    sql.set("lone\ud800", "s", T0)
    assert sql.get_many(["a", "b", "nope", "lone\ud800", "a"], T0 + 1) == [
        1, None, None, "s", 1]
    assert sql.get_many([], T0) == []


def test_huge_value(sql: SqliteStore) -> None:
    big = bytes(range(256)) * (5 * 1024 * 1024 // 256)
    sql.set("big", big, T0)
    sql.flush()
    assert sql.get("big", T0) == big


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    with _raw(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer"):
        SqliteStore(path)
    with _raw(path) as conn:  # left as it was
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_schema_version_is_set(tmp_path: Path) -> None:
    path = tmp_path / "v.db"
    SqliteStore(path).close()
    with _raw(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    SqliteStore(path).close()  # reopening an existing file is fine


def test_unopenable_paths_raise_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="open") as info:
        SqliteStore(tmp_path)  # a directory
    assert isinstance(info.value.__cause__, sqlite3.Error)
    assert str(tmp_path) in str(info.value)
    with pytest.raises(StoreError):
        SqliteStore(tmp_path / "missing" / "dir" / "x.db")
    notdb = tmp_path / "not.db"
    notdb.write_bytes(b"this is not a database file at all" * 100)
    with pytest.raises(StoreError):
        SqliteStore(notdb)


def test_closed_store(tmp_path: Path) -> None:
    s = SqliteStore(tmp_path / "c.db")
    s.close()
    s.close()  # idempotent
    assert s.ping() is False
    with pytest.raises(StoreError, match="get"):
        s.get("k", T0)
    with pytest.raises(StoreError, match="set"):
        s.set("k", 1, T0)


def test_memory_path() -> None:
    with SqliteStore(":memory:") as s:
        s.set("k", [1], T0)
        assert s.get("k", T0) == [1]


def test_sweep_removes_expired_rows(sql: SqliteStore) -> None:
    for i in range(10):
        sql.set(f"short{i}", i, T0, ttl=10)
    sql.set("long", 1, T0, ttl=1000)
    sql.set("never", 1, T0)
    assert len(sql) == 12
    assert sql.sweep(T0 + 9) == 0
    assert sql.sweep(T0 + 10) == 10
    assert len(sql) == 2
    assert sql.get("long", T0 + 10) == 1


def test_automatic_sweep_and_max_keys(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "m.db", max_keys=100, sweep_every=50) as s:
        for i in range(1000):
            s.set(f"k{i}", i, T0 + i, ttl=None if i % 2 else 5)
            assert len(s) <= 100 + 50
        s.sweep(T0 + 1000)
        assert len(s) <= 100
        # expired rows go first, then the oldest: the newest live keys remain
        assert s.get("k999", T0 + 1000) == 999
        assert s.get("k1", T0 + 1000) is None


def test_automatic_sweep_walks_the_table_in_bounded_steps(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "w.db", sweep_every=10) as s:
        s.SWEEP_ROWS = 25  # each automatic sweep looks at 25 rowids
        for i in range(100):
            s.set(f"old{i}", i, T0, ttl=1)  # expired from T0 + 1 on
        assert len(s) == 100  # swept as they were written: none had expired yet
        for i in range(10):  # one sweep: at most 25 of the 100 expired rows go
            s.set(f"new{i}", i, T0 + 10)
        assert 110 - 25 <= len(s) <= 110
        for i in range(10, 100):  # nine more sweeps: the walk has covered every rowid
            s.set(f"new{i}", i, T0 + 10)
        assert len(s) == 100
        assert s.get("new0", T0 + 10) == 0


def test_max_keys_evicts_oldest_by_insertion(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "o.db", max_keys=3) as s:
        for k in "abcde":
            s.set(k, k, T0)
        s.set("a", "updated", T0)  # an update keeps the key's age
        assert s.sweep(T0) == 2
        assert [s.get(k, T0) for k in "abcde"] == [None, None, "c", "d", "e"]


def test_threads_share_one_store(sql: SqliteStore) -> None:
    def work() -> None:
        for _ in range(300):
            sql.incr("t", 1, T0)
            sql.get("t", T0)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sql.get("t", T0) == 1200.0


# -- the engine on top ------------------------------------------------------------


def _actions(store: Store) -> list[tuple[str, str, str | None]]:
    engine = build_engine(store=store)
    with DEMO.open("rb") as f:
        return [(m.id, v.action.value, v.account_action and v.account_action.value)
                for m, v in replay(engine, f, ReplayStats())]


def test_engine_gives_the_same_verdicts_on_sqlite(tmp_path: Path) -> None:
    expected = _actions(MemoryStore())
    assert len(expected) > 10
    assert {a for _, a, _ in expected} != {"allow"}  # the demo has something to catch
    with SqliteStore(tmp_path / "e.db", commit_every=7) as s:
        assert _actions(s) == expected
        assert len(s) > 0


# -- rows remembered in memory ----------------------------------------------------


def test_a_remembered_row_is_dropped_when_another_connection_commits(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    a, b = SqliteStore(path, commit_every=1), SqliteStore(path, commit_every=1)
    a.set("k", b"one", T0)
    assert a.get("k", T0) == b"one" and a.get_many(["k", "absent"], T0) == [b"one", None]
    b.set("k", b"two", T0)      # another worker writes...
    b.set("absent", b"now", T0)
    assert a.get("k", T0) == b"two"  # ...and the first sees it at once, absent rows too
    assert a.get_many(["absent", "k"], T0) == [b"now", b"two"]
    b.delete("k")
    assert a.get_many(["k"], T0) == [None]
    assert b.incr("n", 1, T0) == 1.0 and a.incr("n", 1, T0) == 2.0  # counters stay atomic
    a.close(), b.close()


def test_remembered_rows_keep_expiry_exact(sql: SqliteStore) -> None:
    sql.set("k", b"v", T0, ttl=10)
    assert sql.get("k", T0 + 9.99) == b"v"
    assert sql.get("k", T0 + 10) is None and sql.get_many(["k"], T0 + 10) == [None]
    assert sql.incr("k", 1, T0 + 10, ttl=5) == 1.0  # an expired key starts over
    assert sql.get("k", T0 + 14.9) == 1.0 and sql.get("k", T0 + 15) is None


def test_write_many_applies_in_order_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    sql = SqliteStore(path)
    sql.write_many([("set", "a", b"1", T0, None), ("set", "b", {"x": [1]}, T0, 60.0),
                    ("delete", "a", None, 0.0, None), ("set", "c\ud800", b"odd", T0, None)])
    assert sql.get_many(["a", "b", "c\ud800"], T0) == [None, {"x": [1]}, b"odd"]
    sql.flush()
    other = SqliteStore(path)  # on disk, not only in memory
    assert other.get_many(["a", "b", "c\ud800"], T0 + 59) == [None, {"x": [1]}, b"odd"]
    assert other.get("b", T0 + 60) is None
    sql.close(), other.close()


def test_remembered_rows_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SqliteStore, "CACHE_ROWS", 10)
    sql = SqliteStore(tmp_path / "s.sqlite")
    for i in range(50):
        sql.set(f"k{i}", i, T0)
    assert len(sql._rows) <= 10
    assert sql.get_many([f"k{i}" for i in range(50)], T0) == list(range(50))
    sql.close()
