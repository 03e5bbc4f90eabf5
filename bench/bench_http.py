"""Latency and throughput of the HTTP service (``POST /v1/check``), end to end.

Usage: python bench/bench_http.py [--configs memory:1,sqlite:1,sqlite:2,redis:1,redis:2]
                                  [--rate 1000] [--open-s 20] [--closed-s 15] [--half-s 10]
                                  [--concurrency 24] [--client raw|httpx]
                                  [--redis redis://127.0.0.1:6379/9] [--out FILE]

Why: the engine benchmarks time ``engine.check`` in-process; what an
integration sees is that plus uvicorn, FastAPI, pydantic, the bearer-key
lookup in the ledger and the store round trips. This starts the real server
(``spimguard serve``, auth on, a ``check``-scoped key as in production) on a
free loopback port in a temp data dir, once per configuration (store x
workers), and drives it from a separate, spawned process over keep-alive
connections with realistic chat traffic (2,000 senders with ~10 contacts
each, fixed ham sentences, some with links to well-known sites, and ~5 % spam
with odd links; unique message ids).

Per configuration, in this order on one fresh server (default durations):

* warm-up: 2 s closed loop, 8 in flight (not reported beyond its count);
* max throughput: closed loop, ``--concurrency`` requests in flight for
  ``--closed-s``;
* open loop at half that max for ``--half-s`` (latency when not saturated);
* fixed offered load: open loop at ``--rate`` requests/s for ``--open-s``,
  last because an overloaded server goes on working through requests whose
  clients gave up (``--timeout``) long after the run.

Open loops schedule sends at fixed intervals whatever the responses, and
latency runs from the *scheduled* send time (no coordinated omission); at
most ``--connections`` requests are in flight, the rest wait for a connection
with their clock running. Also recorded: CPU seconds of the server processes,
of the client and of everything else on the machine during each phase, the
engine's own time per check (``/metrics``), and the peak RSS of the server
processes (VmHWM of the uvicorn parent and its children).

The default client is a minimal asyncio HTTP/1.1 client: httpx.AsyncClient
costs ~1-3 ms of CPU per request on this machine, about what the server
spends, and the client shares the 2 cores with the server (``--client httpx``
to compare). Prints JSON (with Markdown tables under ``"markdown"``) and
writes ``--out`` (default bench/results/http.json); a run takes ~8 minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import multiprocessing as mp
import os
import platform
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import chat_texts  # bench/: run as python bench/bench_http.py
import httpx

CLI = "from spimguard.interfaces.cli import main; main()"
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "http.json"
CLK_TCK = os.sysconf("SC_CLK_TCK")

# -- traffic -------------------------------------------------------------------

HAM = chat_texts.HAM
HAM_LINKED = chat_texts.HAM_LINKED
SPAM = [
    "Congratulations!! You won a $500 gift card, claim it now: {link}",
    "Your account will be suspended in 24h, verify here {link}",
    "I made $3,000 this week with this crypto bot, try it {link}",
    "FREE iPhone 15 for the first 100 people >>> {link}",
    "urgent: your package is on hold, pay the customs fee at {link}",
    "hot singles in your area {link}",
    "is this you in this video?? {link}",
]
SPAM_LINKS = [
    "http://free-g1ft-cards.xyz/claim?u={n}", "http://paypa1-secure-login.top/verify?id={n}",
    "http://198.51.100.{m}/login.php", "https://crypto-d0ubler.click/?ref={n}",
    "http://bit.ly/3xZ{n}", "http://amaz0n-prize.win/{n}", "http://dhl-customs-fee.info/p/{n}",
]


class Traffic:
    """A deterministic stream of message bodies (JSON bytes) with unique ids."""

    def __init__(self, tag: str, seed: int = 0, n_users: int = 2000, contacts: int = 10,
                 spam_share: float = 0.05) -> None:
        rng = random.Random(seed)  # the same users and contacts in every phase
        self.users = [f"user{i:04d}" for i in range(n_users)]
        self.contacts = [rng.sample([u for u in self.users[max(0, i - 60):i + 60] if u != me],
                                    contacts) for i, me in enumerate(self.users)]
        # mildly skewed activity: a few talkative users, a long tail of quiet ones
        self.cum_weights: list[float] = []
        total = 0.0
        for rank in range(n_users):
            total += 1.0 / (rank + 20)
            self.cum_weights.append(total)
        rng.shuffle(self.users)  # activity rank independent of the contact layout
        self.index = {u: i for i, u in enumerate(sorted(self.users))}
        self.rng = random.Random(f"{seed}-{tag}")
        self.tag = tag
        self.spam_share = spam_share
        self.n = 0
        self.spam = 0

    def next(self) -> bytes:
        rng = self.rng
        self.n += 1
        sender = rng.choices(self.users, cum_weights=self.cum_weights)[0]
        book = self.contacts[self.index[sender]]
        if rng.random() < self.spam_share:
            self.spam += 1
            n = rng.randrange(100_000)
            link = rng.choice(SPAM_LINKS).format(n=n, m=n % 250 + 1)
            text = rng.choice(SPAM).format(link=link)
            recipients = rng.sample(book, rng.randint(1, 4))
        else:
            text = rng.choice(HAM_LINKED) if rng.random() < 0.12 else rng.choice(HAM)
            recipients = [rng.choice(book)] if rng.random() < 0.9 else rng.sample(book, 3)
        body = {"id": f"{self.tag}-{self.n}", "sender": sender, "recipients": recipients,
                "text": text}
        return json.dumps(body).encode()


# -- the load generator (runs in a separate, spawned process) -------------------

def _pct(sorted_ms: list[float], q: float) -> float | None:
    if not sorted_ms:
        return None
    k = min(len(sorted_ms) - 1, max(0, round(q / 100 * len(sorted_ms)) - 1))
    return round(sorted_ms[k], 2)


def _summary(lat_ms: list[float]) -> dict[str, Any]:
    s = sorted(lat_ms)
    return {"p50_ms": _pct(s, 50), "p90_ms": _pct(s, 90), "p99_ms": _pct(s, 99),
            "max_ms": round(s[-1], 2) if s else None}


class _RawConn:
    """One keep-alive HTTP/1.1 connection (asyncio streams, TCP_NODELAY by default).

    The default client: httpx costs ~1-3 ms of client CPU per request here,
    more than the server's own time, and the client shares the 2 cores with
    the server. This one parses only what uvicorn sends (Content-Length).
    """

    #: Reopen a connection idle this long: uvicorn closes idle ones after 5 s, and a
    #: request sent as it does so would fail (httpx's keepalive_expiry is also 5 s).
    IDLE_S = 4.0

    def __init__(self, host: str, port: int, head: bytes) -> None:
        self.host, self.port, self.head = host, port, head
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.used = 0.0

    async def post(self, body: bytes) -> tuple[int, bytes]:
        now = asyncio.get_running_loop().time()
        if self.writer is not None and now - self.used > self.IDLE_S:
            self.close()
        self.used = now
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(self.head + str(len(body)).encode() + b"\r\n\r\n" + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        low = head.lower()
        at = low.find(b"\r\ncontent-length:")
        if at < 0:
            raise ValueError("response without Content-Length")
        length = int(low[at + 17:low.index(b"\r\n", at + 2)])
        payload = await self.reader.readexactly(length)
        self.used = asyncio.get_running_loop().time()
        if b"\r\nconnection: close" in low:
            self.close()
        return status, payload

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class _HttpxConn:
    """The same interface over a shared httpx.AsyncClient (``--client httpx``)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def post(self, body: bytes) -> tuple[int, bytes]:
        r = await self.client.post("/v1/check", content=body)
        return r.status_code, r.content

    def close(self) -> None:
        pass


