"""Content model scoring speed against an earlier revision, in the same run.

Usage: python bench/bench_model_speed.py [--baseline REV] [--rounds 7] [--corpus FILE]

This machine's speed drifts by tens of percent between minutes, so a speed
figure is only meaningful as a ratio against the previous code measured in
the same run. The baseline revision is checked out into a temporary git
worktree; each round runs the baseline and the current code in fresh
subprocesses, in alternating order, each scoring every text of the corpus
with its own shipped model (``ContentModel.score`` on the normalised text,
normalisation excluded, word cache warm as in production). Prints the median
µs per message of each side and the ratio; JSON to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "bench" / "results" / "model-speed.json"

_SNIPPET = r"""
import json, sys, time
from spimguard.learning.corpus import read_corpus
from spimguard.learning.shipped import load_shipped_model, shipped_path
from spimguard.text import normalize
path = sys.argv[1]
texts = read_corpus(path if path else shipped_path("corpus/sms-spam-collection.tsv")).texts
pairs = [(normalize(t).match, t) for t in texts]
model = load_shipped_model()
for m, t in pairs[:500]:
    model.score(m, t)
best = []
for _ in range(3):
    t0 = time.perf_counter()
    for m, t in pairs:
        model.score(m, t)
    best.append((time.perf_counter() - t0) / len(pairs) * 1e6)
print(json.dumps({"us_per_msg": min(best), "n": len(pairs)}))
"""


def _run(src: Path, corpus: str) -> float:
    out = subprocess.run([sys.executable, "-c", _SNIPPET, corpus], check=True,
                         capture_output=True, text=True,
                         env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"})
    return float(json.loads(out.stdout.strip().splitlines()[-1])["us_per_msg"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--baseline", default="0d643b4", help="git revision to compare against")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--corpus", default="")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "baseline"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree),
                        args.baseline], check=True, capture_output=True)
        try:
            sides: dict[str, list[float]] = {"baseline": [], "current": []}
            for r in range(args.rounds):
                order = ["baseline", "current"] if r % 2 == 0 else ["current", "baseline"]
                for side in order:
                    src = tree / "src" if side == "baseline" else ROOT / "src"
                    sides[side].append(_run(src, args.corpus))
                print(f"round {r + 1}: " + ", ".join(
                    f"{k} {v[-1]:.1f} µs" for k, v in sides.items()), file=sys.stderr)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                           check=False, capture_output=True)
    med = {k: statistics.median(v) for k, v in sides.items()}
    result: dict[str, Any] = {
        "baseline": args.baseline, "rounds": args.rounds, "runs_us": sides,
        "median_us": med, "ratio_current_to_baseline": med["current"] / med["baseline"],
        "commit": subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"],
                                 capture_output=True, text=True).stdout.strip(),
    }
    print(json.dumps(result, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
