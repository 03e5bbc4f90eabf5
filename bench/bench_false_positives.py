"""How much benign traffic the whole engine stops or warns about: the false-positive bench.

Usage: python bench/bench_false_positives.py [--policy FILE] [--model A.npz [--model B.npz]]
           [--split test|dev] [--seed 0] [--seeds 3] [--users 300] [--out FILE]

Run on every change to the content model or the weights. A content model's
false-positive rate on a corpus says little about what users see: a message
is held by the sum of every detector's signals, and the behaviour detectors
(campaigns, fan-out, strangers, rate limits, profiles) react to who sends
what to whom. So each data line goes through ``build_engine()`` with the
shipped policy (or ``--policy``) inside an ordinary chat day between
established friends (``fp_data``: the day, its history and why it is built
that way), and the figures are what the engine did, not what the model said.

Three kinds of benign traffic, each on a fresh engine:
(a) hard ham (``data/hardham/hard-ham-{dev,test}.csv``: ordinary messages that
    look like spam: numbers, money, links, shouting), per file and category,
    plus "repeated greetings": 50 people each sending the same "ok" or "happy
    new year!" to 3 friends within 10 minutes, a campaign's shape without its
    content, which must not confirm a campaign;
(b) the public chat corpora's test split (``--split dev`` for tuning), per source;
(c) the simulator's ham on the CollegeMsg graph, no attack, ``--seeds`` seeds.
    Without ``--model`` the simulator uses its held-out model (its ham is the
    shipped corpora's part that model never saw); with ``--model`` each given
    model, which may have been trained on that ham, so read it as a floor.

``--model`` (repeatable) swaps the content model; every data set is replayed
with each, in the same streams, and reported side by side under the file name.
Prints a Markdown table and the held, blocked and warned messages with their
top signals; writes all figures, model hashes and the git commit to ``--out``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fp_data

from spimguard import Engine, MessageEvent, Policy, Verdict, build_engine
from spimguard.campaigns import CampaignStatus, campaigns_for
from spimguard.detectors.content import ContentDetector
from spimguard.learning.model import ContentModel
from spimguard.learning.shipped import shipped_model_path
from spimguard.simulate.cli import simulate_cli
from spimguard.simulate.run import SimConfig, run_closed_loop

ROOT = fp_data.ROOT
GRAPH = ROOT.parent / "shared" / "data" / "collegemsg" / "CollegeMsg.txt"
DEFAULT_OUT = ROOT / "bench" / "results" / "false-positives.json"
CAMPAIGN_SIGNALS = ("CAMPAIGN_MATCH", "CAMPAIGN_TAKEDOWN")


@dataclass(frozen=True)
class Model:
    label: str
    path: Path
    sha256: str
    model: ContentModel


@dataclass
class Tally:
    """What one engine did with one data set's counted messages."""

    messages: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    challenged: set[str] = field(default_factory=set)
    locked: set[str] = field(default_factory=set)
    history_actioned: set[str] = field(default_factory=set)
    false_positives: list[dict[str, Any]] = field(default_factory=list)
    warned_top: Counter[str] = field(default_factory=Counter)
    warned_signals: Counter[str] = field(default_factory=Counter)
    categories: dict[str, Counter[str]] = field(default_factory=dict)
    campaigns_confirmed: list[dict[str, Any]] = field(default_factory=list)

    def add(self, item: fp_data.Item, msg: MessageEvent, v: Verdict) -> None:
        self.messages += 1
        self.actions[v.action.value] += 1
        if v.account_action is not None:
            (self.locked if v.account_action.value == "lock" else self.challenged).add(msg.sender)
        cat = self.categories.setdefault(item.category, Counter())
        cat["messages"] += 1
        cat[v.action.value] += 1
        names = {s.name for s in v.signals}
        cat["campaign"] += v.campaign is not None
        for name in CAMPAIGN_SIGNALS:
            cat[name] += name in names
        top = sorted((s for s in v.signals if s.score > 0), key=lambda s: -s.score)
        if v.action.stops:
            self.false_positives.append({
                "id": msg.id, "category": item.category, "sender": msg.sender,
                "text": item.text, "action": v.action.value, "score": round(v.score, 3),
                "account_action": v.account_action.value if v.account_action else None,
                "campaign": v.campaign, "signals": [s.to_dict() for s in top]})
        elif v.action.value == "warn" and top:
            self.warned_top[top[0].name] += 1
            self.warned_signals.update(s.name for s in top)

    def as_dict(self) -> dict[str, Any]:
        n = self.messages or 1
        return {
            "messages": self.messages,
            **{k: self.actions[a] for k, a in (("held", "hold"), ("blocked", "block"),
                                               ("warned", "warn"))},
            **{f"{k}_share": round(self.actions[a] / n, 6)
               for k, a in (("held", "hold"), ("blocked", "block"), ("warned", "warn"))},
            "accounts_challenged": sorted(self.challenged),
            "accounts_locked": sorted(self.locked),
            "history_accounts_actioned": sorted(self.history_actioned),
            "per_category": {k: dict(c) for k, c in sorted(self.categories.items())},
            "campaigns_confirmed": self.campaigns_confirmed,
            "warned_top_signal": dict(self.warned_top.most_common()),
            "warned_signals": dict(self.warned_signals.most_common()),
            "false_positives": self.false_positives,
        }


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_models(paths: list[Path], policy: Policy) -> list[Model]:
    """The models to compare, labelled by file name (with the folder when names clash)."""
    if not paths:
        paths = [Path(policy.detector_settings.get("content", {}).get("model")
                      or shipped_model_path())]
    labels = [p.name for p in paths]
    if len(set(labels)) < len(labels):
        labels = [f"{p.parent.name}/{p.name}" for p in paths]
    if len(set(labels)) < len(labels):
        labels = [str(p) for p in paths]
    return [Model(lab, p, sha256(p), ContentModel.load(p)) for lab, p in zip(labels, paths,
                                                                            strict=True)]


