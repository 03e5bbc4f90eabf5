"""Throughput of the simulator: events per second, open loop and closed loop.

Usage: python bench/bench_simulate.py [--users 300] [--days 7] [--repeats 3]
                                      [--graph CollegeMsg.txt] [--closed] [--out FILE]

Open loop measures the generator alone (synthetic graph, all four attacks,
no engine). ``--closed`` adds one closed-loop run with the default engine and
the held-out content model (trained once, ~7 s, then cached), where the
engine dominates. Prints JSON; ``--out`` also writes it to FILE.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path
from typing import Any

from spimguard.simulate import SimConfig, defence_engine, generate, parse_attacks, run_closed_loop


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=300)
    ap.add_argument("--days", type=float, default=7.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--graph", type=Path, default=None, help="a SNAP file instead of synthetic")
    ap.add_argument("--closed", action="store_true", help="also time a closed-loop run")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    cfg = SimConfig(seed=0, graph=args.graph, n_users=args.users, days=args.days,
                    attacks=parse_attacks(["all"]))
    rates: list[float] = []
    n = 0
    for _ in range(args.repeats):
        start = time.perf_counter()
        n = sum(1 for _ in generate(cfg))
        rates.append(n / (time.perf_counter() - start))
    result: dict[str, Any] = {
        "graph": str(args.graph) if args.graph else f"synthetic({args.users})",
        "days": args.days,
        "events": n,
        "open_loop_events_per_s": [round(r) for r in rates],
        "open_loop_events_per_s_median": round(statistics.median(rates)),
        "python": platform.python_version(),
    }
    if args.closed:
        engine = defence_engine()
        res = run_closed_loop(cfg, engine, record=False)
        result["closed_loop_events"] = res.n_events
        result["closed_loop_s"] = round(res.elapsed_s, 2)
        result["closed_loop_events_per_s"] = round(res.n_events / res.elapsed_s)
        result["detectors"] = [d.name for d in engine.detectors]
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
