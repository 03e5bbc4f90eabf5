"""Send latency a Synapse homeserver's users see with the spimguard module, and without.

Usage: python bench/bench_synapse.py [--sends 300] [--rounds 6] [--warmup 30] [--users 10]
                                     [--embedded-store sqlite|memory]
                                     [--out bench/results/synapse.json] [--keep]

Why: the module runs inside Synapse's ``check_event_for_spam``, on the path of
every message a local user sends: what it costs is the time the sender waits
for ``PUT /rooms/{room}/send/...`` to answer. The targets (issue): embedded
adds at most 2 ms at p50 and 10 ms at p99; remote adds at most 5 ms at p50 on
loopback. This measures that end to end, with a real Synapse (the test
harness of tests/synapse: SQLite, rate limits relaxed, INFO logging to a file)
and real matrix-nio clients, in three configurations, each on its own fresh
homeserver:

* ``none``: no modules, the baseline;
* ``embedded``: ``{"mode": "embedded", "data_dir": ...}`` (the engine inside
  Synapse, its state in SQLite, the default store, committed after every
  check; ``--embedded-store memory`` to compare with the remote service's store);
* ``remote``: ``{"mode": "remote", "url": ..., "api_key": ..., "timeout": 2.0}``
  against a real ``spimguard serve`` (uvicorn, one worker, memory store, an
  admin key) started by the bench on a loopback port.

Per configuration, ``--users`` users are registered, logged in once (one
device each) and paired in direct rooms in a ring (user i opens a DM with user
i+1: as many rooms as users, each user has two contacts). Then ``--warmup``
sends that are not measured (the first check loads models), then ``--sends``
measured ones: ordinary chat (varied short texts, about one in ten with a link
to a well-known site; no spam: every send must succeed, failures are counted),
round-robin over the rooms and both directions, one at a time (latency, not
queueing), the same texts in the same order in every configuration. Each send
is timed client-side around nio's ``room_send`` (``time.perf_counter``).

The machine (2 cores, shared) is noisy, so the configurations are interleaved:
all three servers stay up, and the measured sends run in ``--rounds`` rounds,
each doing ``sends / rounds`` sends per configuration, in an order rotated
every round. Stats are over all measured sends of a configuration (p50, p90,
p99 by nearest rank, mean, max), with per-round p50/p99 to show the spread,
the added latency against ``none`` (difference of p50s and of p99s, with a
bootstrap 95 % interval) and the ratio. CPU: utime+stime (``/proc/PID/stat``)
of the Synapse process and, for remote, of the service, per measured send
(each round's segment ends with a 0.2 s pause so that work the sends left
behind is counted); also the bench's own CPU and everything else the machine
ran meanwhile. After the run, the verdicts the engine logged (its
``verdicts.sqlite``) are counted by action and signal, and the Synapse log is
searched for module errors (``fail_mode`` is the default, ``open``: a failed
check would not fail the send).

Prints JSON (with a Markdown table under ``"markdown"``) and writes ``--out``
(default bench/results/synapse.json); a default run takes about a minute
(Synapse template and three homeservers with their users and rooms ~20 s,
then 990 sends at ~20-35 ms each). ``--keep`` keeps the temp folder: each
Synapse's ``homeserver.log`` has a "Processed request" line per send with its
wall time, CPU (``ru``) and database time, which tells an outlier's cause.
Every process it starts is stopped at the end, also on an error, Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import platform
import random
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "synapse"))  # the harness (no __init__.py)

from homeserver import (  # noqa: E402
    Homeserver,
    SynapseTemplate,
    login,
    make_template,
    open_dm,
    send_text,
    start_homeserver,
)

if TYPE_CHECKING:
    from nio import AsyncClient

MODULE = "spimguard.interfaces.synapse.SpimguardModule"
CLI = "from spimguard.interfaces.cli import main; main()"
DEFAULT_OUT = HERE / "results" / "synapse.json"
CLK_TCK = os.sysconf("SC_CLK_TCK")
CONFIGS = ("none", "embedded", "remote")
#: Targets of the issue: added ms at p50 / p99 (None: no target).
TARGETS: dict[str, tuple[float | None, float | None]] = {
    "embedded": (2.0, 10.0), "remote": (5.0, None)}
#: Pause after each measured segment, so the CPU of work left behind is counted.
SETTLE_S = 0.2

import chat_texts as shared_texts  # noqa: E402  (bench/ is on sys.path as a script)

# -- traffic -------------------------------------------------------------------

HAM = shared_texts.HAM + shared_texts.MORE_HAM
HAM_LINKED = shared_texts.HAM_LINKED
PREFIXES = ["", "", "", "", "hey ", "ok ", "btw ", "sure, ", "haha "]
SUFFIXES = ["", "", "", "", " :)", "!", " \U0001f642", " x", " \U0001f44d"]
LINK_SHARE = 0.1


def chat_texts(n: int, seed: int = 0) -> list[str]:
    """``n`` ordinary chat messages, deterministic for ``seed``."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        if rng.random() < LINK_SHARE:
            out.append(rng.choice(HAM_LINKED))
        else:
            out.append(rng.choice(PREFIXES) + rng.choice(HAM) + rng.choice(SUFFIXES))
    return out


