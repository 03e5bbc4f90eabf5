"""How well the default defence holds against each simulated attack, over several seeds.

Usage: python bench/bench_attacks.py [--graph CollegeMsg.txt] [--seeds 5] [--days 14]
                                     [--scenarios worm,botnet,...] [--out FILE]

One simulated run mixes attacks, so its figures cannot say which attack got
through; and one seed is one draw (a worm that happens to seed a hub looks
very different from one that does not). This runs each attack on its own, on
the real CollegeMsg graph, for seeds 0..N-1, each as a defended/undefended
pair (``simulate_cli(..., compare=True)``), and reports per-seed figures,
medians with min-max over seeds, and shares pooled over seeds.

Scenarios: ``worm`` (fast phishing worm), ``waiting_worm`` (the same, but the
attacker waits 1-10 h after logging in), ``slow_worm``, ``stranger_bots``,
``botnet`` and ``all`` (the four attacks together). Everything runs in one
process because the held-out content model is trained once (~7 s) and cached.
A full run (5 seeds x 6 scenarios) takes about 15-25 minutes.

Writes JSON to ``--out`` (default bench/results/attacks-collegemsg.json) and
prints a Markdown table (also stored in the JSON under ``markdown``); progress
goes to stderr, one line per run.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from spimguard.simulate.cli import simulate_cli

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_GRAPH = ROOT.parent / "shared" / "data" / "collegemsg" / "CollegeMsg.txt"
DEFAULT_OUT = ROOT / "bench" / "results" / "attacks-collegemsg.json"

#: Scenario name -> (attack spec for ``parse_attacks``, does it compromise accounts?).
SCENARIOS: dict[str, tuple[str, bool]] = {
    "worm": ("worm", True),
    "waiting_worm": ("worm:dwell_minutes=60/600", True),
    "slow_worm": ("slow_worm", True),
    "stranger_bots": ("stranger_bots", False),
    "botnet": ("botnet", False),
    "all": ("all", True),
}

#: Per-seed figures summarised as median and min-max over seeds.
METRICS = (
    "attack_msgs", "attack_stopped", "attack_flagged", "stopped_share", "flagged_share",
    "ham_held_share", "accounts_falsely_actioned", "accounts_falsely_actioned_share",
    "median_spam_before_action", "reach_defended", "reach_undefended", "reach_ratio",
    "attack_msgs_undefended",
)


def _share(num: int, den: int) -> float | None:
    return round(num / den, 6) if den else None


def _attack_kinds(kinds: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in kinds.items() if k != "ham"}


def seed_row(summary: dict[str, Any], seed: int, worm_type: bool) -> dict[str, Any]:
    """The figures of one defended/undefended pair."""
    defended, undefended = summary["runs"][0], summary["runs"][1]
    assert defended["defended"] and not undefended["defended"]
    attacks = _attack_kinds(defended["kinds"])
    sent = sum(int(v["sent"]) for v in attacks.values())
    stopped = sum(int(v["stopped"]) for v in attacks.values())
    warned = sum(int(v["warned"]) for v in attacks.values())
    ham = defended["kinds"].get("ham", {"sent": 0, "stopped": 0})
    score = defended["score"]
    cmp = summary["comparison"]
    return {
        "seed": seed,
        "attack_msgs": sent,
        "attack_stopped": stopped,
        "attack_flagged": stopped + warned,
        "stopped_share": _share(stopped, sent),
        "flagged_share": _share(stopped + warned, sent),
        "ham_sent": int(ham["sent"]),
        "ham_held": int(ham["stopped"]),
        "ham_held_share": _share(int(ham["stopped"]), int(ham["sent"])),
        "accounts_falsely_actioned": score["accounts_falsely_actioned"],
        "accounts_falsely_actioned_share": score["accounts_falsely_actioned_share"],
        "median_spam_before_action": defended["compromise"]["median_spam_before_action"],
        "reach_defended": cmp["reach_defended"] if worm_type else None,
        "reach_undefended": cmp["reach_undefended"] if worm_type else None,
        "reach_ratio": cmp["reach_ratio"] if worm_type else None,
        "attack_msgs_undefended": sum(int(v["sent"])
                                      for v in _attack_kinds(undefended["kinds"]).values()),
        "per_kind": {k: {"sent": v["sent"], "stopped": v["stopped"], "warned": v["warned"]}
                     for k, v in attacks.items()},
        "elapsed_s": [r["elapsed_s"] for r in summary["runs"]],
    }


def _median(xs: Sequence[float | None]) -> float | None:
    vals = [x for x in xs if x is not None]
    return round(statistics.median(vals), 6) if vals else None


def _range(xs: Sequence[float | None]) -> list[float] | None:
    vals = [x for x in xs if x is not None]
    return [min(vals), max(vals)] if vals else None


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians and min-max over seeds, and shares pooled over seeds."""
    sent = sum(r["attack_msgs"] for r in rows)
    stopped = sum(r["attack_stopped"] for r in rows)
    flagged = sum(r["attack_flagged"] for r in rows)
    ham_sent = sum(r["ham_sent"] for r in rows)
    ham_held = sum(r["ham_held"] for r in rows)
    return {
        "median": {m: _median([r[m] for r in rows]) for m in METRICS},
        "range": {m: _range([r[m] for r in rows]) for m in METRICS},
        "pooled": {
            "attack_msgs": sent,
            "attack_stopped": stopped,
            "attack_flagged": flagged,
            "stopped_share": _share(stopped, sent),
            "flagged_share": _share(flagged, sent),
            "ham_sent": ham_sent,
            "ham_held": ham_held,
            "ham_held_share": _share(ham_held, ham_sent),
            "accounts_falsely_actioned_total": sum(r["accounts_falsely_actioned"] for r in rows),
            "accounts_falsely_actioned_max": max(r["accounts_falsely_actioned"] for r in rows),
        },
    }


