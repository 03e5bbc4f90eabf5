"""Micro-benchmark: median µs per message for spimguard.text.normalize on the SMS corpus.

Usage: PYTHONPATH=src python bench/bench_normalize.py [path/to/SMSSpamCollection]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from spimguard.text import normalize

DEFAULT = Path(__file__).resolve().parents[2] / "shared/data/sms-spam-collection/SMSSpamCollection"
REPEATS = 5


def load(path: Path) -> list[str]:
    texts = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        _, _, text = line.partition("\t")
        if text:
            texts.append(text)
    return texts


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    texts = load(path)
    for text in texts[:200]:  # warm caches
        normalize(text)
    per_message: list[float] = []
    totals: list[float] = []
    clock = time.perf_counter_ns
    for _ in range(REPEATS):
        start_all = clock()
        for text in texts:
            start = clock()
            normalize(text)
            per_message.append((clock() - start) / 1000)
        totals.append((clock() - start_all) / 1000 / len(texts))
    per_message.sort()
    p95 = per_message[int(len(per_message) * 0.95)]
    print(f"{len(texts)} messages x {REPEATS} repeats")
    print(f"median {statistics.median(per_message):.2f} µs/message, p95 {p95:.2f} µs")
    print(f"mean per repeat (µs/message): {', '.join(f'{t:.2f}' for t in totals)}")


if __name__ == "__main__":
    main()