# -- processes -----------------------------------------------------------------

def _cpu_s(pid: int | None) -> float:
    """utime + stime of a process (all its threads), in seconds; 0 if it is gone."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _system_busy_s() -> float:
    """CPU seconds the whole machine has spent busy (all processes), from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / CLK_TCK


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, token: str | None = None, timeout: float = 5.0) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return int(resp.status), resp.read()
    except urllib.error.HTTPError as err:
        with err:
            return int(err.code), err.read()


class Service:
    """A real ``spimguard serve`` (uvicorn, one worker, memory store) and an admin key."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        made = subprocess.run([sys.executable, "-c", CLI, "keys", "create", "synapse",
                               "--scope", "admin", "--data-dir", str(data_dir)],
                              capture_output=True, text=True, check=True, timeout=120)
        self.key: str = json.loads(made.stdout.strip().splitlines()[-1])["token"]
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / "service.log"
        env = {**os.environ, "SPIMGUARD_DATA_DIR": str(data_dir), "SPIMGUARD_STORE": "memory"}
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "spimguard.interfaces.http.app:app_from_env",
                 "--factory", "--host", "127.0.0.1", "--port", str(self.port),
                 "--log-level", "warning"],
                env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)
        try:
            self.startup_s = self._wait_ready(time.perf_counter())
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, t0: float) -> float:
        while time.perf_counter() - t0 < 90:
            if self.proc.poll() is not None:
                raise RuntimeError(f"spimguard serve exited ({self.proc.returncode}): "
                                   f"{self.log_tail()}")
            try:
                if _get(self.url + "/healthz", timeout=1.0)[0] == 200:
                    return round(time.perf_counter() - t0, 2)
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"spimguard serve not ready after 90 s: {self.log_tail()}")

    def log_tail(self, n: int = 15) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    def engine_ms_per_check(self) -> dict[str, Any]:
        """The service's own engine time per check (/metrics), warm-up and invites included."""
        try:
            status, body = _get(self.url + "/metrics")
        except OSError as e:
            return {"error": f"{type(e).__name__}: {e}"}
        if status != 200:
            return {"error": f"HTTP {status}"}
        vals = dict(re.findall(r"^(spimguard_check_seconds_(?:count|sum)) ([0-9.e+-]+)$",
                               body.decode(), re.M))
        count = float(vals.get("spimguard_check_seconds_count", 0))
        total = float(vals.get("spimguard_check_seconds_sum", 0))
        return {"checks": int(count),
                "engine_ms_per_check": round(total / count * 1000, 3) if count else None}

    def stop(self) -> str:
        if self.proc.poll() is not None:
            return f"exited {self.proc.returncode}"
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
            return "sigterm"
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            return "killed"


# -- one configuration -----------------------------------------------------------