def engine_factory(policy: Policy, model: ContentModel) -> Callable[[], Engine]:
    """Fresh engines with every default detector and ``model`` as the content model."""
    settings = dict(policy.detector_settings.get("content", {}))
    # The base engine's own content detector is thrown away: let it be the cached shipped one.
    base_policy = replace(policy, detector_settings={**policy.detector_settings,
                                                     "content": {**settings, "model": ""}})

    def make() -> Engine:
        base = build_engine(base_policy)
        content = ContentDetector.from_settings(settings, model=model)
        return Engine([content if d.name == "content" else d for d in base.detectors],
                      policy=policy)

    return make


def judge(stream: fp_data.Stream, engine: Engine) -> Tally:
    """Replay the stream; count only its counted messages."""
    tally = Tally()
    for ev in stream.events:
        if not isinstance(ev, MessageEvent):
            engine.observe(ev)
            continue
        v = engine.check(ev)
        item = stream.counted.get(ev.id)
        if item is not None:
            tally.add(item, ev, v)
        elif v.account_action is not None:
            tally.history_actioned.add(ev.sender)
    state = campaigns_for(engine.store)
    for status in (CampaignStatus.CONFIRMED, CampaignStatus.TAKEN_DOWN):
        tally.campaigns_confirmed += [
            {"id": c.id, "reason": c.reason, "senders": c.senders, "messages": c.messages,
             "samples": list(c.samples)} for c in state.campaigns(status)]
    return tally


def simulate(models: list[Model], given: bool, policy: Policy, policy_path: Path | None,
             seeds: int, days: float) -> list[dict[str, Any]]:
    """(c): one row per seed, cells per model, from the simulator's summary."""
    rows: list[dict[str, Any]] = []
    for seed in range(seeds):
        cells: dict[str, dict[str, Any]] = {}
        for m in models:
            t = time.perf_counter()
            if given:
                res = run_closed_loop(SimConfig(seed=seed, graph=GRAPH, days=days),
                                      engine_factory(policy, m.model)(), record=False)
                run = res.summary()
            else:
                run = simulate_cli(GRAPH, [], seed=seed, days=days, policy=policy_path)["runs"][0]
            acts, score = run["score"]["actions"], run["score"]
            ham = run["kinds"].get("ham", {})
            cells[m.label] = {
                "messages": int(ham.get("sent", 0)), "held": acts.get("hold", 0),
                "blocked": acts.get("block", 0), "warned": acts.get("warn", 0),
                "ham_stopped_share": score["ham_stopped"], "ham_warned_share": score["ham_warned"],
                "accounts_falsely_actioned": score["accounts_falsely_actioned"],
                "active_accounts": score["active_accounts"]}
            print(f"  sim seed {seed} [{m.label}]: {cells[m.label]['held']} held, "
                  f"{time.perf_counter() - t:.1f} s", file=sys.stderr, flush=True)
        rows.append({"seed": seed, "model": "given" if given else "heldout", "cells": cells})
    return rows


