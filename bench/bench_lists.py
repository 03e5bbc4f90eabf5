"""Block-list load time and memory for 1,000,000 entries.

Usage: python bench/bench_lists.py [--entries 1000000] [--repeats 3]

Writes a temporary list of synthetic phishing-like hosts (and 5% IPs), loads
it with ``DomainList`` several times, and prints the median load time, the
memory the loaded list holds (tracemalloc, measured in a separate load) and
the process's max RSS, plus the median cost of one ``match_host`` call.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

from spimguard.links.lists import DomainList


def _write(path: Path, n: int) -> None:
    rng = random.Random(7)
    words = ["secure", "login", "verify", "account", "update", "paypal", "apple", "bank",
             "wallet", "support", "service", "online", "id", "auth", "mail", "office"]
    tlds = ["com", "xyz", "top", "info", "net", "online", "site", "co.uk", "web.app", "pages.dev"]
    with open(path, "w") as fh:
        fh.write("# synthetic list\n")
        for i in range(n):
            if i % 20 == 0:
                fh.write(f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}."
                         f"{rng.randrange(256)}\n")
            else:
                name = "-".join(rng.sample(words, rng.randrange(1, 4)))
                fh.write(f"{name}{i}.{rng.choice(tlds)}\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "list.txt"
        _write(path, args.entries)
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            dl = DomainList([path])
            times.append(time.perf_counter() - t0)
        del dl
        tracemalloc.start()
        dl = DomainList([path])
        held, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        hosts = ["a.b.login-secure123.xyz", "www.bbc.co.uk", "verify-paypal-apple.web.app"] * 3000
        t0 = time.perf_counter()
        for h in hosts:
            dl.match_host(h, "com")
        per_match = (time.perf_counter() - t0) / len(hosts)
    out = {
        "entries": dl.stats.entries,
        "load_s": [round(t, 3) for t in times],
        "load_s_median": round(statistics.median(times), 3),
        "held_mb": round(held / 2**20, 1),
        "peak_during_load_mb": round(peak / 2**20, 1),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "match_host_us": round(per_match * 1e6, 2),
    }
    (Path(__file__).parent / "results").mkdir(exist_ok=True)
    (Path(__file__).parent / "results" / "lists.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
