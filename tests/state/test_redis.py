"""RedisStore and FallbackStore against a real, private redis-server (no fakes).

The contract tests run on MemoryStore too: it is the reference, and Redis
must answer exactly as it does.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import struct
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from spimguard import Engine, MessageEvent, Verdict, build_engine, parse_event
from spimguard.state.base import Store, StoreError
from spimguard.state.memory import MemoryStore
from spimguard.state.redis import FallbackStore, RedisStore

if TYPE_CHECKING:
    from conftest import RedisServer

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo-events.jsonl"
T0 = 1_700_000_000.0
NATIVE_MS = RedisStore.NATIVE_MARGIN * 1000


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
    else:
        yield request.getfixturevalue("redis_store")


def state_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "spimguard.state" and r.levelno == logging.WARNING]


# -- the Store contract, on both backends -------------------------------------


def test_is_a_store(redis_store: RedisStore) -> None:
    assert isinstance(redis_store, Store)
    assert isinstance(FallbackStore(redis_store, MemoryStore()), Store)
    assert redis_store.ping()


def test_get_set_delete(store: Store) -> None:
    assert store.get("k", 0.0) is None
    store.set("k", "v1", 0.0)
    assert store.get("k", 1.0) == "v1"
    store.set("k", {"a": [1, 2]}, 1.0)
    assert store.get("k", 2.0) == {"a": [1, 2]}
    store.delete("k")
    assert store.get("k", 2.0) is None
    store.delete("never-there")


def test_logical_expiry_at_exact_boundaries(store: Store) -> None:
    store.set("k", 1, T0, ttl=10.0)
    assert store.get("k", T0 + 9.999) == 1
    assert store.get("k", T0 + 10.0) is None  # expiry <= now: gone
    store.set("f", 1, 0.1, ttl=0.2)  # expiry 0.30000000000000004
    assert store.get("f", 0.3) == 1
    assert store.get("f", 0.1 + 0.2) is None
    store.set("z", 1, T0, ttl=0.0)
    assert store.get("z", T0) is None
    store.set("neg", 1, T0, ttl=-5.0)
    assert store.get("neg", T0 - 10.0) == 1 and store.get("neg", T0 - 5.0) is None
    # the logical clock is the caller's: going back in time revives nothing stored later
    store.set("old", 1, 0.0, ttl=1.0)
    assert store.get("old", -100.0) == 1


def test_ttl_none_never_expires_and_overwrite_resets_expiry(store: Store) -> None:
    store.set("k", "x", T0)
    assert store.get("k", 1e300) == "x"
    store.set("k", "y", T0, ttl=1.0)
    assert store.get("k", T0 + 1.0) is None
    store.set("k", "z", T0)
    assert store.get("k", T0 + 1e9) == "z"


def test_incr_creates_accumulates_and_keeps_expiry(store: Store) -> None:
    assert store.incr("c", 1, T0, ttl=10.0) == 1.0
    assert store.incr("c", 0.5, T0 + 5, ttl=1000.0) == 1.5  # keeps the first expiry
    v = store.incr("c", 2, T0 + 9.9)
    assert v == 3.5 and type(v) is float
    assert store.get("c", T0 + 9.99) == 3.5
    assert store.get("c", T0 + 10.0) is None
    assert store.incr("c", 1, T0 + 10.0, ttl=5.0) == 1.0  # expired: created afresh ...
    assert store.get("c", T0 + 14.9) == 1.0 and store.get("c", T0 + 15.0) is None  # ... new ttl
    assert store.incr("n", -0.25, T0) == -0.25
    assert store.get("n", 1e300) == -0.25  # ttl None: never expires
    for _ in range(10):
        store.incr("tenth", 0.1, T0)
    assert store.get("tenth", T0) == sum([0.1] * 10)  # 0.9999999999999999, bit for bit


def test_incr_on_plain_values(store: Store) -> None:
    store.set("int", 41, T0, ttl=10.0)
    assert store.incr("int", 1, T0 + 1, ttl=99.0) == 42.0
    assert store.get("int", T0 + 10.0) is None
    store.set("null", None, T0, ttl=1.0)
    assert store.incr("null", 2, T0, ttl=100.0) == 2.0
    assert store.get("null", T0 + 50.0) == 2.0  # None counts as absent: the new ttl applies
    store.set("s", "text", T0)
    with pytest.raises(TypeError):
        store.incr("s", 1, T0)
    assert store.get("s", T0) == "text"


@pytest.mark.parametrize("value", [
    b"", b"\x00", b"a\x00b\xff" * 100, bytes(range(256)),
    "", "h\u00e9llo \u4e16\u754c \U0001f600", "\ud800 lone surrogate", "nul\x00inside",
    0.1, -0.0, 1e-300, 1.7976931348623157e308, 2**53 + 1, -7, True, False,
    [1, "two", [3.5, None], {"k": b"x".decode()}], {"nested": {"list": [0.1, 0.2]}}, [],
])
def test_values_round_trip(store: Store, value: Any) -> None:
    store.set("v", value, T0, ttl=60.0)
    back = store.get("v", T0)
    assert back == value and type(back) is type(value)
    if isinstance(value, float):
        assert struct.pack("<d", back) == struct.pack("<d", value)  # -0.0 stays -0.0


# -- Redis specifics -------------------------------------------------------------


def test_native_ttl_is_the_logical_ttl_plus_a_margin(redis_store: RedisStore) -> None:
    c = redis_store.client
    redis_store.set("t", "x", T0, ttl=60.0)
    assert NATIVE_MS + 55_000 < c.pttl(redis_store.key("t")) <= NATIVE_MS + 60_000
    redis_store.set("t", "x", T0)
    assert c.pttl(redis_store.key("t")) == -1  # ttl None: Redis never drops it
    redis_store.incr("c", 1, T0, ttl=30.0)
    first = c.pttl(redis_store.key("c"))
    assert NATIVE_MS + 25_000 < first <= NATIVE_MS + 30_000
    redis_store.incr("c", 1, T0 + 1, ttl=5000.0)
    assert c.pttl(redis_store.key("c")) <= first  # a live counter keeps its expiry
    redis_store.incr("forever", 1, T0)
    assert c.pttl(redis_store.key("forever")) == -1
    redis_store.set("huge", 1, T0, ttl=1e300)
    assert c.pttl(redis_store.key("huge")) == -1
    assert redis_store.get("huge", T0 + 1e200) == 1


def test_keys_are_namespaced_by_prefix(redis_url: str, redis_prefix: str) -> None:
    a = RedisStore(redis_url, prefix=redis_prefix + "a:")
    b = RedisStore(redis_url, prefix=redis_prefix + "b:")
    a.set("k", 1, T0)
    assert b.get("k", T0) is None
    assert a.client.exists(redis_prefix + "a:k") == 1
    a.close()
    b.close()


def test_get_many_keeps_order_and_answers_none_for_missing_and_expired(
        redis_store: RedisStore) -> None:
    redis_store.set("a", "A", T0)
    redis_store.set("b", b"B\x00", T0, ttl=10.0)
    redis_store.incr("c", 3, T0, ttl=100.0)
    keys = ["c", "missing", "b", "a", "b"]
    assert redis_store.get_many(keys, T0 + 1) == [3.0, None, b"B\x00", "A", b"B\x00"]
    assert redis_store.get_many(keys, T0 + 10) == [3.0, None, None, "A", None]
    assert redis_store.get_many([], T0) == []
    fb = FallbackStore(redis_store, MemoryStore())
    assert fb.get_many(["a", "missing"], T0) == ["A", None]


def test_damaged_values_read_as_none_and_are_logged_once(
        redis_store: RedisStore, caplog: pytest.LogCaptureFixture) -> None:
    c = redis_store.client
    live = struct.pack(">d", float("inf"))
    raws = {"empty": b"", "short": b"abc", "header-only": live, "tag": live + b"x???",
            "json": live + b"j{not json", "utf8": live + b"j\"\xff\xfe\""}
    for k, raw in raws.items():
        c.set(redis_store.key(k), raw)
    c.hset(redis_store.key("hash"), "f", "v")
    with caplog.at_level(logging.WARNING, logger="spimguard.state"):
        for _ in range(3):
            for k in [*raws, "hash"]:
                assert redis_store.get(k, T0) is None, k
            assert redis_store.get_many([*raws, "hash"], T0) == [None] * (len(raws) + 1)
    logged = state_warnings(caplog)
    assert len(logged) == len(raws) + 1, logged  # one line per damaged key, not per read
    assert all("read as absent" in m for m in logged)
    # a damaged counter starts afresh; a damaged value is replaced by a good write
    assert redis_store.incr("json", 2, T0) == 2.0
    assert redis_store.incr("hash", 1, T0) == 1.0
    redis_store.set("tag", "fixed", T0)
    assert redis_store.get("tag", T0) == "fixed"


def test_unencodable_value_sends_nothing(redis_store: RedisStore, redis_server: RedisServer
                                         ) -> None:
    probe = redis_server.client()

    def processed() -> int:
        return int(probe.info("stats")["total_commands_processed"])

    processed()  # open the probe's connection (HELLO/CLIENT SETINFO counted before)
    before = processed()
    for bad in (object(), {1, 2}, float("nan"), [float("inf")], {"k": b"bytes inside"}):
        with pytest.raises(TypeError):
            redis_store.set("k", bad, T0)
    with pytest.raises(TypeError):
        redis_store.incr("k", float("nan"), T0)
    with pytest.raises(TypeError):
        redis_store.incr("k", "1", T0)  # type: ignore[arg-type]
    after = processed()
    assert after - before == 1  # the INFO that read ``before``; nothing from the store
    assert not redis_store.client.exists(redis_store.key("k"))
    probe.close()


def _incr_worker(url: str, prefix: str, n: int, barrier: Any) -> None:
    store = RedisStore(url, prefix=prefix)
    barrier.wait(timeout=60)
    for i in range(n):
        store.incr("shared", 1.0, T0 + i, ttl=3600.0)
    store.close()


def test_incr_is_atomic_across_processes(redis_url: str, redis_prefix: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_incr_worker, args=(redis_url, redis_prefix, 500, barrier))
             for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0]
    store = RedisStore(redis_url, prefix=redis_prefix)
    assert store.get("shared", T0 + 500) == 1000.0
    store.close()


def test_errors_become_store_errors_without_the_password() -> None:
    store = RedisStore("redis://user:s3cret@127.0.0.1:1/0", socket_timeout=0.2)
    assert not store.ping()
    for call in (lambda: store.get("k", 0.0), lambda: store.set("k", 1, 0.0),
                 lambda: store.incr("k", 1, 0.0), lambda: store.delete("k"),
                 lambda: store.get_many(["k"], 0.0)):
        with pytest.raises(StoreError) as info:
            call()
        assert "127.0.0.1:1" in str(info.value) and "s3cret" not in str(info.value)
        assert info.value.__cause__ is not None
    assert "s3cret" not in repr(store)
    store.close()


# -- Redis goes away --------------------------------------------------------------


def test_fallback_answers_while_redis_is_down_and_recovers(
        redis_server_factory: Callable[..., RedisServer], redis_prefix: str,
        caplog: pytest.LogCaptureFixture) -> None:
    server = redis_server_factory()
    redis_store = RedisStore(server.url, prefix=redis_prefix)
    store = FallbackStore(redis_store, MemoryStore(), retry_after=0.3)
    store.set("before", "shared", T0)
    assert store.get("before", T0) == "shared" and not store.degraded

    with caplog.at_level(logging.INFO, logger="spimguard.state"):
        server.kill()
        assert store.get("before", T0) is None  # answered (from empty local state)
        assert store.degraded and store.errors == 1
        for i in range(200):
            store.set(f"local{i % 5}", i, T0 + i, ttl=60.0)
            assert store.get(f"local{i % 5}", T0 + i) == i
            store.incr("count", 1, T0 + i)
            assert store.get_many(["count", "nope"], T0 + i) == [i + 1.0, None]
        assert store.errors == 1  # the primary is not retried within retry_after ...
        time.sleep(0.35)
        assert store.incr("count", 1, T0) == 201.0
        assert store.errors == 2  # ... and one retry after it failed again
        assert store.ping()  # the store still answers, from local state
        assert len(state_warnings(caplog)) == 1, state_warnings(caplog)
        assert "failed" in state_warnings(caplog)[0]

        server = redis_server_factory(port=server.port)  # Redis is back, empty
        time.sleep(0.35)
        assert store.get("count", T0) is None  # from Redis again
        assert not store.degraded
        logged = state_warnings(caplog)
    assert len(logged) == 2 and "recovered" in logged[1]
    store.set("after", "in redis", T0)
    store.incr("count", 5, T0)
    check = RedisStore(server.url, prefix=redis_prefix)
    assert check.get("after", T0) == "in redis" and check.get("count", T0) == 5.0
    assert check.get("local0", T0) is None  # writes made while degraded are not replayed
    assert store.fallback.get("local0", T0) is None  # and are dropped locally
    check.close()
    store.close()


def test_fallback_lets_value_errors_through(redis_store: RedisStore) -> None:
    store = FallbackStore(redis_store, MemoryStore())
    with pytest.raises(TypeError):
        store.set("k", object(), T0)
    assert not store.degraded and store.errors == 0


# -- the engine on Redis ----------------------------------------------------------


def _demo_events() -> list[Any]:
    return [parse_event(json.loads(line)) for line in DEMO.read_text().splitlines()
            if line.strip()]


def _run(engine: Engine, events: list[Any]) -> list[Verdict]:
    return [v for v in map(engine.observe, events) if v is not None]


def test_engine_gives_the_same_verdicts_on_redis(redis_store: RedisStore) -> None:
    events = _demo_events()
    on_memory = _run(build_engine(store=MemoryStore()), events)
    on_redis = _run(build_engine(store=redis_store), events)
    assert len(on_memory) == len(on_redis) > 0
    assert [v.action for v in on_redis] == [v.action for v in on_memory]
    assert [v.to_dict() for v in on_redis] == [v.to_dict() for v in on_memory]


def _fanout(verdicts: list[Verdict]) -> list[float]:
    return [next((s.score for s in v.signals if s.name == "FANOUT_BURST"), 0.0)
            for v in verdicts]


def test_fanout_is_seen_across_two_engines_sharing_redis(redis_url: str,
                                                         redis_prefix: str) -> None:
    link = "hey look at this https://photos-share.example-album.xyz/view"
    msgs = [MessageEvent(T0 + 40 * i, f"f{i}", "mallory", (f"contact{i}",), link)
            for i in range(8)]
    single = build_engine(store=MemoryStore())
    alone = [single.check(m) for m in msgs]
    stores = [RedisStore(redis_url, prefix=redis_prefix) for _ in range(2)]
    workers = [build_engine(store=s) for s in stores]
    split = [workers[i % 2].check(m) for i, m in enumerate(msgs)]
    assert _fanout(split) == _fanout(alone)
    assert _fanout(split)[:2] == [0.0, 0.0] and all(s > 0 for s in _fanout(split)[2:])
    assert _fanout(split)[7] == max(_fanout(split))
    assert [v.action for v in split] == [v.action for v in alone]
    unshared = [build_engine(store=MemoryStore()) for _ in range(2)]  # the control
    apart = [unshared[i % 2].check(m) for i, m in enumerate(msgs)]
    assert sum(_fanout(apart)) < sum(_fanout(split))
    for s in stores:
        s.close()