class _Load:
    """A pool of ``n`` connections (a queue: bounded in flight, O(1) waiting) and tallies."""

    def __init__(self, spec: dict[str, Any], n: int) -> None:
        self.spec = spec
        self.timeout = float(spec["timeout"])
        self.lat_ms: list[float] = []
        #: latencies of checks that challenged or locked the account (the answer waits
        #: for the ledger's fsync) and of the rest, apart: the first are a few per cent
        self.action_lat_ms: list[float] = []
        self.plain_lat_ms: list[float] = []
        self.errors: Counter[str] = Counter()
        self.actions: Counter[str] = Counter()
        self.last_done = 0.0
        self.free: asyncio.Queue[_RawConn | _HttpxConn] = asyncio.Queue()
        self.httpx: httpx.AsyncClient | None = None
        url = httpx.URL(spec["base"])
        if spec.get("client", "raw") == "httpx":
            self.httpx = httpx.AsyncClient(
                base_url=spec["base"], timeout=httpx.Timeout(self.timeout),
                headers={"Authorization": f"Bearer {spec['token']}",
                         "Content-Type": "application/json"},
                limits=httpx.Limits(max_connections=n, max_keepalive_connections=n))
            conns: list[_RawConn | _HttpxConn] = [_HttpxConn(self.httpx) for _ in range(n)]
        else:
            head = (f"POST /v1/check HTTP/1.1\r\nHost: {url.host}:{url.port}\r\n"
                    f"Authorization: Bearer {spec['token']}\r\n"
                    "Content-Type: application/json\r\nContent-Length: ").encode()
            conns = [_RawConn(str(url.host), int(url.port or 80), head) for _ in range(n)]
        for c in conns:
            self.free.put_nowait(c)

    async def send(self, body: bytes, t0: float) -> None:
        """One request; latency from ``t0`` (loop clock), given up ``timeout`` after it."""
        loop = asyncio.get_running_loop()
        conn: _RawConn | _HttpxConn | None = None
        try:
            async with asyncio.timeout_at(t0 + self.timeout):
                conn = await self.free.get()
                status, payload = await conn.post(body)
            done = loop.time()
            if status == 200:
                self.lat_ms.append((done - t0) * 1000)
                verdict = json.loads(payload)
                self.actions[str(verdict.get("action"))] += 1
                acted = verdict.get("account_action") is not None
                (self.action_lat_ms if acted else self.plain_lat_ms).append((done - t0) * 1000)
            else:
                self.errors[f"http_{status}"] += 1
        except (TimeoutError, OSError, ValueError, asyncio.IncompleteReadError,
                httpx.HTTPError) as e:
            done = loop.time()
            self.errors["timeout" if isinstance(e, TimeoutError) else type(e).__name__] += 1
            if conn is not None:
                conn.close()  # a half-read response would desynchronise the next one
        finally:
            if conn is not None:
                self.free.put_nowait(conn)
        self.last_done = max(self.last_done, done)

    async def aclose(self) -> None:
        while not self.free.empty():
            self.free.get_nowait().close()
        if self.httpx is not None:
            await self.httpx.aclose()

    def tallies(self) -> dict[str, Any]:
        acted = _summary(self.action_lat_ms)
        return {**_summary(self.lat_ms), "errors": sum(self.errors.values()),
                "error_kinds": dict(self.errors), "actions": dict(self.actions),
                "account_action_checks": len(self.action_lat_ms),
                "account_action_p50_ms": acted["p50_ms"], "account_action_p99_ms": acted["p99_ms"],
                "without_account_action": _summary(self.plain_lat_ms)}