def pct(k: int, n: int) -> str:
    return f"{100 * k / n:.2f}% ({k})" if n else "—"


def accounts(ch: int, lo: int) -> str:
    return str(ch + lo) + (f" ({ch} challenged, {lo} locked)" if ch + lo else "")


def md_table(first: str, metrics: list[str], labels: list[str],
             rows: list[tuple[str, int, dict[str, dict[str, str]]]]) -> str:
    """Markdown; each metric gets one column per model when there are several."""
    heads = [m if len(labels) == 1 else f"{m} ({lab})" for m in metrics for lab in labels]
    lines = [f"| {first} | messages | " + " | ".join(heads) + " |",
             "|---|---:|" + "---:|" * len(heads)]
    for name, n, cells in rows:
        vals = [cells[lab][m] for m in metrics for lab in labels]
        lines.append(f"| {name} | {n} | " + " | ".join(vals) + " |")
    return "\n".join(lines)


def cells_of(t: dict[str, Any]) -> dict[str, str]:
    n = t["messages"]
    return {"held": pct(t["held"], n), "blocked": pct(t["blocked"], n),
            "warned": pct(t["warned"], n),
            "accounts actioned": accounts(len(t["accounts_challenged"]),
                                          len(t["accounts_locked"]))}


def category_table(res: dict[str, dict[str, Any]], labels: list[str], greetings: bool) -> str:
    cats = sorted(next(iter(res.values()))["per_category"])
    metrics = ["held", "blocked", "warned"] + (["campaign match", "takedown"] if greetings else [])
    rows = []
    for cat in cats:
        per = {lab: res[lab]["per_category"][cat] for lab in labels}
        cells = {lab: {"held": str(c.get("hold", 0)), "blocked": str(c.get("block", 0)),
                       "warned": str(c.get("warn", 0)),
                       "campaign match": str(c.get("CAMPAIGN_MATCH", 0)),
                       "takedown": str(c.get("CAMPAIGN_TAKEDOWN", 0))} for lab, c in per.items()}
        rows.append((repr(cat) if greetings else cat, per[labels[0]]["messages"], cells))
    return md_table("text" if greetings else "category", metrics, labels, rows)


def listing(name: str, label: str, t: dict[str, Any], limit: int) -> list[str]:
    fps = t["false_positives"]
    out = [f"### {name} [{label}]: {len(fps)} held or blocked, {t['warned']} warned"]
    for fp in fps[:limit]:
        text = fp["text"]
        shown = repr(text[:80]) + ("…" if len(text) > 80 else "")
        sigs = "; ".join(f"{s['name']} {s['score']:+.2f} ({s['detail']})"
                         for s in fp["signals"][:3])
        cat = f" [{fp['category']}]" if fp["category"] else ""
        out.append(f"- {fp['action']} {fp['score']:.2f}{cat} {shown} — {sigs or 'no signal'}")
    if len(fps) > limit:
        out.append(f"- … and {len(fps) - limit} more (all in the JSON)")
    if t["warned_top_signal"]:
        out.append("- warned, by top signal: " + ", ".join(
            f"{k} ×{v}" for k, v in t["warned_top_signal"].items()))
    return out


