"""Cost per message of the metadata detectors (session, dormant, burst, correlation, feedback).

Usage: python bench/bench_metadata.py [--messages 50000] [--users 2000] [--rounds 10]
                                      [--warm 0.2] [--seed 7] [--out FILE]

Target: "No new detector costs more than 20 µs per message".

Builds a chat stream in memory (seeded): ``--users`` accounts with mutual
contact lists (``ContactEvent`` both ways), account events, logins from one or
two devices on a home network, then ``--messages`` messages over 40 days,
mostly encrypted (``MessageEvent(..., encrypted=True, device=..., size=...)``)
with about 15% plaintext, as conversations of a few messages plus some room
messages; routine logins, owners' new phones and trips (a known device on a
new network); a few hijacked sessions in waves (a login from a new device and
a new IP, then one same-size message to each of 10-25 contacts at clockwork
intervals) followed by ``FeedbackEvent`` blocks and leaves, and some stray
leaves. Every engine is ``spimguard.build_engine()`` (the shipped defaults,
memory store), fed the first ``--warm`` share of the stream untimed.

The rest of the stream is cut into ``--rounds`` segments with the same number
of messages, each fed to three engines in turn (the order alternates between
rounds; this machine is noisy):

* ``instrumented``: the default engine whose five detectors' ``check`` and
  ``observe`` are timed one call at a time (``perf_counter_ns``) from inside
  the engine, so each sees exactly the context, memo and state it sees in
  production. Session, dormancy, burst and correlation share
  ``metadata.facts(ctx)`` through ``ctx.memo``; the first of them in engine
  order (``session``) would pay for it, so facts are computed, and timed, just
  before that detector's check: the per-detector figures are each detector's
  own time with the facts already computed, ``facts`` is the shared cost, and
  the sum is the five with facts. Non-message events reach ``observe`` too
  (a block is the feedback detector's work): that time is spread over the
  messages. The cost of one timed call of a builtin (timer overhead) is
  subtracted per call. Hooks the engine skips (no-op ``observe``) are not
  called, as in the engine.
* ``enabled``: the plain default engine; ``disabled``: the same with
  ``[detectors] disabled = [the five]``. Whole ``Engine.check`` /
  ``Engine.observe`` time over the segment per message, and p50 / p99 of
  ``Engine.check`` latency.

Figures are medians over the rounds (each round thousands of messages). JSON
to ``--out`` (default bench/results/metadata.json), a Markdown table printed
and stored under ``"markdown"``.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import itertools
import json
import platform
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import chat_texts  # bench/: run as python bench/bench_metadata.py

from spimguard import (
    AccountEvent,
    ContactEvent,
    Engine,
    Event,
    FeedbackEvent,
    LoginEvent,
    MessageEvent,
    Policy,
    build_engine,
)
from spimguard.detectors import metadata

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "bench" / "results" / "metadata.json"
FIVE = ("session", "dormant", "burst", "correlation", "feedback")
#: The detectors that read metadata.facts (the first of them in engine order pays).
FACT_USERS = ("session", "dormant", "burst", "correlation")
SIGNALS = {"session": "NEW_SESSION", "dormant": "DORMANT_WAKEUP", "burst": "UNIFORM_BURST",
           "correlation": "METADATA_CAMPAIGN", "feedback": "RECIPIENT_FEEDBACK"}
TARGET_US = 20.0
T0 = 1_700_000_000.0
DAY = 86_400.0
SPAN = 40 * DAY
ns = time.perf_counter_ns


# -- the stream ----------------------------------------------------------------


def _uid(i: int) -> str:
    return f"@u{i:04d}:chat.example"


def _cipher_size(rng: random.Random) -> int:
    chars = min(int(rng.lognormvariate(3.6, 0.8)) + 2, 4000)
    return 180 + (int(chars * 1.37) // 4) * 4  # Megolm envelope + base64 of the text


def build_stream(n_users: int, n_messages: int, hijacks: int, seed: int
                 ) -> tuple[list[Event], dict[str, int]]:
    """Events sorted by time; the first ones set up accounts, contacts and logins."""
    rng = random.Random(seed)
    users = [_uid(i) for i in range(n_users)]
    timed: list[tuple[float, int, Event]] = []
    seq = 0

    def add(ev: Event) -> None:
        nonlocal seq
        timed.append((ev.ts, seq, ev))
        seq += 1

    setup: list[Event] = []
    for i, u in enumerate(users):
        setup.append(AccountEvent(T0 - 61 * DAY + i, u, T0 - rng.uniform(60, 500) * DAY))
    contacts: list[set[int]] = [set() for _ in users]
    for i in range(n_users):
        for _ in range(rng.randint(4, 20)):
            j = (i + rng.randint(-50, 50)) % n_users if rng.random() < 0.7 \
                else rng.randrange(n_users)
            if j != i:
                contacts[i].add(j)
                contacts[j].add(i)
    t = T0 - 60 * DAY
    for i, cs in enumerate(contacts):
        for j in sorted(cs):
            setup.append(ContactEvent(t, users[i], users[j]))
            t += 0.01
    devices: list[list[str]] = []
    home: list[str] = []
    for i, u in enumerate(users):
        devs = [f"PHONE{i:04d}"] + ([f"LAPTOP{i:04d}"] if rng.random() < 0.4 else [])
        devices.append(devs)
        home.append(f"10.{i // 250}.{i % 250}.{rng.randint(2, 250)}")
        for d in devs:
            setup.append(LoginEvent(T0 - 59 * DAY + i, u, home[i], d, True, "Element"))
    # owners' new phones (new device, home network), trips (known device, new network),
    # routine logins from a known device at home
    new_phone: dict[int, float] = {}
    for i in rng.sample(range(n_users), n_users // 50):
        ts = T0 + rng.uniform(0, SPAN)
        new_phone[i] = ts
        add(LoginEvent(ts, users[i], home[i], f"NEWPHONE{i:04d}", True, "Element Android"))
    for i in rng.sample(range(n_users), n_users * 3 // 100):
        add(LoginEvent(T0 + rng.uniform(0, SPAN), users[i], f"198.51.100.{rng.randint(1, 254)}",
                       devices[i][0], True, "Element"))
    for i in range(n_users):
        for _ in range(rng.randint(2, 6)):
            add(LoginEvent(T0 + rng.uniform(0, SPAN), users[i], home[i],
                           rng.choice(devices[i]), True, "Element"))

    def device_of(i: int, ts: float) -> str:
        since = new_phone.get(i)
        if since is not None and ts >= since and rng.random() < 0.9:
            return f"NEWPHONE{i:04d}"
        devs = devices[i]
        return devs[0] if len(devs) == 1 or rng.random() < 0.8 else devs[1]

    texts = chat_texts.HAM + chat_texts.MORE_HAM
    linked = chat_texts.HAM_LINKED
    counter = 0

    def message(i: int, recipients: tuple[str, ...], ts: float, room: str | None = None
                ) -> None:
        nonlocal counter
        counter += 1
        dev = device_of(i, ts)
        if rng.random() < 0.15:
            r = rng.random()
            text = rng.choice(linked) if r < 0.05 else rng.choice(texts) if r < 0.5 \
                else f"{rng.choice(texts)} {rng.choice(texts)}"
            add(MessageEvent(ts, f"m{counter}", users[i], recipients, text, room,
                             device=dev))
        else:
            add(MessageEvent(ts, f"m{counter}", users[i], recipients, None, room,
                             encrypted=True, device=dev, size=_cipher_size(rng)))

    # hijacked sessions, in waves of up to six accounts within 20 minutes
    warm_end = T0 + 0.25 * SPAN
    candidates = [i for i in range(n_users) if len(contacts[i]) >= 10]
    victims = rng.sample(candidates, min(hijacks, len(candidates)))
    wave_start = 0.0
    feedback = 0
    for k, i in enumerate(victims):
        if k % 6 == 0:
            wave_start = rng.uniform(warm_end, T0 + SPAN - DAY)
        login = wave_start + rng.uniform(0, 1200)
        dev = f"ATTACKER{k:03d}"
        add(LoginEvent(login, users[i], f"203.0.113.{rng.randint(1, 254)}", dev, True,
                       "python-requests/2.31"))
        targets = list(contacts[i])
        rng.shuffle(targets)
        ts = login + rng.uniform(30, 120)
        for j in targets[:rng.randint(10, 25)]:
            counter += 1
            add(MessageEvent(ts, f"m{counter}", users[i], (users[j],), None, None,
                             encrypted=True, device=dev, size=400 + rng.randint(-6, 6)))
            if rng.random() < 0.3:
                feedback += 1
                add(FeedbackEvent(ts + rng.uniform(60, 900), users[j], users[i],
                                  rng.choice(("block", "block", "leave"))))
            ts += 15 + rng.uniform(-0.5, 0.5)
    hijack_messages = counter
    # ordinary traffic: conversations of a few messages, and a few room messages
    weights = [min(rng.paretovariate(1.5), 20.0) for _ in users]
    cum = list(itertools.accumulate(weights))
    rooms = 0
    while counter < n_messages:
        a = rng.choices(range(n_users), cum_weights=cum)[0]
        if not contacts[a]:
            continue
        ts = T0 + rng.uniform(0, SPAN)
        if rng.random() < 0.04:
            rooms += 1
            cs = sorted(contacts[a])
            members = [a, *rng.sample(cs, min(len(cs), rng.randint(3, 8)))]
            for _ in range(rng.randint(1, 4)):
                s = rng.choice(members)
                message(s, tuple(users[m] for m in members if m != s), ts, f"!room{rooms}")
                ts += rng.expovariate(1 / 90) + 2
            continue
        b = rng.choice(sorted(contacts[a]))
        s = a
        for _ in range(rng.choice((1, 2, 2, 3, 4, 5, 6, 8, 10))):
            message(s, (users[b if s == a else a],), ts)
            ts += rng.expovariate(1 / 45) + 3
            if rng.random() < 0.6:
                s = b if s == a else a
    for _ in range(n_users // 20):  # stray leaves
        i = rng.randrange(n_users)
        if contacts[i]:
            feedback += 1
            add(FeedbackEvent(T0 + rng.uniform(0, SPAN), users[rng.choice(sorted(contacts[i]))],
                              users[i], "leave"))
    timed.sort(key=lambda x: (x[0], x[1]))
    events = setup + [e for _, _, e in timed]
    n_msgs = sum(isinstance(e, MessageEvent) for e in events)
    info = {
        "users": n_users, "messages": n_msgs,
        "encrypted": sum(isinstance(e, MessageEvent) and e.encrypted for e in events),
        "room_messages": sum(isinstance(e, MessageEvent) and len(e.recipients) > 2
                             for e in events),
        "contact_events": sum(isinstance(e, ContactEvent) for e in events),
        "login_events": sum(isinstance(e, LoginEvent) for e in events),
        "feedback_events": feedback, "hijacked_sessions": len(victims),
        "hijack_messages": hijack_messages, "owner_new_phones": len(new_phone),
        "span_days": int(SPAN // DAY),
    }
    return events, info


def split(events: list[Event], warm: float, rounds: int) -> tuple[list[Event], list[list[Event]]]:
    """The warm-up prefix, then ``rounds`` segments with as many messages each."""
    idx = [k for k, e in enumerate(events) if isinstance(e, MessageEvent)]
    first = int(len(idx) * warm)
    warm_end = idx[first]
    per = (len(idx) - first) // rounds
    cuts = [warm_end] + [idx[first + per * r] for r in range(1, rounds)] + [len(events)]
    return events[:warm_end], [events[cuts[r]:cuts[r + 1]] for r in range(rounds)]


# -- instrumentation ------------------------------------------------------------


class Meter:
    """Per-detector nanoseconds, filled by timing wrappers set on the detector objects."""

    def __init__(self) -> None:
        self.ns: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()

    def take(self) -> tuple[Counter[str], Counter[str]]:
        out = (self.ns, self.calls)
        self.ns, self.calls = Counter(), Counter()
        return out


def _timed(inner: Callable[..., Any], meter: Meter, key: str) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        t = ns()
        try:
            return inner(*args)
        finally:
            meter.ns[key] += ns() - t
            meter.calls[key] += 1
    return call


def instrument(engine: Engine, meter: Meter) -> None:
    """Time the five detectors' hooks, and the shared facts before the first fact user."""
    first = next(d.name for d in engine.detectors if d.name in FACT_USERS)
    for det in engine.detectors:
        if det.name not in FIVE:
            continue
        check = _timed(det.check, meter, f"{det.name}.check")
        if det.name == first:
            facts = _timed(metadata.facts, meter, "facts")

            def check_after_facts(ctx: Any, _facts: Any = facts, _check: Any = check) -> Any:
                _facts(ctx)
                return _check(ctx)
            det.check = check_after_facts  # type: ignore[method-assign]
        else:
            det.check = check  # type: ignore[method-assign]
        if not getattr(type(det).observe, "noop", False):  # the engine calls it
            inner = det.observe
            msg = _timed(inner, meter, f"{det.name}.observe")
            other = _timed(inner, meter, f"{det.name}.observe_other")

            def observe(event: Any, now: float, _m: Any = msg, _o: Any = other) -> None:
                (_m if isinstance(event, MessageEvent) else _o)(event, now)
            det.observe = observe  # type: ignore[method-assign]