async def _open_loop(spec: dict[str, Any]) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    rate, duration = float(spec["rate"]), float(spec["duration"])
    n = int(rate * duration)
    interval = 1.0 / rate
    traffic = Traffic(spec["tag"])
    load = _Load(spec, int(spec["connections"]))
    lags: list[float] = []
    tasks: set[asyncio.Task[None]] = set()
    peak_pending = 0
    cpu0 = time.process_time()
    start = loop.time() + 0.05
    i = 0
    while i < n:
        now = loop.time()
        while i < n and start + i * interval <= now:
            t_sched = start + i * interval
            lags.append((now - t_sched) * 1000)
            task = asyncio.create_task(load.send(traffic.next(), t_sched))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            i += 1
        peak_pending = max(peak_pending, len(tasks))
        if i < n:
            await asyncio.sleep(max(0.0, start + i * interval - loop.time()))
    send_end = loop.time()
    if tasks:  # each gives up by itself ``timeout`` after its scheduled time
        await asyncio.wait(set(tasks), timeout=load.timeout + 5)
    cpu = time.process_time() - cpu0
    await load.aclose()
    end = max(load.last_done, send_end)
    ok = len(load.lat_ms)
    lags.sort()
    return {
        "offered_per_s": rate, "duration_s": duration, "scheduled": n,
        "sent_per_s": round(n / (send_end - start), 1),
        "ok": ok, "achieved_per_s": round(ok / (end - start), 1),
        "wall_s": round(end - start, 2), **load.tallies(), "spam_sent": traffic.spam,
        "peak_pending": peak_pending,
        "client_schedule_lag_p99_ms": _pct(lags, 99),
        "client_schedule_lag_max_ms": _pct(lags, 100),
        "client_cpu_s": round(cpu, 2),
        "client_cpu_ms_per_req": round(1000 * cpu / n, 3),
    }


