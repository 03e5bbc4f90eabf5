"""Latency of ``UrlModel.score``, one link per call.

Usage: python bench/bench_url_model.py [--repeats 5] [--n 20000] [--json FILE]

Links are the phishing URLs and OpenDNS domains from ../shared/data when
present, else the test fixtures. Two figures, each the median over repeats of
the median per-call time:

* ``cold``: the host-splitting cache (``split_host``'s LRU) is emptied before
  each repeat, so every host is parsed by tldextract once, as for a link never
  seen before;
* ``warm``: the same links again with the cache filled, as for links that
  recur (most do in chat).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

from spimguard.links.domains import split_host
from spimguard.links.url_eval import read_host_list, read_phish_tsv
from spimguard.links.url_model import load_shipped_url_model, shipped_url_model_path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "data"
FIX = HERE.parent / "tests" / "fixtures" / "links"


def _links(n: int) -> list[tuple[str, str]]:
    if (SHARED / "phishing-database").is_dir():
        phish = read_phish_tsv(SHARED / "phishing-database/phishing-links-first-seen.sample50k.tsv")
        benign = read_host_list(SHARED / "benign-domains/opendns/opendns-random-domains.txt")
    else:
        phish = read_phish_tsv(FIX / "phish-first-seen.tsv")
        benign = read_host_list(FIX / "benign-domains.txt")
    links = [(h, p) for _, h, p in phish[: n // 2]] + [(h, "/") for h in benign[: n // 2]]
    return links


def _per_call_us(links: list[tuple[str, str]]) -> float:
    model = load_shipped_url_model()
    score = model.score
    times = []
    clock = time.perf_counter_ns
    for h, p in links:
        t0 = clock()
        score(h, p)
        times.append(clock() - t0)
    return statistics.median(times) / 1000.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    links = _links(args.n)
    t0 = time.perf_counter()
    load_shipped_url_model()
    load_ms = (time.perf_counter() - t0) * 1000
    cold, warm = [], []
    for _ in range(args.repeats):
        split_host.cache_clear()
        cold.append(_per_call_us(links))
        warm.append(_per_call_us(links))
    out = {
        "links": len(links),
        "model_bytes": shipped_url_model_path().stat().st_size,
        "load_ms": round(load_ms, 1),
        "cold_median_us": round(statistics.median(cold), 2),
        "warm_median_us": round(statistics.median(warm), 2),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    for k, v in out.items():
        print(f"{k}: {v}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