@dataclass
class Setup:
    """One configuration: its homeserver, logged-in clients, rooms and tallies."""

    name: str
    hs: Homeserver
    data_dir: Path
    service: Service | None = None
    clients: list[AsyncClient] = field(default_factory=list)
    #: (room id, index of the user who opened it, index of the other)
    rooms: list[tuple[str, int, int]] = field(default_factory=list)
    sent: int = 0  # sends so far (warm-up included): picks room and direction
    warmup_ms: list[float] = field(default_factory=list)
    lat_ms: list[float] = field(default_factory=list)
    rounds: list[list[float]] = field(default_factory=list)
    #: (ms, round, measured index, seconds since the bench's start, sender, text)
    timeline: list[tuple[float, int, int, float, str, str]] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    failure_examples: list[str] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=lambda: {
        "synapse": 0.0, "service": 0.0, "client": 0.0, "system": 0.0, "wall": 0.0})
    setup_s: float = 0.0

    @property
    def service_pid(self) -> int | None:
        return self.service.proc.pid if self.service is not None else None


def _module(name: str, data_dir: Path, service: Service | None,
            embedded_store: str | None) -> list[dict[str, Any]]:
    if name == "none":
        return []
    if name == "embedded":
        config: dict[str, Any] = {"mode": "embedded", "data_dir": str(data_dir)}
        if embedded_store is not None:
            config["store"] = embedded_store
        return [{"module": MODULE, "config": config}]
    assert service is not None
    return [{"module": MODULE, "config": {"mode": "remote", "url": service.url,
                                         "api_key": service.key, "data_dir": str(data_dir),
                                         "timeout": 2.0}}]


def start_setup(name: str, root: Path, template: SynapseTemplate,
                embedded_store: str | None) -> Setup:
    """The homeserver (and, for remote, the service first) of one configuration."""
    data_dir = root / name / "sg"
    service = Service(root / name / "service") if name == "remote" else None
    try:
        hs = start_homeserver(root / name / "hs",
                              _module(name, data_dir, service, embedded_store),
                              template=template)
    except BaseException:
        if service is not None:
            service.stop()
        raise
    return Setup(name=name, hs=hs, data_dir=data_dir, service=service)


async def connect(setup: Setup, users: int) -> None:
    """Register and log in the users, and open the direct rooms (a ring)."""
    t0 = time.perf_counter()
    hs = setup.hs
    for i in range(users):
        user_id, password = hs.register_user(f"user{i:02d}")
        setup.clients.append(await login(hs, user_id, password, device_name="phone",
                                         user_agent="Element/1.11.50 (Android 14)"))
    pairs = [(i, (i + 1) % users) for i in range(users)] if users > 2 else [(0, 1)]
    for a, b in pairs:
        room = await open_dm(setup.clients[a], setup.clients[b])
        setup.rooms.append((room, a, b))
    setup.setup_s = round(time.perf_counter() - t0, 2)


