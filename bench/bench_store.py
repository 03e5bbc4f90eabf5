"""Store speed: get/set/incr ops per second, and engine throughput per backend.

Usage: taskset -c 1 python bench/bench_store.py [--repeats 5] [--ops 50000]
                                                [--keys 10000] [--out results/store.json]

Backends: MemoryStore, SqliteStore (write-behind, the default) and
SqliteStore(durable=True) (one fsync'd commit per write), each SQLite store
on a fresh file in a temporary folder. Every figure is the median of
``--repeats`` runs. Writes are timed up to a final ``flush()``, so the
write-behind store is charged for its commits. The durable store runs fewer
ops (``--durable-ops``): its speed is the disk's fsync rate, not Python's.
``--keys`` sets how many keys the store holds while get/set stride through
them: with 10,000 a batch of writes dirties few pages; with 200,000 (a real
user base) each commit writes many more pages, and a write costs several times
as much.

The engine part replays one fixed stream of 5,000 messages (250 accounts
logging in, adding 10 contacts and writing 20 messages each, one in five with
a link, as in ``bench_behaviour.py``) through the profile, fan-out, stranger
and rate-limit detectors, and checks that every backend gives the same
verdict actions.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from spimguard import ContactEvent, Engine, LoginEvent, MessageEvent, Policy
from spimguard.core.events import Event
from spimguard.detectors.fanout import FanoutDetector
from spimguard.detectors.profile import ProfileDetector
from spimguard.detectors.ratelimit import RateLimitDetector
from spimguard.detectors.stranger import StrangerDetector
from spimguard.state.base import Store
from spimguard.state.memory import MemoryStore
from spimguard.state.sqlite import SqliteStore

T0 = 1_700_000_000.0
VALUE = bytes(range(160))  # about a packed profile's size


def _done(store: Store) -> None:
    flush = getattr(store, "flush", None)
    if flush is not None:
        flush()


def _close(store: Store) -> None:
    close = getattr(store, "close", None)
    if close is not None:
        close()


class Backend:
    """Opens fresh stores of one kind; a SQLite file is pre-filled without fsyncs."""

    _ids = itertools.count()

    def __init__(self, folder: Path | None, **options: Any) -> None:
        self.folder = folder  # None: MemoryStore
        self.options = options

    def open(self, fill: Callable[[Store], None] | None = None) -> Store:
        if self.folder is None:
            store: Store = MemoryStore()
            if fill is not None:
                fill(store)
            return store
        path = self.folder / f"s{next(self._ids)}.db"
        if fill is not None:
            with SqliteStore(path) as s:
                fill(s)
        return SqliteStore(path, **self.options)


def bench_ops(backend: Backend, n: int, repeats: int,
              nkeys: int) -> dict[str, float]:
    """Median ops/s of set and get over ``nkeys`` existing keys, and incr over 1,000.

    Each run gets a fresh store holding ``nkeys`` keys (written untimed), then
    times ``n`` sets and ``n`` gets (all hits) striding through the keys, so
    consecutive operations touch unrelated pages as different senders do.
    """
    keys = [f"profile:user{i}" for i in range(nkeys)]
    order = [keys[(i * 7919) % nkeys] for i in range(n)]
    counters = [f"rate:user{i}" for i in range(1000)]
    runs: dict[str, list[float]] = {"get": [], "set": [], "incr": []}

    def fill(store: Store) -> None:
        for k in keys:
            store.set(k, VALUE, T0, 3600)

    for _ in range(repeats):
        store = backend.open(fill)
        try:
            t = time.perf_counter()
            for i, k in enumerate(order):
                store.set(k, VALUE, T0 + i, 3600)
            _done(store)
            runs["set"].append(n / (time.perf_counter() - t))
            t = time.perf_counter()
            for k in order:
                store.get(k, T0 + n)
            runs["get"].append(n / (time.perf_counter() - t))
            t = time.perf_counter()
            for i in range(n):
                store.incr(counters[i % 1000], 1.0, T0 + i, 60)
            _done(store)
            runs["incr"].append(n / (time.perf_counter() - t))
        finally:
            _close(store)
    return {op: round(statistics.median(v)) for op, v in runs.items()}


def stream(accounts: int = 250, messages: int = 20) -> list[Event]:
    events: list[Event] = []
    n = 0
    for a in range(accounts):
        user = f"user{a}"
        events.append(LoginEvent(T0, user, ip=f"10.0.{a % 250}.{a % 200}", device=f"dev{a}"))
        for f in range(10):
            events.append(ContactEvent(T0, user, f"user{(a + f + 1) % accounts}", "add"))
        for m in range(messages):
            n += 1
            text = f"see https://example.org/p/{m}" if m % 5 == 0 else "see you at lunch?"
            events.append(MessageEvent(T0 + m * 60, f"m{n}", user,
                                       (f"user{(a + m % 10 + 1) % accounts}",), text))
    return events


def bench_engine(backend: Backend, events: list[Event],
                 repeats: int) -> tuple[dict[str, float], list[str]]:
    """Median messages/s over the stream (events of every kind are fed and timed)."""
    rates: list[float] = []
    actions: list[str] = []
    messages = sum(isinstance(e, MessageEvent) for e in events)
    for _ in range(repeats):
        store = backend.open()
        try:
            eng = Engine([ProfileDetector(), FanoutDetector(), StrangerDetector(),
                          RateLimitDetector()], Policy(), store=store)
            # one-time loads (the Public Suffix List) are not charged to the stream
            eng.check(MessageEvent(T0, "warm", "warm", ("x",), "warm up https://example.org/"))
            eng.store.delete("profile:warm")
            out: list[str] = []
            t = time.perf_counter()
            for e in events:
                v = eng.observe(e)
                if v is not None:
                    out.append(v.action.value)
            _done(store)
            rates.append(messages / (time.perf_counter() - t))
            actions = out
        finally:
            _close(store)
    return {"messages": messages, "messages_per_s": round(statistics.median(rates)),
            "us_per_message": round(1e6 / statistics.median(rates), 1)}, actions


def _fs_type(path: str) -> str:
    """The file system under ``path`` (fsync cost depends on it), from /proc/mounts."""
    best, kind = "", "unknown"
    try:
        lines = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return kind
    real = os.path.realpath(path)
    for line in lines:
        parts = line.split()
        if len(parts) > 2 and real.startswith(parts[1]) and len(parts[1]) > len(best):
            best, kind = parts[1], parts[2]
    return kind


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--ops", type=int, default=50_000)
    ap.add_argument("--durable-ops", type=int, default=1_000)
    ap.add_argument("--keys", type=int, default=10_000)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "store.json")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        backends = {
            "memory": (Backend(None), args.ops * 4),
            "sqlite": (Backend(Path(tmp)), args.ops),
            "sqlite_durable": (Backend(Path(tmp), durable=True), args.durable_ops),
        }
        ops = {name: {"ops": n, **bench_ops(backend, n, args.repeats, args.keys)}
               for name, (backend, n) in backends.items()}
        events = stream()
        engine: dict[str, dict[str, float]] = {}
        verdicts: dict[str, list[str]] = {}
        for name, (backend, _) in backends.items():
            engine[name], verdicts[name] = bench_engine(backend, events, args.repeats)
        fs = _fs_type(tmp)
    same = all(v == verdicts["memory"] for v in verdicts.values())
    out = {
        "ops_per_s": ops,
        "engine_behaviour_only": engine,
        "same_actions_on_every_backend": same,
        "actions": {a: verdicts["memory"].count(a) for a in sorted(set(verdicts["memory"]))},
        "keys": args.keys,
        "repeats": args.repeats,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "tmp_filesystem": fs,
        "note": ("median of repeats; sqlite writes timed up to flush(); durable = "
                 "synchronous=FULL + a commit per write (fsync-bound)"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    if not same:
        raise SystemExit("verdict actions differ between backends")


if __name__ == "__main__":
    main()