async def _closed_loop(spec: dict[str, Any]) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    traffic = Traffic(spec["tag"])
    conc = int(spec["concurrency"])
    load = _Load(spec, conc)
    cpu0 = time.process_time()
    start = loop.time()
    deadline = start + float(spec["duration"])

    async def worker() -> None:
        while loop.time() < deadline:
            await load.send(traffic.next(), loop.time())

    await asyncio.gather(*(worker() for _ in range(conc)))
    cpu = time.process_time() - cpu0
    await load.aclose()
    end = max(load.last_done, deadline)
    ok = len(load.lat_ms)
    done = ok + sum(load.errors.values())
    return {
        "concurrency": conc, "duration_s": spec["duration"], "ok": ok,
        "req_per_s": round(ok / (end - start), 1), "wall_s": round(end - start, 2),
        **load.tallies(), "client_cpu_s": round(cpu, 2),
        "client_cpu_ms_per_req": round(1000 * cpu / done, 3) if done else None,
    }


def loadgen(spec: dict[str, Any]) -> dict[str, Any]:
    """Entry point of the client process: one phase, described by ``spec``."""
    phase = {"open": _open_loop, "closed": _closed_loop}[spec["mode"]]
    return asyncio.run(phase(spec))


# -- the server ----------------------------------------------------------------

def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _proc_tree(root: int) -> list[int]:
    """``root`` and its descendants, from /proc."""
    parent: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, frontier = [root], [root]
    while frontier:
        kids = [p for p, pp in parent.items() if pp in frontier]
        tree += kids
        frontier = kids
    return tree