def timer_overhead(n: int = 200_000) -> float:
    """ns one timed call of a builtin costs inside the timed region (subtracted per call)."""
    samples = []
    for _ in range(5):
        m = Meter()
        f = _timed(id, m, "x")
        for _ in range(n):
            f(m)
        samples.append(m.ns["x"] / n)
    return statistics.median(samples)


def canary_us() -> float:
    """`sum(range(1000))` in µs (docs/benchmarks.md quotes it for this machine's speed)."""
    best = []
    for _ in range(7):
        t = ns()
        for _ in range(100):
            sum(range(1000))
        best.append((ns() - t) / 100 / 1000)
    return statistics.median(best)


# -- running --------------------------------------------------------------------


def feed(engine: Engine, segment: list[Event], lat: list[int] | None = None,
         hits: Counter[str] | None = None) -> tuple[int, int]:
    """(total ns in the engine, messages) for one segment."""
    total = 0
    n = 0
    for e in segment:
        if isinstance(e, MessageEvent):
            t = ns()
            v = engine.check(e)
            d = ns() - t
            n += 1
            if lat is not None:
                lat.append(d)
            if hits is not None:
                hits["messages"] += 1
                hits[v.action.value] += 1
                for s in v.signals:
                    hits[s.name] += 1
        else:
            t = ns()
            engine.observe(e)
            d = ns() - t
        total += d
    return total, n