def _pct(x: float | None, digits: int = 1) -> str:
    return "—" if x is None else f"{100 * x:.{digits}f}%"


def _num(x: float | None) -> str:
    if x is None:
        return "—"
    return str(int(x)) if float(x).is_integer() else f"{x:.1f}"


def markdown(scenarios: dict[str, dict[str, Any]], n_seeds: int) -> str:
    """One row per scenario."""
    lines = [
        "| scenario | attack msgs (total) | stopped (pooled) | flagged (pooled) "
        "| median spam before action | reach defended/undefended: ratio (min–max) "
        "| ham held (median) | accounts falsely actioned (max) |",
        "|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    for name, s in scenarios.items():
        med, rng, pool = s["median"], s["range"], s["pooled"]
        if s["worm_type"] and med["reach_ratio"] is not None:
            lo, hi = rng["reach_ratio"]
            reach = (f"{_num(med['reach_defended'])}/{_num(med['reach_undefended'])}: "
                     f"{med['reach_ratio']:.3f} ({lo:.3f}–{hi:.3f})")
        else:
            reach = "—"
        lines.append(
            f"| {name} | {pool['attack_msgs']} | {_pct(pool['stopped_share'])} "
            f"| {_pct(pool['flagged_share'])} | {_num(med['median_spam_before_action'])} "
            f"| {reach} | {_pct(med['ham_held_share'], 2)} "
            f"| {pool['accounts_falsely_actioned_max']} |")
    lines.append("")
    lines.append(f"{n_seeds} seed(s); defended runs except the undefended reach. "
                 "Reach: accounts compromised, medians over seeds.")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--graph", type=Path, default=DEFAULT_GRAPH)
    ap.add_argument("--seeds", type=int, default=5, help="run seeds 0..N-1")
    ap.add_argument("--days", type=float, default=14.0)
    ap.add_argument("--scenarios", default=",".join(SCENARIOS),
                    help=f"comma list of {', '.join(SCENARIOS)}")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()
    if not args.graph.is_file():
        sys.exit(f"graph file not found: {args.graph} (download CollegeMsg.txt from SNAP, "
                 "or pass --graph)")
    names = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown or not names:
        sys.exit(f"unknown scenario(s) {', '.join(unknown) or '(none given)'}; "
                 f"known: {', '.join(SCENARIOS)}")
    if args.seeds < 1:
        sys.exit("--seeds must be at least 1")
    seeds = list(range(args.seeds))
    total = len(names) * len(seeds)
    start = time.perf_counter()
    results: dict[str, dict[str, Any]] = {}
    done = 0
    for name in names:
        spec, worm_type = SCENARIOS[name]
        rows: list[dict[str, Any]] = []
        for seed in seeds:
            t = time.perf_counter()
            summary = simulate_cli(args.graph, [spec], defend=True, seed=seed, days=args.days,
                                   compare=True)
            row = seed_row(summary, seed, worm_type)
            rows.append(row)
            done += 1
            print(f"[{done}/{total}] {name} seed={seed}: {row['attack_msgs']} attack msgs, "
                  f"stopped {_pct(row['stopped_share'])}, reach "
                  f"{row['reach_defended']}/{row['reach_undefended']}, "
                  f"{time.perf_counter() - t:.1f} s (total {time.perf_counter() - start:.0f} s)",
                  file=sys.stderr, flush=True)
        results[name] = {"spec": spec, "worm_type": worm_type, "seeds": rows, **summarise(rows)}
    table = markdown(results, len(seeds))
    result: dict[str, Any] = {
        "graph": str(args.graph),
        "days": args.days,
        "seeds": seeds,
        "model": "heldout",
        "scenarios": results,
        "markdown": table,
        "python": platform.python_version(),
        "elapsed_s": round(time.perf_counter() - start, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(table)
    print(f"\nwrote {args.out} ({result['elapsed_s']} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