def git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--policy", type=Path, help="TOML merged over the shipped defaults")
    ap.add_argument("--model", type=Path, action="append", default=[],
                    help="content model .npz (repeat to compare models side by side)")
    ap.add_argument("--split", choices=("test", "dev"), default="test")
    ap.add_argument("--seed", type=int, default=0, help="seed of the chat day of (a) and (b)")
    ap.add_argument("--seeds", type=int, default=3, help="simulator seeds 0..N-1 (0: skip)")
    ap.add_argument("--days", type=float, default=14.0, help="simulated days (busiest window)")
    ap.add_argument("--users", type=int, default=300)
    ap.add_argument("--list", type=int, default=50, help="false positives listed per data set")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()
    started, t0 = datetime.now(UTC), time.perf_counter()
    policy = Policy.load(args.policy)
    models = load_models(args.model, policy)
    labels = [m.label for m in models]
    makers = {m.label: engine_factory(policy, m.model) for m in models}
    notes: list[str] = []
    results: dict[str, dict[str, Any]] = {}
    sets = fp_data.data_sets(args.split, args.seed, args.users, notes)
    for i, ds in enumerate(sets, 1):
        stream = ds.build()
        results[ds.name] = {"kind": ds.kind, "file": ds.file, "note": ds.note, "results": {}}
        for m in models:
            t = time.perf_counter()
            tally = judge(stream, makers[m.label]()).as_dict()
            results[ds.name]["results"][m.label] = tally
            print(f"[{i}/{len(sets)}] {ds.name} [{m.label}]: {tally['messages']} messages, "
                  f"{tally['held']} held, {tally['blocked']} blocked, {tally['warned']} warned, "
                  f"{time.perf_counter() - t:.1f} s", file=sys.stderr, flush=True)
    sim: list[dict[str, Any]] = []
    if args.seeds > 0 and GRAPH.is_file():
        sim = simulate(models, bool(args.model), policy, args.policy, args.seeds, args.days)
        notes.append("simulator: " + (
            "each given model; its ham is the SIM part of the shipped corpora, which a model "
            "trained on all of them has seen: a floor" if args.model else
            "the simulator's held-out content model (not the file in the column header)"))
    elif args.seeds > 0:
        notes.append(f"simulator: {GRAPH} missing; (c) skipped")
    rows = [(name, next(iter(d["results"].values()))["messages"],
             {lab: cells_of(d["results"][lab]) for lab in labels}) for name, d in results.items()]
    tag = "" if args.model else " (held-out model)"
    for r in sim:
        cells = {lab: {"held": pct(c["held"], c["messages"]),
                       "blocked": pct(c["blocked"], c["messages"]),
                       "warned": pct(c["warned"], c["messages"]),
                       "accounts actioned": f"{c['accounts_falsely_actioned']} of "
                                            f"{c['active_accounts']}"}
                 for lab, c in r["cells"].items()}
        rows.append((f"sim CollegeMsg seed {r['seed']}{tag}",
                     next(iter(r["cells"].values()))["messages"], cells))
    metrics = ["held", "blocked", "warned", "accounts actioned"]
    parts = [md_table("dataset", metrics, labels, rows), ""]
    parts += [f"Note: {n}" for n in notes] + [""]
    for name, d in results.items():
        if d["kind"] in ("hard_ham", "greetings"):
            res = d["results"]
            parts += [f"**{name}** per {'text' if d['kind'] == 'greetings' else 'category'}:",
                      "", category_table(res, labels, d["kind"] == "greetings"), ""]
            if d["kind"] == "greetings":
                parts += [f"campaigns confirmed [{lab}]: {len(res[lab]['campaigns_confirmed'])}; "
                          f"messages tied to a campaign: "
                          f"{sum(c.get('campaign', 0) for c in res[lab]['per_category'].values())}"
                          for lab in labels] + [""]
        for lab in labels:
            hist = d["results"][lab]["history_accounts_actioned"]
            if hist:
                parts.append(f"Note: {name} [{lab}]: {len(hist)} account(s) actioned during the "
                             "uncounted history (their counted messages may be held for it)")
    parts += ["", "## False positives (held or blocked) and warnings", ""]
    for name, d in results.items():
        for lab in labels:
            parts += listing(name, lab, d["results"][lab], args.list) + [""]
    report = "\n".join(parts)
    result = {
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "policy": policy.source,
        "models": [{"label": m.label, "path": str(m.path), "sha256": m.sha256} for m in models],
        "split": args.split, "seed": args.seed, "users": args.users,
        "datasets": results,
        "simulator": {"graph": str(GRAPH), "days": args.days, "runs": sim},
        "notes": notes, "markdown": report,
        "python": platform.python_version(),
        "elapsed_s": round(time.perf_counter() - t0, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(report)
    print(f"wrote {args.out} ({result['elapsed_s']} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