def _pct(xs: list[int], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(len(s) * q))] / 1000 if s else 0.0


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True,
                              text=True, check=False).stdout.strip()
    except OSError:
        return ""


def _sources() -> dict[str, str]:
    """SHA-1 of the measured sources (the work tree may differ from the commit)."""
    src = ROOT / "src" / "spimguard"
    paths = [src / "detectors" / f"{n}.py" for n in (*FIVE, "metadata")] + [
        src / "state" / "sessions.py", src / "state" / "feedback.py"]
    return {str(p.relative_to(ROOT)): hashlib.sha1(p.read_bytes()).hexdigest()[:12]
            for p in paths if p.exists()}


def markdown(res: dict[str, Any]) -> str:
    d = res["detectors_us"]
    facts = res["facts_us"]
    rows = [
        "| detector | check µs | observe µs | own µs/msg | own + facts µs | "
        f"≤ {TARGET_US:g} µs (own) |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name in FIVE:
        x = d[name]
        plus = x["total"] + (facts if name in FACT_USERS else 0.0)
        rows.append(f"| {name} | {x['check']:.2f} | {x['observe']:.2f} | {x['total']:.2f} | "
                    f"{plus:.2f} | {'yes' if x['total'] <= TARGET_US else '**no**'} |")
    rows.append(f"| `metadata.facts()` (shared, paid once) | | | {facts:.2f} | | |")
    rows.append(f"| **the five, facts included** | | | **{res['sum_us']:.2f}** | | |")
    e = res["engine"]
    rows += [
        "",
        "| engine (shipped defaults, memory store) | µs/msg | msgs/s | p50 µs | p99 µs |",
        "|---|---:|---:|---:|---:|",
    ]
    for side in ("enabled", "disabled"):
        x = e[side]
        rows.append(f"| five {side} | {x['us_per_msg']:.1f} | {x['msgs_per_s']:,.0f} | "
                    f"{x['p50_us']:.1f} | {x['p99_us']:.1f} |")
    rows.append(f"| difference (median of paired rounds) | {e['diff_us_per_msg']:.1f} "
                f"({e['diff_percent']:+.1f}%) | | | |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--messages", type=int, default=50_000)
    ap.add_argument("--users", type=int, default=2_000)
    ap.add_argument("--hijacks", type=int, default=24, help="hijacked sessions (waves of 6)")
    ap.add_argument("--rounds", type=int, default=10, help="timed segments (repeats)")
    ap.add_argument("--warm", type=float, default=0.2, help="share of messages fed untimed")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    if args.rounds < 1 or not 0.0 <= args.warm < 1.0:
        ap.error("--rounds must be >= 1 and --warm in [0, 1)")
    started = time.perf_counter()
    sources = _sources()  # the modules were imported moments ago: the code measured
    events, info = build_stream(args.users, args.messages, args.hijacks, args.seed)
    warm, segments = split(events, args.warm, args.rounds)
    print(f"stream: {info['messages']} messages, {len(events)} events "
          f"({time.perf_counter() - started:.1f} s)", file=sys.stderr)

    meter = Meter()
    engines = {
        "instrumented": build_engine(),
        "enabled": build_engine(),
        "disabled": build_engine(policy=Policy.from_dict({"detectors": {"disabled": list(FIVE)}})),
    }
    assert all(d.name not in FIVE for d in engines["disabled"].detectors)
    present = [d.name for d in engines["enabled"].detectors]
    assert all(n in present for n in FIVE), present
    instrument(engines["instrumented"], meter)
    for eng in engines.values():
        feed(eng, warm)
    meter.take()
    overhead = timer_overhead()
    gc.collect()
    gc.freeze()  # as the service does after start-up
    canary = [canary_us()]

    per_round: dict[str, list[float]] = {k: [] for k in
                                         [*FIVE, "facts", "sum", "enabled", "disabled"]}
    parts: dict[str, list[float]] = {f"{n}.{p}": [] for n in FIVE
                                     for p in ("check", "observe", "observe_other")}
    lat: dict[str, list[int]] = {"enabled": [], "disabled": []}
    hits: dict[str, Counter[str]] = {"enabled": Counter(), "disabled": Counter()}
    raw_calls: Counter[str] = Counter()
    for r, seg in enumerate(segments):
        order = ["instrumented", "enabled", "disabled"] if r % 2 == 0 else \
            ["disabled", "enabled", "instrumented"]
        for name in order:
            gc.collect()
            if name == "instrumented":
                _, n = feed(engines[name], seg)
                spent, calls = meter.take()
                raw_calls.update(calls)
                us = {k: max(spent[k] - overhead * calls[k], 0.0) / n / 1000 for k in spent}
                total = 0.0
                for det in FIVE:
                    parts_us = {p: us.get(f"{det}.{p}", 0.0)
                                for p in ("check", "observe", "observe_other")}
                    for p, v in parts_us.items():
                        parts[f"{det}.{p}"].append(v)
                    own = sum(parts_us.values())
                    per_round[det].append(own)
                    total += own
                per_round["facts"].append(us.get("facts", 0.0))
                per_round["sum"].append(total + us.get("facts", 0.0))
            else:
                spent_ns, n = feed(engines[name], seg, lat[name], hits[name])
                per_round[name].append(spent_ns / n / 1000)
        print(f"round {r + 1}/{len(segments)}: session {per_round['session'][-1]:.1f}, "
              f"facts {per_round['facts'][-1]:.1f}, sum {per_round['sum'][-1]:.1f}, engine "
              f"{per_round['enabled'][-1]:.0f} vs {per_round['disabled'][-1]:.0f} µs/msg",
              file=sys.stderr)
    canary.append(canary_us())

    med = {k: statistics.median(v) for k, v in per_round.items()}
    pmed = {k: statistics.median(v) for k, v in parts.items()}
    diffs = [a - b for a, b in zip(per_round["enabled"], per_round["disabled"], strict=True)]
    detectors = {
        n: {"check": pmed[f"{n}.check"],
            "observe": pmed[f"{n}.observe"] + pmed[f"{n}.observe_other"],
            "observe_on_other_events": pmed[f"{n}.observe_other"],
            "total": med[n],
            "under_target": med[n] <= TARGET_US,
            "under_target_with_facts": med[n] + (med["facts"] if n in FACT_USERS else 0.0)
            <= TARGET_US}
        for n in FIVE}
    engine_res: dict[str, Any] = {}
    for side in ("enabled", "disabled"):
        engine_res[side] = {"us_per_msg": med[side], "msgs_per_s": 1e6 / med[side],
                            "p50_us": _pct(lat[side], 0.5), "p99_us": _pct(lat[side], 0.99),
                            "actions": {a: hits[side][a] for a in
                                        ("allow", "warn", "hold", "block")}}
    engine_res["diff_us_per_msg"] = statistics.median(diffs)
    engine_res["diff_percent"] = 100 * statistics.median(diffs) / med["disabled"]
    timed_msgs = hits["enabled"]["messages"]
    result: dict[str, Any] = {
        "target": "No new detector costs more than 20 µs per message",
        "target_us": TARGET_US,
        "target_met": all(x["under_target"] for x in detectors.values()),
        "target_met_charging_facts_to_each": all(x["under_target_with_facts"]
                                                 for x in detectors.values()),
        "detectors_us": detectors,
        "facts_us": med["facts"],
        "sum_us": med["sum"],
        "engine": engine_res,
        "signals_fired_in_timed_part": {n: hits["enabled"][s] for n, s in SIGNALS.items()},
        "signals_fired_of_messages": timed_msgs,
        "calls_in_timed_part": dict(sorted(raw_calls.items())),
        "per_round_us": per_round,
        "per_round_parts_us": parts,
        "timer_overhead_ns_subtracted_per_call": overhead,
        "stream": info,
        "warm_messages": sum(isinstance(e, MessageEvent) for e in warm),
        "rounds": len(segments),
        "messages_per_round": sum(isinstance(e, MessageEvent) for e in segments[0]),
        "seed": args.seed,
        "canary_sum_range_1000_us": canary,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": _git("rev-parse", "HEAD"),
        "worktree_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "sources_sha1": sources,
        "wall_s": round(time.perf_counter() - started, 1),
        "note": "µs per message, medians over rounds; observe time includes non-message "
                "events (feedback, logins) spread over the messages; per-detector figures "
                "exclude metadata.facts(), which the first of session/dormant/burst/"
                "correlation in engine order pays (session)",
    }
    result["markdown"] = markdown(result)
    print(result["markdown"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out} ({result['wall_s']} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
