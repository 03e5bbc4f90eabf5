"""Behaviour state memory per active account, and behaviour detector cost.

Usage: python bench/bench_behaviour.py [--accounts 5000] [--messages 20]

Each account logs in once and sends ``--messages`` ordinary messages to up to
10 friends (one with a link in five); the profile, fan-out and stranger
detectors run in an engine of their own. Memory is what tracemalloc sees
held after the run, divided by the number of accounts (profiles, contact
lists, fan-out windows and rate-limit buckets, i.e. all behaviour state in
the store). The engine is warmed up first, so that one-time loads (the
Public Suffix List, ~5 MB) are not charged to the accounts. The breakdown by
key kind separates long-lived state (profile, contacts: kept 90 days) from
windows that expire minutes after an account's last message (fan-out, rate).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path

from spimguard import ContactEvent, Engine, LoginEvent, MessageEvent, Policy
from spimguard.detectors.fanout import FanoutDetector
from spimguard.detectors.profile import ProfileDetector
from spimguard.detectors.ratelimit import RateLimitDetector
from spimguard.detectors.stranger import StrangerDetector


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=5000)
    ap.add_argument("--messages", type=int, default=20)
    args = ap.parse_args()
    eng = Engine([ProfileDetector(), FanoutDetector(), StrangerDetector(),
                  RateLimitDetector()], Policy())
    t = 1_700_000_000.0
    eng.check(MessageEvent(t, "warm", "warm", ("x",), "warm up https://example.org/"))
    eng.store.delete("profile:warm")
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    n = 0
    start = time.perf_counter()
    for a in range(args.accounts):
        user = f"user{a}"
        eng.observe(LoginEvent(t, user, ip=f"10.0.{a % 250}.{a % 200}", device=f"dev{a}"))
        for f in range(10):
            eng.observe(ContactEvent(t, user, f"user{(a + f + 1) % args.accounts}", "add"))
        for m in range(args.messages):
            n += 1
            text = f"see https://example.org/p/{m}" if m % 5 == 0 else "see you at lunch?"
            eng.check(MessageEvent(t + m * 60, f"m{n}", user,
                                   (f"user{(a + m % 10 + 1) % args.accounts}",), text))
    elapsed = time.perf_counter() - start
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    by_kind: Counter[str] = Counter()
    for key, (value, _expiry) in eng.store._data.items():  # noqa: SLF001 - a benchmark
        # key, value, the (value, expiry) tuple and its float, and the dict slot
        by_kind[key.split(":", 1)[0]] += (sys.getsizeof(key) + sys.getsizeof(value)
                                          + 56 + 24 + 32)
    out = {
        "accounts": args.accounts,
        "messages": n,
        "bytes_per_account": round((held - base) / args.accounts),
        "store_bytes_per_account_by_kind": {
            k: round(v / args.accounts) for k, v in sorted(by_kind.items())},
        "us_per_message_behaviour_only": round(elapsed / n * 1e6, 1),
        "note": "tracemalloc on: timings are inflated; see bench_engine for speed",
    }
    (Path(__file__).parent / "results").mkdir(exist_ok=True)
    (Path(__file__).parent / "results" / "behaviour.json").write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