def _cpu_s(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLK_TCK


def _status(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return ""


def _idle(pids: list[int], limit_s: float) -> float:
    """Wait (at most ``limit_s``) until the server is idle: requests whose clients gave
    up are still processed after the client left; returns the seconds waited."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit_s:
        cpu0 = _cpu_s(pids)
        time.sleep(0.5)
        if _cpu_s(pids) - cpu0 < 0.05:  # under 10 % of one core
            break
    return round(time.perf_counter() - t0, 1)


def _mem_mb(pids: list[int]) -> dict[str, Any]:
    per: list[dict[str, Any]] = []
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        kb = {k: int(v) for k, v in re.findall(r"^(VmHWM|VmRSS):\s+(\d+) kB", status, re.M)}
        per.append({"pid": pid, "peak_mb": round(kb.get("VmHWM", 0) / 1024, 1),
                    "rss_mb": round(kb.get("VmRSS", 0) / 1024, 1)})
    return {"peak_rss_mb_sum": round(sum(p["peak_mb"] for p in per), 1),
            "rss_mb_sum": round(sum(p["rss_mb"] for p in per), 1), "processes": per}


class Server:
    def __init__(self, store: str, workers: int, data_dir: Path) -> None:
        self.store, self.workers, self.data_dir = store, workers, data_dir
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        made = subprocess.run([sys.executable, "-c", CLI, "keys", "create", "bench", "--scope",
                               "check", "--data-dir", str(data_dir)],
                              capture_output=True, text=True, check=True, timeout=60)
        self.token: str = json.loads(made.stdout)["token"]
        self.log_path = data_dir / "server.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CLI, "serve", "--host", "127.0.0.1", "--port",
             str(self.port), "--workers", str(workers), "--data-dir", str(data_dir),
             "--store", store],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        self.health: dict[str, Any] = {}
        self.startup_s = self._wait_ready(time.perf_counter())

    def _wait_ready(self, t0: float) -> float:
        deadline = t0 + 90
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited ({self.proc.returncode}): {self.log_tail()}")
            try:
                r = httpx.get(self.base + "/healthz", timeout=2)
                # with several workers, wait until every one has been spawned
                if r.status_code == 200 and len(self.pids()) >= 1 + (self.workers > 1) * \
                        self.workers:
                    self.health = r.json()
                    return round(time.perf_counter() - t0, 2)
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server not ready after 90 s: {self.log_tail()}")

    def pids(self) -> list[int]:
        return _proc_tree(self.proc.pid)

    def log_tail(self, n: int = 15) -> str:
        if not self._log.closed:
            self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])

    def engine_metrics(self) -> dict[str, Any]:
        """Per-worker engine time from /metrics (each worker has its own registry)."""
        seen: dict[tuple[float, float], float] = {}
        give_up = time.perf_counter() + 30  # a worker stuck on a store lock answers late
        for _ in range(1 if self.workers == 1 else 4 * self.workers):
            if time.perf_counter() > give_up:
                break
            try:
                text = httpx.get(self.base + "/metrics", timeout=10).text  # a new connection
            except httpx.HTTPError:
                continue
            vals = dict(re.findall(r"^(spimguard_check_seconds_(?:count|sum)|"
                                   r"spimguard_store_errors_total) ([0-9.e+-]+)$", text, re.M))
            count = float(vals.get("spimguard_check_seconds_count", 0))
            total = float(vals.get("spimguard_check_seconds_sum", 0))
            seen[(count, total)] = float(vals.get("spimguard_store_errors_total", 0))
        checks = sum(c for c, _ in seen)
        return {"workers_seen": len(seen), "checks_seen": int(checks),
                "engine_ms_per_check": round(sum(s for _, s in seen) / checks * 1000, 3)
                if checks else None,
                "store_errors": int(sum(seen.values()))}

    def stop(self) -> dict[str, Any]:
        pids = self.pids()
        mem = _mem_mb(pids)
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
            how = "sigterm"
        except subprocess.TimeoutExpired:
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.proc.wait(timeout=10)
            how = "killed"
        left = pids[1:]
        for _ in range(50):  # children normally exit with the parent; give them 5 s
            left = [pid for pid in left if Path(f"/proc/{pid}").exists()
                     and "State:\tZ" not in _status(pid)]
            if not left:
                break
            time.sleep(0.1)
        for pid in left:  # children that outlived the parent, by their own pid
            try:
                os.kill(pid, signal.SIGKILL)
                how += "+child_killed"
            except ProcessLookupError:
                pass
        self._log.close()
        return {**mem, "stopped": how, "exit_code": self.proc.returncode}


# -- the benchmark ---------------------------------------------------------------

def _sqlite_importable() -> bool:
    return subprocess.run([sys.executable, "-c", "import spimguard.state.sqlite"],
                          capture_output=True, timeout=60).returncode == 0


def _redis_cli(url: str, command: str) -> str:
    """``redis-cli`` on the DB of ``url`` (FLUSHDB before a run, DBSIZE after)."""
    parsed = httpx.URL(url)
    db = parsed.path.strip("/") or "0"
    out = subprocess.run(["redis-cli", "-h", str(parsed.host), "-p", str(parsed.port or 6379),
                          "-n", db, command], capture_output=True, text=True, timeout=30,
                         check=True)
    return out.stdout.strip()


def _system_busy_s() -> float:
    """CPU seconds the whole machine has spent busy (all processes), from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / CLK_TCK


def run_config(pool: Any, name: str, workers: int, args: argparse.Namespace) -> dict[str, Any]:
    store = args.redis if name == "redis" else name
    if name == "redis":
        _redis_cli(args.redis, "flushdb")
    result: dict[str, Any] = {"config": f"{name} w{workers}", "store": store, "workers": workers}
    with tempfile.TemporaryDirectory(prefix="sg-bench-http-") as tmp:
        server = Server(store, workers, Path(tmp))
        result["startup_s"] = server.startup_s
        result["healthz"] = server.health
        try:
            common = {"base": server.base, "token": server.token, "timeout": args.timeout,
                      "client": args.client}

            def phase(spec: dict[str, Any]) -> dict[str, Any]:
                pids = server.pids()
                cpu0, busy0, t0 = _cpu_s(pids), _system_busy_s(), time.perf_counter()
                out: dict[str, Any] = pool.apply_async(loadgen, ({**common, **spec},)).get(
                    timeout=float(spec["duration"]) + args.timeout + 60)
                wall = time.perf_counter() - t0
                cpu = _cpu_s(pids) - cpu0
                busy = _system_busy_s() - busy0
                done = out.get("ok", 0) + out.get("errors", 0)
                out["server_cpu_s"] = round(cpu, 2)
                out["server_cpu_pct"] = round(100 * cpu / wall, 1)
                out["server_cpu_ms_per_req"] = round(1000 * cpu / done, 3) if done else None
                out["client_cpu_pct"] = round(100 * out["client_cpu_s"] / wall, 1)
                # whatever else ran meanwhile (other jobs, Redis, the kernel's share)
                out["other_cpu_pct"] = round(100 * (busy - cpu - out["client_cpu_s"]) / wall, 1)
                return out

            tag = f"{name}{workers}"
            warm = phase({"mode": "closed", "tag": f"{tag}-warm", "duration": args.warmup_s,
                          "concurrency": 8})
            result["warmup"] = {k: warm[k] for k in ("ok", "req_per_s", "errors")}
            # closed loop first: it never leaves a backlog behind, an overloaded open loop does
            result["closed"] = phase({"mode": "closed", "tag": f"{tag}-closed",
                                      "duration": args.closed_s,
                                      "concurrency": args.concurrency})
            result["idle_wait_s"] = [_idle(server.pids(), 30)]
            if args.half_s > 0 and result["closed"]["req_per_s"] >= 2:
                result["open_half"] = phase({
                    "mode": "open", "tag": f"{tag}-half", "connections": args.connections,
                    "rate": round(result["closed"]["req_per_s"] / 2, 1),
                    "duration": args.half_s})
                result["idle_wait_s"].append(_idle(server.pids(), 30))
            result["engine"] = server.engine_metrics()
            result["open"] = phase({"mode": "open", "tag": f"{tag}-open", "rate": args.rate,
                                    "duration": args.open_s, "connections": args.connections})
        except Exception as e:  # keep the other configurations' numbers
            result["failed"] = f"{type(e).__name__}: {e}"
        finally:
            result["memory"] = server.stop()
            result["server_log_tail"] = server.log_tail(8)
    if name == "redis":
        result["redis_keys_after"] = int(_redis_cli(args.redis, "dbsize") or 0)
    return result


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.1f}" if v >= 10 else f"{v:.2f}"
    return str(v)


def markdown(runs: list[dict[str, Any]], rate: float, conc: int) -> str:
    rows = [f"| config | offered {rate / 1000:g}k/s: achieved/s | p50 ms | p99 ms | errors "
            f"| max ({conc} in flight): req/s | p50 ms | p99 ms | peak RSS MB |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in runs:
        if "skipped" in r:
            rows.append(f"| {r['config']} | skipped: {r['skipped']} | | | | | | | |")
            continue
        o, c = r.get("open", {}), r.get("closed", {})
        mem = r.get("memory", {}).get("peak_rss_mb_sum")
        rows.append(
            f"| {r['config']} | {_fmt(o.get('achieved_per_s'))} | {_fmt(o.get('p50_ms'))} "
            f"| {_fmt(o.get('p99_ms'))} | {_fmt(o.get('errors'))} "
            f"| {_fmt(c.get('req_per_s'))} | {_fmt(c.get('p50_ms'))} | {_fmt(c.get('p99_ms'))} "
            f"| {_fmt(mem)} |")
    rows += ["", "| config | open at half max: req/s | p50 ms | p99 ms | errors "
             "| max: server CPU % | client CPU % | other CPU % | server CPU ms/req "
             "| engine ms/check |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in runs:
        if "skipped" in r:
            continue
        h, c, e = r.get("open_half", {}), r.get("closed", {}), r.get("engine", {})
        rows.append(
            f"| {r['config']} | {_fmt(h.get('offered_per_s'))} | {_fmt(h.get('p50_ms'))} "
            f"| {_fmt(h.get('p99_ms'))} | {_fmt(h.get('errors'))} "
            f"| {_fmt(c.get('server_cpu_pct'))} | {_fmt(c.get('client_cpu_pct'))} "
            f"| {_fmt(c.get('other_cpu_pct'))} | {_fmt(c.get('server_cpu_ms_per_req'))} "
            f"| {_fmt(e.get('engine_ms_per_check'))} |")
    rows += ["", f"| config | offered {rate / 1000:g}k/s: checks without an account action: "
             "p50 ms | p99 ms | with one (answer waits for the ledger's fsync): count "
             "| p50 ms | p99 ms |", "|---|---:|---:|---:|---:|---:|"]
    for r in runs:
        if "skipped" in r:
            continue
        o = r.get("open", {})
        w = o.get("without_account_action", {})
        rows.append(
            f"| {r['config']} | {_fmt(w.get('p50_ms'))} | {_fmt(w.get('p99_ms'))} "
            f"| {_fmt(o.get('account_action_checks'))} | {_fmt(o.get('account_action_p50_ms'))} "
            f"| {_fmt(o.get('account_action_p99_ms'))} |")
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--configs", default="memory:1,sqlite:1,sqlite:2,redis:1,redis:2",
                    help="comma-separated STORE:WORKERS, STORE in memory, sqlite, redis")
    ap.add_argument("--rate", type=float, default=1000.0, help="open-loop requests/s")
    ap.add_argument("--open-s", type=float, default=20.0)
    ap.add_argument("--closed-s", type=float, default=15.0)
    ap.add_argument("--warmup-s", type=float, default=2.0)
    ap.add_argument("--half-s", type=float, default=10.0,
                    help="also an open loop at half the measured max for this long (0: off)")
    ap.add_argument("--concurrency", type=int, default=24, help="closed-loop requests in flight")
    ap.add_argument("--connections", type=int, default=64, help="open-loop keep-alive pool")
    ap.add_argument("--timeout", type=float, default=10.0, help="per request, seconds")
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/9",
                    help="a spare Redis DB: it is FLUSHDB'd before each redis run")
    ap.add_argument("--client", choices=("raw", "httpx"), default="raw",
                    help="raw: a minimal asyncio HTTP/1.1 keep-alive client (default, cheap); "
                         "httpx: httpx.AsyncClient (costs more client CPU than the server)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()
    configs = [(s.split(":")[0], int(s.split(":")[1])) for s in args.configs.split(",")]
    for store, _ in configs:
        if store not in ("memory", "sqlite", "redis"):
            ap.error(f"unknown store {store!r}")
    if not _sqlite_importable():  # being written elsewhere: measure the others first
        configs.sort(key=lambda c: c[0] == "sqlite")
    started = time.perf_counter()
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    runs: list[dict[str, Any]] = []
    with mp.get_context("spawn").Pool(1) as pool:  # the client: its own interpreter
        for store, workers in configs:
            if store == "sqlite" and not _sqlite_importable():
                runs.append({"config": f"sqlite w{workers}",
                             "skipped": "spimguard.state.sqlite does not import"})
                continue
            print(f"# {store} w{workers} ...", file=sys.stderr, flush=True)
            runs.append(run_config(pool, store, workers, args))
    result: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "note": ("client on the same 2-core machine: the load generator (one spawned "
                 f"process, {args.client} client on asyncio, keep-alive) competes with the "
                 "server for CPU, so max throughput is a lower bound and latencies include "
                 "client delay (see client_cpu_pct, client_schedule_lag_*; other_cpu_pct "
                 "is everything else the machine ran meanwhile). Each configuration is a "
                 "fresh server with auth on (a check-scoped bearer key): warm-up, closed "
                 "loop (max), open loop at half that max, then the fixed-rate open loop, "
                 "waiting for the server to go idle between phases. Open-loop "
                 "latency runs from the scheduled send time; a request not answered "
                 "within timeout_s of it is an error ('timeout'). RSS is the sum of VmHWM "
                 "(peak) over the uvicorn parent and its children, read after both runs"),
        "loadavg_before": load_before,
        "loadavg_after": Path("/proc/loadavg").read_text().split()[:3],
        "settings": {"rate": args.rate, "open_s": args.open_s, "closed_s": args.closed_s,
                     "warmup_s": args.warmup_s, "concurrency": args.concurrency,
                     "open_loop_connections": args.connections, "timeout_s": args.timeout,
                     "client": args.client, "users": 2000, "contacts": 10,
                     "spam_share": 0.05},
        "runs": runs,
        "total_s": round(time.perf_counter() - started, 1),
    }
    result["markdown"] = markdown(runs, args.rate, args.concurrency)
    text = json.dumps(result, indent=2, ensure_ascii=False)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    print(result["markdown"])


if __name__ == "__main__":
    main()
