"""Link analysis per message: the links detector on messages with 0, 1 and 3 links.

Usage: python bench/bench_links.py [--repeats 5]

0-link messages are the shipped SMS texts without a dot-word; 1- and 3-link
messages splice links into them. Two link pools: "repeat" (200 hosts seen
again and again, as in a campaign: caches warm) and "unique" (a new host every
message: every cache cold, the worst case). Prints median µs per message
through ``LinksDetector.check`` (extraction, lists, look-alikes, TLD risk,
URL model) and writes bench/results/links.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

from spimguard.core.context import MessageContext
from spimguard.core.events import MessageEvent
from spimguard.detectors.links import LinksDetector
from spimguard.learning.corpus import read_corpus
from spimguard.learning.shipped import shipped_path
from spimguard.state.memory import MemoryStore
from spimguard.text import normalize

WORDS = ["secure", "login", "news", "shop", "verify", "photos", "my", "best", "deal", "app"]
TLDS = ["com", "xyz", "co.uk", "top", "net", "web.app", "info", "de"]
PATHS = ["", "/login", "/news/world-123", "/p/abc?ref=x", "/wp-includes/id/verify.php"]


def _host(rng: random.Random, i: int) -> str:
    return f"{rng.choice(WORDS)}-{rng.choice(WORDS)}{i}.{rng.choice(TLDS)}"


def _contexts(texts: list[str], links: int, unique: bool, salt: int = 0) -> list[MessageContext]:
    rng = random.Random(links * 10 + unique)
    pool = [_host(rng, i) for i in range(200)]
    store = MemoryStore()
    out = []
    for i, t in enumerate(texts):
        parts = [t]
        for k in range(links):
            host = (_host(rng, 10_000 + (salt * len(texts) + i) * 3 + k) if unique
                    else rng.choice(pool))
            parts.append(f"https://{host}{rng.choice(PATHS)}")
        text = " ".join(parts)
        msg = MessageEvent(ts=0.0, id=str(i), sender="s", recipients=("r",), text=text)
        out.append(MessageContext(msg, normalize(text), store, 0.0))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    texts = [t for t in read_corpus(shipped_path("corpus/sms-spam-collection.tsv")).texts
             if "." not in t and ":" not in t][:2000]
    det = LinksDetector.from_settings({})
    result: dict[str, object] = {"messages": len(texts)}
    for links in (0, 1, 3):
        for unique in (False, True):
            if links == 0 and unique:
                continue
            per: list[float] = []
            for r in range(args.repeats):
                # unique: fresh hosts every repeat, so no cache helps
                ctxs = _contexts(texts, links, unique, salt=r)
                t0 = time.perf_counter()
                for c in ctxs:
                    list(det.check(c))
                per.append((time.perf_counter() - t0) / len(ctxs) * 1e6)
            key = f"{links}_links" + ("_unique_hosts" if unique else "")
            result[key + "_us_median"] = round(statistics.median(per), 1)
    out = Path(__file__).parent / "results" / "links.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