async def send_many(setup: Setup, texts: list[str], measured: bool, round_no: int,
                    started: float) -> list[float]:
    """Send ``texts`` one at a time, round-robin over rooms and directions; their ms."""
    out: list[float] = []
    n_rooms = len(setup.rooms)
    for text in texts:
        k = setup.sent
        setup.sent += 1
        room, a, b = setup.rooms[k % n_rooms]
        who = a if (k // n_rooms) % 2 == 0 else b
        client = setup.clients[who]
        t0 = time.perf_counter()
        try:
            resp: Any = await send_text(client, room, text)
            kind = type(resp).__name__
        except Exception as e:  # a timeout or a dropped connection: counted, not fatal
            resp, kind = e, f"{type(e).__name__}"
        ms = (time.perf_counter() - t0) * 1000
        if kind != "RoomSendResponse":
            what = f"{kind}:{getattr(resp, 'status_code', '')}" if kind == "RoomSendError" \
                else kind
            setup.failures[("measured " if measured else "warmup ") + what] += 1
            if len(setup.failure_examples) < 5:
                setup.failure_examples.append(f"{text!r}: {resp!r}"[:500])
            continue
        out.append(ms)
        if measured:
            setup.timeline.append((ms, round_no, len(setup.lat_ms) + len(out) - 1,
                                   t0 - started, client.user_id, text))
    return out


async def measure_segment(setup: Setup, texts: list[str], round_no: int,
                          started: float) -> None:
    """One round's measured sends of one configuration, with the CPU they cost."""
    syn0, svc0 = _cpu_s(setup.hs.process.pid), _cpu_s(setup.service_pid)
    cli0, sys0, t0 = time.process_time(), _system_busy_s(), time.perf_counter()
    lat = await send_many(setup, texts, True, round_no, started)
    await asyncio.sleep(SETTLE_S)
    syn = _cpu_s(setup.hs.process.pid) - syn0
    svc = _cpu_s(setup.service_pid) - svc0
    cli = time.process_time() - cli0
    busy = _system_busy_s() - sys0
    setup.cpu["synapse"] += syn
    setup.cpu["service"] += svc
    setup.cpu["client"] += cli
    setup.cpu["system"] += busy - syn - svc - cli
    setup.cpu["wall"] += time.perf_counter() - t0
    setup.lat_ms += lat
    setup.rounds.append(lat)


# -- statistics -------------------------------------------------------------------

def _pct(sorted_ms: list[float], q: float) -> float:
    """Nearest-rank percentile of a sorted, non-empty list."""
    k = min(len(sorted_ms) - 1, max(0, round(q / 100 * len(sorted_ms)) - 1))
    return sorted_ms[k]


def summary(lat_ms: list[float]) -> dict[str, Any]:
    if not lat_ms:
        return {"n": 0}
    s = sorted(lat_ms)
    return {"n": len(s), "p50_ms": round(_pct(s, 50), 2), "p90_ms": round(_pct(s, 90), 2),
            "p99_ms": round(_pct(s, 99), 2), "mean_ms": round(statistics.fmean(s), 2),
            "min_ms": round(s[0], 2), "max_ms": round(s[-1], 2)}


def bootstrap_diff(a: list[float], b: list[float], q: float, n: int = 1000,
                   seed: int = 1) -> list[float] | None:
    """95 % bootstrap interval of pct_q(a) - pct_q(b), resampling both."""
    if not a or not b:
        return None
    rng = random.Random(seed)
    diffs = sorted(_pct(sorted(rng.choices(a, k=len(a))), q)
                   - _pct(sorted(rng.choices(b, k=len(b))), q) for _ in range(n))
    return [round(diffs[int(0.025 * n)], 2), round(diffs[int(0.975 * n) - 1], 2)]


def verdict_counts(path: Path) -> dict[str, Any]:
    """Actions and signals of the message verdicts in a verdict log (invites apart)."""
    if not path.exists():
        return {"missing": str(path)}
    actions: Counter[str] = Counter()
    invites: Counter[str] = Counter()
    signals: Counter[str] = Counter()
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT message_id, action, signals FROM verdicts").fetchall()
    for message_id, action, sigs in rows:
        if str(message_id).startswith("invite:"):
            invites[action] += 1
            continue
        actions[action] += 1
        for s in json.loads(sigs):
            signals[str(s.get("name"))] += 1
    return {"messages": dict(actions), "invites": dict(invites),
            "signals": dict(signals.most_common())}


def module_errors(hs: Homeserver) -> list[str]:
    """The module's error lines in the Synapse log (a failed check, let through)."""
    return [line[-300:] for line in hs.log_text().splitlines()
            if "spimguard: could not" in line or "Traceback" in line][:10]


def report(setup: Setup, base: Setup | None, sends: int) -> dict[str, Any]:
    stats = summary(setup.lat_ms)
    ok = len(setup.lat_ms)
    cpu = setup.cpu
    wall = cpu["wall"] or 1.0
    out: dict[str, Any] = {
        "config": setup.name,
        "measured_sends": sends, "ok": ok,
        "failed": sum(v for k, v in setup.failures.items() if k.startswith("measured")),
        "failures": dict(setup.failures), "failure_examples": setup.failure_examples,
        **stats,
        "warmup": summary(setup.warmup_ms),
        "per_round": [{k: summary(r).get(k) for k in ("n", "p50_ms", "p99_ms", "max_ms")}
                      for r in setup.rounds],
        "slowest": [{"ms": round(ms, 1), "round": r, "index": i, "t_s": round(t, 1),
                     "sender": who, "text": text}
                    for ms, r, i, t, who, text in sorted(setup.timeline, reverse=True)[:5]],
        "cpu": {
            "synapse_ms_per_send": round(1000 * cpu["synapse"] / max(ok, 1), 2),
            "service_ms_per_send": round(1000 * cpu["service"] / max(ok, 1), 2)
            if setup.service else None,
            "client_ms_per_send": round(1000 * cpu["client"] / max(ok, 1), 2),
            "synapse_pct": round(100 * cpu["synapse"] / wall, 1),
            "service_pct": round(100 * cpu["service"] / wall, 1) if setup.service else None,
            "client_pct": round(100 * cpu["client"] / wall, 1),
            "other_pct": round(100 * cpu["system"] / wall, 1),
            "measured_wall_s": round(cpu["wall"], 2),
        },
        "setup_s": setup.setup_s,
        "rooms": len(setup.rooms),
    }
    if base is not None and base.lat_ms and setup.lat_ms:
        b = summary(base.lat_ms)
        add50 = stats["p50_ms"] - b["p50_ms"]
        add99 = stats["p99_ms"] - b["p99_ms"]
        out["added"] = {
            "p50_ms": round(add50, 2), "p99_ms": round(add99, 2),
            "mean_ms": round(stats["mean_ms"] - b["mean_ms"], 2),
            "p50_ci95_ms": bootstrap_diff(setup.lat_ms, base.lat_ms, 50),
            "p99_ci95_ms": bootstrap_diff(setup.lat_ms, base.lat_ms, 99),
            "p50_ratio": round(stats["p50_ms"] / b["p50_ms"], 3),
            "p99_ratio": round(stats["p99_ms"] / b["p99_ms"], 3),
            "synapse_cpu_ms_per_send": round(
                out["cpu"]["synapse_ms_per_send"]
                - 1000 * base.cpu["synapse"] / max(len(base.lat_ms), 1), 2),
        }
        t50, t99 = TARGETS.get(setup.name, (None, None))
        out["targets"] = {
            "p50_added_max_ms": t50, "p99_added_max_ms": t99,
            "p50_met": None if t50 is None else add50 <= t50,
            "p99_met": None if t99 is None else add99 <= t99,
        }
    return out


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "NO"
    if isinstance(v, float):
        return f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"
    return str(v)


def markdown(runs: list[dict[str, Any]]) -> str:
    rows = ["| config | sends ok | failed | p50 ms | p90 ms | p99 ms | mean ms | max ms "
            "| added p50 ms (95 % CI) | added p99 ms (95 % CI) | p50 ratio "
            "| Synapse CPU ms/send | service CPU ms/send |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|"]
    for r in runs:
        if "failed_run" in r:
            rows.append(f"| {r['config']} | run failed: {r['failed_run']} "
                        "| | | | | | | | | | | |")
            continue
        add = r.get("added", {})

        def ci(key: str, add: dict[str, Any] = add) -> str:
            if not add:
                return "-"
            lo_hi = add.get(f"{key}_ci95_ms")
            tail = f" ({_fmt(lo_hi[0])} to {_fmt(lo_hi[1])})" if lo_hi else ""
            return f"{add[f'{key}_ms']:+.2f}{tail}"

        rows.append(
            f"| {r['config']} | {r['ok']} | {r['failed']} | {_fmt(r.get('p50_ms'))} "
            f"| {_fmt(r.get('p90_ms'))} | {_fmt(r.get('p99_ms'))} | {_fmt(r.get('mean_ms'))} "
            f"| {_fmt(r.get('max_ms'))} | {ci('p50')} | {ci('p99')} "
            f"| {_fmt(add.get('p50_ratio'))} | {_fmt(r['cpu']['synapse_ms_per_send'])} "
            f"| {_fmt(r['cpu']['service_ms_per_send'])} |")
    lines = []
    for r in runs:
        t = r.get("targets")
        if not t:
            continue
        parts = []
        if t["p50_added_max_ms"] is not None:
            parts.append(f"p50 {r['added']['p50_ms']:+.2f} ms (target <= "
                         f"{t['p50_added_max_ms']:g}): {_fmt(t['p50_met'])}")
        if t["p99_added_max_ms"] is not None:
            parts.append(f"p99 {r['added']['p99_ms']:+.2f} ms (target <= "
                         f"{t['p99_added_max_ms']:g}): {_fmt(t['p99_met'])}")
        lines.append(f"- {r['config']}: " + "; ".join(parts))
    return "\n".join(rows + ([""] + lines if lines else []))


# -- the benchmark ------------------------------------------------------------------

def round_sizes(sends: int, rounds: int) -> list[int]:
    return [sends // rounds + (1 if r < sends % rounds else 0) for r in range(rounds)]


async def bench(args: argparse.Namespace, root: Path, setups: dict[str, Setup],
                started: float) -> None:
    """Start everything (into ``setups``, for the caller to stop), warm up, measure."""
    print("# synapse template ...", file=sys.stderr, flush=True)
    template = make_template(root / "template")
    for name in CONFIGS:
        print(f"# {name}: homeserver, users, rooms ...", file=sys.stderr, flush=True)
        setups[name] = start_setup(name, root, template, args.embedded_store)
        await connect(setups[name], args.users)
    texts = chat_texts(args.warmup + args.sends, seed=args.seed)
    warm, measured = texts[:args.warmup], texts[args.warmup:]
    for name in CONFIGS:
        setups[name].warmup_ms = await send_many(setups[name], warm, False, -1, started)
    sizes = round_sizes(args.sends, args.rounds)
    at = 0
    for r, size in enumerate(sizes):
        order = CONFIGS[r % 3:] + CONFIGS[:r % 3]
        print(f"# round {r + 1}/{len(sizes)}: {size} sends each, {' '.join(order)}",
              file=sys.stderr, flush=True)
        for name in order:
            await measure_segment(setups[name], measured[at:at + size], r, started)
        at += size


async def close_clients(setups: dict[str, Setup]) -> None:
    for setup in setups.values():
        for client in setup.clients:
            try:
                await client.close()
            except Exception as e:  # closing one must not keep the others open
                print(f"# closing a client of {setup.name}: {e!r}", file=sys.stderr)


def _stop_children(timeout: float = 10.0) -> list[int]:
    """Stop any child process still running (e.g. the template's priming homeserver,
    if interrupted): SIGTERM by pid, then SIGKILL. Returns their pids."""
    me = os.getpid()
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat[1]) == me and stat[0] != "Z":
            kids.append(int(entry))
    for pid in kids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for pid in kids:
        while time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    break
            if not Path(f"/proc/{pid}").exists():
                break
            time.sleep(0.05)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    if kids:
        print(f"# stopped leftover child processes {kids}", file=sys.stderr)
    return kids


def _sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")  # unwinds through the finally blocks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--sends", type=int, default=300, help="measured sends per configuration")
    ap.add_argument("--rounds", type=int, default=6,
                    help="interleaved rounds (each does sends/rounds per configuration)")
    ap.add_argument("--warmup", type=int, default=30, help="unmeasured sends per configuration")
    ap.add_argument("--users", type=int, default=10, help="users per homeserver (a DM ring)")
    ap.add_argument("--seed", type=int, default=0, help="of the message texts")
    ap.add_argument("--embedded-store", choices=("sqlite", "memory"), default=None,
                    help="store of the embedded module (default: its own, sqlite)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--keep", action="store_true",
                    help="keep the temp folder (homeserver logs, verdict logs) and print it")
    args = ap.parse_args()
    if args.sends < 1 or args.rounds < 1 or args.rounds > args.sends or args.users < 2:
        ap.error("need sends >= rounds >= 1 and users >= 2")
    signal.signal(signal.SIGTERM, _sigterm)
    started = time.perf_counter()
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    tmp = tempfile.mkdtemp(prefix="sg-bench-synapse-")
    try:
        result = run_all(args, Path(tmp), started, load_before)
        if args.keep:
            result["kept"] = tmp
    finally:
        if args.keep:
            print(f"# kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    text = json.dumps(result, indent=2, ensure_ascii=False)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    print(result["markdown"])
    if result["error"] is not None:
        sys.exit(1)


def run_all(args: argparse.Namespace, root: Path, started: float,
            load_before: list[str]) -> dict[str, Any]:
    """The whole benchmark in ``root``; every process it starts is stopped on return."""
    setups: dict[str, Setup] = {}
    runs: list[dict[str, Any]] = []
    error: str | None = None
    stops: dict[str, Any] = {}
    extra: dict[str, Any] = {}

    async def run() -> None:
        try:
            await bench(args, root, setups, started)
        finally:
            await close_clients(setups)

    try:
        try:
            asyncio.run(run())
        except Exception as e:  # report what was measured, then fail
            error = f"{type(e).__name__}: {e}"
            print(f"# failed: {error}", file=sys.stderr, flush=True)
        for name, setup in setups.items():
            if setup.service is not None:
                extra[name] = {"service": setup.service.engine_ms_per_check()}
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # cleanup is bounded by timeouts
        for name, setup in setups.items():
            setup.hs.stop()
            stops[name] = {"homeserver_exit": setup.hs.returncode}
            if setup.service is not None:
                stops[name]["service"] = setup.service.stop()
        _stop_children()
    base = setups.get("none")
    for name, setup in setups.items():
        run_report = report(setup, base if name != "none" else None, args.sends)
        run_report["stopped"] = stops.get(name)
        run_report["module_errors"] = module_errors(setup.hs)
        if name != "none":
            run_report["verdicts"] = verdict_counts(
                (setup.service.data_dir if setup.service else setup.data_dir)
                / "verdicts.sqlite")
        run_report.update(extra.get(name, {}))
        runs.append(run_report)
    result: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "synapse": _version("matrix-synapse"),
        "matrix_nio": _version("matrix-nio"),
        "note": ("client-side latency of sequential m.room.message sends (nio room_send, "
                 "one at a time) to a real Synapse (SQLite, INFO log to a file) on the same "
                 "2-core machine as the client and, for remote, the spimguard service; each "
                 "configuration on its own homeserver, all up at once, measured in "
                 "interleaved rounds (order rotated). Added = this configuration's "
                 "percentile minus none's (95 % bootstrap interval). embedded: store per "
                 "settings.embedded_store in a temp folder; remote: spimguard serve, 1 uvicorn "
                 "worker, memory store, timeout 2 s; fail_mode open in both. CPU per send is "
                 "utime+stime of the process over the measured segments (each plus a 0.2 s "
                 "settle); other_pct is everything else the machine ran meanwhile"),
        "loadavg_before": load_before,
        "loadavg_after": Path("/proc/loadavg").read_text().split()[:3],
        "settings": {"sends": args.sends, "rounds": args.rounds,
                     "round_sizes": round_sizes(args.sends, args.rounds),
                     "warmup": args.warmup, "users": args.users, "rooms": "ring of DMs",
                     "link_share": LINK_SHARE, "seed": args.seed, "settle_s": SETTLE_S,
                     "embedded_store": args.embedded_store or "sqlite (module default)",
                     "remote_service": "1 uvicorn worker, memory store, timeout 2 s"},
        "targets": {k: {"p50_added_max_ms": v[0], "p99_added_max_ms": v[1]}
                    for k, v in TARGETS.items()},
        "error": error,
        "runs": runs,
        "total_s": round(time.perf_counter() - started, 1),
    }
    result["markdown"] = markdown(runs)
    return result


def _version(dist: str) -> str | None:
    import importlib.metadata

    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


if __name__ == "__main__":
    main()
