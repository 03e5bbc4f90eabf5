"""Micro-benchmark: median µs per ``extract_links`` call for messages with 0, 1 and 3 links.

Usage: python bench/bench_extract.py [--repeats 5]

The 0-link set is every message of the shipped SMS Spam Collection copy in
which the extractor finds no link (most of the corpus: SMS spam gives phone
numbers, not URLs). The 1- and 3-link sets are synthesised from those same
messages by splicing in links of the kinds spam uses (scheme URLs, bare hosts
with paths, redirectors, IDN and punycode hosts), with a random host per
link, so no two messages share one.
Every text first goes through ``normalize(...).links``, as in the engine; only
``extract_links`` is timed. ``median_us`` is over the repeats, with the host
caches warm (the Link cache, smaller than the corpus, never hits: a cyclic
scan defeats an LRU); ``median_us_cold_caches`` is one pass after emptying
every cache, so each host pays its Public Suffix lookup. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import time
from importlib import resources

from spimguard.links import extract
from spimguard.links.domains import split_host
from spimguard.links.extract import extract_links
from spimguard.text import normalize

TEMPLATES = (
    "https://{h}.com/login?id={n}",
    "{h}.xyz/claim",
    "www.{h}.net",
    "http://{h}.co.uk/win",
    "https://bit.ly/{h}{n}",
    "https://t.co/r?u=https%3A%2F%2F{h}.top%2Fx",
    "аррӏе-{h}.com/verify",
    "http://xn--80ak6aa92e.{h}.ru/",
    "{h}.github.io/{n}",
    "http://{ip}/admin",
)


def corpus() -> list[str]:
    path = resources.files("spimguard").joinpath("data/corpus/sms-spam-collection.tsv")
    texts = []
    for line in path.read_bytes().decode("utf-8", errors="replace").splitlines():
        _, _, text = line.partition("\t")
        if text:
            texts.append(normalize(text).links)
    return texts


def with_links(texts: list[str], count: int, rng: random.Random) -> list[str]:
    out = []
    for n, text in enumerate(texts):
        words = text.split()
        for _ in range(count):
            host = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(7))
            ip = ".".join(str(rng.randrange(1, 255)) for _ in range(4))
            link = rng.choice(TEMPLATES).format(h=host, n=n, ip=ip)
            words.insert(rng.randrange(len(words) + 1), link)
        out.append(normalize(" ".join(words)).links)
    return out


def median_us(texts: list[str], repeats: int) -> float:
    clock = time.perf_counter_ns
    samples: list[float] = []
    for _ in range(repeats):
        for text in texts:
            start = clock()
            extract_links(text)
            samples.append((clock() - start) / 1000)
    return statistics.median(samples)


def cold_median_us(texts: list[str]) -> float:
    """One pass with every cache emptied first: each host is parsed for the first time."""
    split_host.cache_clear()
    extract._host_info.cache_clear()
    extract._make.cache_clear()
    clock = time.perf_counter_ns
    samples: list[float] = []
    for text in texts:
        start = clock()
        extract_links(text)
        samples.append((clock() - start) / 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(1)
    texts = corpus()
    plain = [t for t in texts if not extract_links(t).links]
    sets = {"0": plain, "1": with_links(plain, 1, rng), "3": with_links(plain, 3, rng)}
    for name, batch in sets.items():
        found = sum(len(extract_links(t).links) for t in batch)  # also warms the caches
        assert found == int(name) * len(batch), (name, found)
    result = {
        "messages": len(plain),
        "corpus_messages_with_links": len(texts) - len(plain),
        "repeats": args.repeats,
        "python": platform.python_version(),
        "median_us": {f"{k}_links": round(median_us(v, args.repeats), 2) for k, v in sets.items()},
        "median_us_cold_caches": {
            f"{k}_links": round(cold_median_us(v), 2) for k, v in sets.items() if k != "0"
        },
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
