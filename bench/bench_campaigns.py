"""Cost of campaign clustering per message: the campaigns detector's check + on_verdict.

Usage: python bench/bench_campaigns.py [--repeats 5] [--out FILE]

Texts are the shipped SMS Spam Collection, normalised up front (the engine
does that once for every detector). Scenarios, each on fresh state:

* ``distinct``: every SMS once, each from its own sender: almost no message
  joins a campaign (the cost ordinary traffic pays). Split into ``short``
  (too few words to cluster: fingerprint only) and ``eligible``. Few SMS
  carry a link, so most pay fingerprint + exact key + record only.
* ``distinct_linked``: the eligible SMS with a link appended (a domain of
  its own each): each pays link extraction (cold: a new host every time) and
  the near-duplicate path too (signature, LSH query, insert).
* ``exact_copies``: one campaign text sent by 5,000 senders (fingerprint
  cache, exact-hash hit, record).
* ``near_copies``: the same text mutated per copy (a word, a number and the
  URL change; hosts from a pool of 20), so every copy misses the exact hash
  and goes through the signature and the LSH query.
* ``confirmed_copies``: exact copies of a confirmed campaign (takedown path).
* ``engine``: messages/s through ``build_engine()`` (default detectors) with
  and without the campaigns and decoys detectors, one message per call.

Prints the median and the best of the repeats, in µs per message (JSON;
``--out`` also writes it). On a shared machine the best is the better guide
to the code's own cost; the median shows what neighbours do to it.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from spimguard import Engine, MessageEvent, Policy, build_engine
from spimguard.campaigns import Campaigns
from spimguard.core.context import MessageContext
from spimguard.core.verdicts import Action, Verdict
from spimguard.detectors.campaigns import CampaignsDetector
from spimguard.detectors.decoys import DecoysDetector
from spimguard.learning.corpus import read_corpus
from spimguard.learning.shipped import shipped_path
from spimguard.state.memory import MemoryStore
from spimguard.text import normalize

CAMPAIGN = ("hey is this you in this video? everyone is talking about it, look before it "
            "gets deleted {url}")
WORDS = ["video", "clip", "photo", "movie", "pic", "film"]


def _contexts(texts: list[str], senders: Callable[[int], str]) -> list[MessageContext]:
    store = MemoryStore()
    out = []
    for i, t in enumerate(texts):
        msg = MessageEvent(ts=1000.0 + i * 0.01, id=f"m{i}", sender=senders(i),
                           recipients=(f"@r{i}:x.org",), text=t)
        out.append(MessageContext(msg, normalize(t), store, msg.ts))
    return out


def _run(ctxs: list[MessageContext], prime: list[MessageContext] | None = None,
         confirm: bool = False) -> float:
    """µs per message through check + on_verdict, on fresh state."""
    state = Campaigns()
    det = CampaignsDetector(state)
    allow = Verdict("x", Action.ALLOW, 0.0, ())
    for c in prime or []:
        list(det.check(c))
        det.on_verdict(c.message, allow, c.now)
    if confirm:
        for camp in state.campaigns():
            state.confirm(camp.id, "bench")
    t0 = time.perf_counter()
    for c in ctxs:
        list(det.check(c))
        det.on_verdict(c.message, allow, c.now)
    return (time.perf_counter() - t0) / len(ctxs) * 1e6


def _mutated(n: int, rng: random.Random) -> list[str]:
    out = []
    for i in range(n):
        text = CAMPAIGN.format(url=f"http://v{rng.randrange(20)}.clips-{i % 7}.xyz/w?id={i}")
        text = text.replace("video", rng.choice(WORDS))
        out.append(text + f" #{rng.randrange(1000)}")
    return out


def _engine_rate(engine_factory: Callable[[], Engine], texts: list[str]) -> float:
    eng = engine_factory()
    msgs = [MessageEvent(ts=1000.0 + i, id=f"m{i}", sender=f"@s{i % 500}:x.org",
                         recipients=(f"@r{i}:x.org",), text=t) for i, t in enumerate(texts)]
    t0 = time.perf_counter()
    for m in msgs:
        eng.check(m)
    return len(msgs) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    texts = read_corpus(shipped_path("corpus/sms-spam-collection.tsv")).texts
    probe = Campaigns()
    eligible = [t for t in texts if probe.fingerprinter(normalize(t)).usable]
    short = [t for t in texts if not probe.fingerprinter(normalize(t)).usable]
    rng = random.Random(7)
    seed_text = CAMPAIGN.format(url="http://v1.clips-0.xyz/w?id=1")
    scenarios: dict[str, Callable[[], float]] = {
        "distinct_all": lambda: _run(_contexts(texts, lambda i: f"@s{i}:x.org")),
        "distinct_short": lambda: _run(_contexts(short, lambda i: f"@s{i}:x.org")),
        "distinct_eligible": lambda: _run(_contexts(eligible, lambda i: f"@s{i}:x.org")),
        "distinct_linked": lambda: _run(_contexts(
            [f"{t} https://shop-{i}.example/p/{rng.randrange(10**6)}"
             for i, t in enumerate(eligible)], lambda i: f"@s{i}:x.org")),
        "exact_copies": lambda: _run(_contexts([seed_text] * 5000, lambda i: f"@c{i}:x.org"),
                                     prime=_contexts([seed_text], lambda i: "@seed:x.org")),
        "near_copies": lambda: _run(_contexts(_mutated(5000, rng), lambda i: f"@c{i}:x.org"),
                                    prime=_contexts([seed_text], lambda i: "@seed:x.org")),
        "confirmed_copies": lambda: _run(
            _contexts([seed_text] * 5000, lambda i: f"@c{i}:x.org"),
            prime=_contexts([seed_text] * 2, lambda i: f"@seed{i}:x.org"), confirm=True),
    }
    result: dict[str, object] = {"messages_corpus": len(texts), "eligible": len(eligible),
                                 "short": len(short)}
    for name, fn in scenarios.items():
        per = [fn() for _ in range(args.repeats)]
        result[f"{name}_us_median"] = round(statistics.median(per), 1)
        result[f"{name}_us_best"] = round(min(per), 1)
    pol = Policy()
    base = [_engine_rate(lambda: build_engine(pol), texts) for _ in range(args.repeats)]
    plus = [_engine_rate(lambda: Engine(
        [*build_engine(pol).detectors, CampaignsDetector.from_settings({}),
         DecoysDetector(["@decoy:x.org"])], pol), texts) for _ in range(args.repeats)]
    result["engine_default_msgs_per_s"] = round(statistics.median(base))
    result["engine_with_campaigns_msgs_per_s"] = round(statistics.median(plus))
    result["engine_added_us_per_msg_median"] = round(
        1e6 / statistics.median(plus) - 1e6 / statistics.median(base), 1)
    result["engine_added_us_per_msg_best"] = round(1e6 / max(plus) - 1e6 / max(base), 1)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
