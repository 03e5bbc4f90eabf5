"""Per-message batching of a remote store: same verdicts, a few round trips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from spimguard import build_engine
from spimguard.core.events import MessageEvent, parse_event
from spimguard.state.batch import BatchedStore
from spimguard.state.memory import MemoryStore
from spimguard.state.redis import RedisStore

DEMO = Path(__file__).parents[2] / "examples" / "demo-events.jsonl"


class Counting:
    """Counts the calls that reach the real store: each is one round trip to Redis."""

    remote = True

    def __init__(self, inner: RedisStore) -> None:
        self.inner = inner
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name in ("get", "get_many", "set", "delete", "incr", "write_many"):
            def counted(*a: Any, **k: Any) -> Any:
                self.calls.append(name)
                return attr(*a, **k)
            return counted
        return attr


def events() -> list[Any]:
    lines = DEMO.read_text(encoding="utf-8").splitlines()
    return [parse_event(json.loads(x)) for x in lines if x.strip()]


def test_batched_engine_gives_the_same_verdicts(redis_store: RedisStore) -> None:
    remote = build_engine(store=redis_store)
    local = build_engine(store=MemoryStore())
    assert isinstance(remote.store, BatchedStore) and not isinstance(local.store, BatchedStore)
    for ev in events():
        a, b = remote.observe(ev), local.observe(ev)
        assert (a.to_dict() if a else None) == (b.to_dict() if b else None)


def test_a_message_costs_a_few_round_trips(redis_store: RedisStore) -> None:
    counting = Counting(redis_store)
    eng = build_engine(store=counting)  # type: ignore[arg-type]
    for ev in events():  # some history: profiles, contacts, logins
        eng.observe(ev)
    for recipients, text in ((("bob",), "see you at lunch?"),
                             (tuple(f"f{i}" for i in range(20)), "party at mine tonight!"),
                             (("bob",), "look https://example.org/a and https://example.net/b")):
        counting.calls.clear()
        eng.check(MessageEvent(2e9, f"rt-{len(recipients)}-{len(text)}", "alice", recipients,
                               text))
        # one get_many, one write_many, plus one get per linked domain's rate bucket
        links = text.count("https://")
        assert counting.calls.count("get_many") == 1
        assert counting.calls.count("write_many") == 1
        assert len(counting.calls) <= 2 + links, counting.calls


def test_batch_reads_its_own_writes_and_sends_them_at_commit(redis_store: RedisStore) -> None:
    batch = BatchedStore(redis_store)
    redis_store.set("k", "old", 0.0)
    batch.begin(1.0, ["k", "missing"])
    assert batch.get("k", 1.0) == "old" and batch.get("missing", 1.0) is None
    batch.set("k", "new", 1.0, ttl=60)
    batch.delete("other")
    assert batch.get("k", 1.0) == "new" and redis_store.get("k", 1.0) == "old"
    assert batch.incr("n", 2, 1.0) == 2.0 and redis_store.get("k", 1.0) == "new"  # flushed
    batch.set("k", "newer", 1.0)
    batch.commit()
    assert redis_store.get("k", 1.0) == "newer" and redis_store.get("k", 100.0) == "newer"
    batch.set("direct", 1, 1.0)  # outside a batch: straight through
    assert redis_store.get("direct", 1.0) == 1
