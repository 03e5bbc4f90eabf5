"""Fault and fuzz bench of issue 20: hostile input, SIGKILL, a Redis outage, measured end to end.

Usage: python bench/bench_faults.py [--events 100000] [--store memory|sqlite] [--kills 5]
                                    [--outage-seconds 20] [--probes fuzz,sigkill,redis]
                                    [--seed 20] [--quick] [--out FILE]
       python bench/bench_faults.py --show-case INDEX   # print one fuzzed line (repr)

Why: the unit and property tests prove each defence of docs/http.md on its
own, in-process. What an operator relies on is the whole service holding up
when all of it happens at once, over a real socket, in a real process: a
stream of broken events must not produce one 5xx, kill the process, drop a
connection or grow memory; a SIGKILL must not lose anything that was
acknowledged; a Redis outage must not free a locked account on any worker.
So every probe starts its own processes (``spimguard serve``, ``redis-server``)
on free 127.0.0.1 ports in a temp dir, bounded in count and time, talks to
nothing else, and stops them (by pid) at the end:

1. fuzz: ``--events`` lines from a seeded generator (``fault_probes.Fuzzer``:
   valid events plus wrong types, missing fields, lone surrogates in every
   string field, nesting 1,000+ deep, 4,301+ digit integers, 1e999, NaN,
   texts over 100,000 characters, raw U+2028, invalid UTF-8, truncated JSON,
   arrays, unknown types, empty lines), each sent both in a JSON Lines batch
   to ``POST /v1/events`` and alone to ``POST /v1/check`` with a check-scope
   key, after a warm-up of 10,000 other lines. Counted: answers by status
   class, 5xx, connection drops, crashes (the server is restarted, at most
   3 times), batch items that failed inside the engine, valid events refused,
   lines the docs say must be refused that got a verdict, and the server's
   RSS growth between the end of the warm-up and the end. The same lines go
   through ``spimguard replay -`` (exit code, traceback).
2. sigkill: the default SQLite store; client threads send reports and
   messages to a decoy (each locks its sender) while the server is killed
   ``--kills`` times and restarted on the same data dir; every acknowledged
   report must be in ``ledger.sqlite`` and every acknowledged lock in the
   account's history, and enforced.
3. redis: ``--workers 2`` on a private ``redis-server``; accounts locked before
   and during a ``--outage-seconds`` outage (Redis SIGKILLed, then restarted
   empty on the same port); messages from every locked account go to both
   workers before, during and after. Each request's worker is known: the
   bench keeps one keep-alive connection per worker, found from
   /proc/net/tcp and the workers' file descriptors. /healthz is polled every
   100 ms on each worker for "degraded".
4. latency: p50/p99 of ``/v1/check`` for the valid messages of the fuzz run
   (client side, while batches and broken lines are being sent too).

Prints a Markdown table (probe | measured | target | met?) and writes JSON to
``--out`` (default bench/results/faults.json) with the git commit. Targets
marked "bench" are this bench's own bounds, not promises of the docs.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fault_probes import (  # bench/: run as python bench/bench_faults.py
    CLI,
    FuzzCase,
    Fuzzer,
    JsonConn,
    Pinned,
    RawConn,
    RedisProcess,
    Serve,
    make_key,
    pct,
    wait_idle,
)

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "faults.json"
DECOY = "@decoy:x"
#: The fields /v1/check reads (its schema ignores the rest, "type" included)
CHECK_READS = frozenset({"ts", "id", "sender", "recipients", "room", "text", "formatted_body",
                         "encrypted"})
LURE = "win a prize http://prize-now.xyz/claim"
#: Workers read new ledger actions at most once a second (docs/http.md); with slack
FOLLOW_S = 1.5
NET_ERRORS = (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError)


def _sample(bucket: list[dict[str, Any]], item: dict[str, Any], n: int = 20) -> None:
    if len(bucket) < n:
        bucket.append(item)


# -- 1. fuzz ------------------------------------------------------------------------------

class FuzzRun:
    """Drives one fuzz phase against ``server``: 4 check connections, 1 batch connection."""

    MAX_RESTARTS = 3

    def __init__(self, server: Serve, token: str, args: argparse.Namespace) -> None:
        self.server, self.token, self.args = server, token, args
        self.status: dict[str, Counter[str]] = {"check": Counter(), "events": Counter()}
        self.codes: dict[str, Counter[int]] = {"check": Counter(), "events": Counter()}
        self.fails: Counter[str] = Counter()  # drop, timeout, lost_to_crash
        self.samples: dict[str, list[dict[str, Any]]] = {
            k: [] for k in ("5xx", "drop", "crash", "item_failure", "valid_refused", "leak",
                            "disagree", "whole_batch")}
        self.counts: Counter[str] = Counter()
        self.leaks: Counter[str] = Counter()
        self.disagree: Counter[str] = Counter()
        self.lat_ms: list[float] = []
        self.check_ok: dict[int, bool] = {}
        self.batch_ok: dict[int, bool] = {}
        self.crashes: list[dict[str, Any]] = []
        self.deadline = 0.0

    async def _failed(self, gen: int, what: dict[str, Any], why: str) -> None:
        async with self.lock:
            await asyncio.sleep(0.2)
            if self.server.starts != gen:
                self.fails["lost_to_crash"] += 1
                return
            if self.server.alive():
                self.fails[why] += 1
                _sample(self.samples["drop"], {**what, "why": why})
                return
            self.fails["lost_to_crash"] += 1
            crash = {**what, "exit_code": self.server.proc.returncode if self.server.proc
                     else None, "log_tail": self.server.log_tail(25)}
            self.crashes.append(crash)
            if len(self.crashes) > self.MAX_RESTARTS:
                raise RuntimeError(f"server crashed {len(self.crashes)} times")
            await asyncio.to_thread(self.server.start)

    async def _post(self, conn: RawConn, ep: str, body: bytes, what: dict[str, Any]
                    ) -> tuple[int, bytes, float] | None:
        path, ctype = ("/v1/check", "application/json") if ep == "check" else \
            ("/v1/events", "application/x-ndjson")
        gen, t0 = self.server.starts, time.perf_counter()
        try:
            async with asyncio.timeout(self.args.timeout):
                status, payload = await conn.post(path, body, ctype)
        except TimeoutError:
            conn.close()
            await self._failed(gen, what, "timeout")
            return None
        except NET_ERRORS as e:
            await self._failed(gen, {**what, "error": type(e).__name__}, "drop")
            return None
        ms = (time.perf_counter() - t0) * 1000
        self.status[ep][f"{status // 100}xx"] += 1
        self.codes[ep][status] += 1
        if status >= 500:
            _sample(self.samples["5xx"], {**what, "status": status, "body": payload[:300].decode(
                "utf-8", "replace")})
        return status, payload, ms

    async def _check_worker(self, q: asyncio.Queue[FuzzCase | None], latency: bool) -> None:
        conn = RawConn(self.server.port, self.token)
        while (case := await q.get()) is not None:
            got = await self._post(conn, "check", case.line, {"endpoint": "/v1/check",
                                                               "case": case.index,
                                                               "kinds": case.kinds})
            if got is None:
                continue
            status, _, ms = got
            ok = status == 200
            if case.msg_id is not None:
                self.check_ok[case.index] = ok
            if case.valid and case.msg_id is not None and not ok:
                self.counts["valid_refused_check"] += 1
                _sample(self.samples["valid_refused"], {"endpoint": "/v1/check",
                                                        "case": case.index, "status": status})
            if case.must_refuse and ok:
                read = any(f.split("[")[0] in CHECK_READS or f.startswith("<")
                           for f in case.refuse_fields)
                self.leaks[f"check:{case.kinds[0]}:{'read' if read else 'ignored'}_field"] += 1
                _sample(self.samples["leak"], {"endpoint": "/v1/check", "case": case.index,
                                               "kinds": case.kinds,
                                               "fields": case.refuse_fields})
            if latency and ok and case.kinds == ("valid",) and case.msg_id is not None:
                self.lat_ms.append(ms)
        conn.close()

    async def _batch_worker(self, q: asyncio.Queue[list[FuzzCase] | None]) -> None:
        conn = RawConn(self.server.port, self.token)
        while (batch := await q.get()) is not None:
            body = b"\n".join(c.line for c in batch)
            what = {"endpoint": "/v1/events", "cases": [batch[0].index, batch[-1].index]}
            got = await self._post(conn, "events", body, what)
            if got is None:
                continue
            status, payload, _ = got
            self.counts["batch_lines"] += len(batch)
            if status != 200:
                self.counts["whole_batch_refused"] += 1
                _sample(self.samples["whole_batch"], {**what, "status": status,
                                                      "first_kinds": batch[0].kinds,
                                                      "body": payload[:200].decode("utf-8",
                                                                                   "replace")})
                self.counts["valid_lost_in_whole_batch"] += sum(c.valid for c in batch)
                continue
            out = json.loads(payload)
            ids = {v.get("id") for v in out["verdicts"]}
            self.counts["batch_verdicts"] += len(out["verdicts"])
            err_lines = {e["line"] for e in out["errors"]}
            for e in out["errors"]:
                if "internal error" in e["error"]:
                    self.counts["item_failures"] += 1
                    line = batch[e["line"] - 1]
                    _sample(self.samples["item_failure"], {"case": line.index,
                                                           "kinds": line.kinds})
            for n, c in enumerate(batch, start=1):
                judged = c.msg_id is not None and c.msg_id in ids
                if c.msg_id is not None:
                    self.batch_ok[c.index] = judged
                if c.valid and (n in err_lines or (c.msg_id is not None and not judged)):
                    self.counts["valid_refused_events"] += 1
                    _sample(self.samples["valid_refused"], {"endpoint": "/v1/events",
                                                            "case": c.index})
                if c.must_refuse and judged:
                    self.leaks[f"events:{c.kinds[0]}"] += 1
                    _sample(self.samples["leak"], {"endpoint": "/v1/events", "case": c.index,
                                                   "kinds": c.kinds, "fields": c.fields})
        conn.close()

    async def run(self, fuzzer: Fuzzer, n: int, latency: bool) -> int:
        """Send cases 0..n-1 of ``fuzzer``; returns how many were sent before the deadline."""
        self.lock = asyncio.Lock()  # of this event loop
        qc: asyncio.Queue[FuzzCase | None] = asyncio.Queue(maxsize=400)
        qb: asyncio.Queue[list[FuzzCase] | None] = asyncio.Queue(maxsize=3)
        k = self.args.check_conns
        tasks = [asyncio.create_task(self._check_worker(qc, latency)) for _ in range(k)]
        tasks.append(asyncio.create_task(self._batch_worker(qb)))
        batch: list[FuzzCase] = []
        size = sent = 0
        for i in range(n):
            if time.monotonic() > self.deadline or any(t.done() for t in tasks):
                break
            c = fuzzer.case(i)
            sent += 1
            await qc.put(c)
            if batch and (len(batch) >= self.args.batch_lines or
                          size + len(c.line) > 4_000_000):
                await qb.put(batch)
                batch, size = [], 0
            batch.append(c)
            size += len(c.line) + 1
        if batch:
            await qb.put(batch)
        for _ in range(k):
            await qc.put(None)
        await qb.put(None)
        await asyncio.gather(*tasks)
        return sent


#: failure counts that add up over the warm-up and the main run
FAILURE_KEYS = ("server_errors", "connection_drops", "timeouts", "lost_to_crash", "crashes",
                "item_failures", "valid_refused_check", "valid_refused_events",
                "whole_batch_refused", "server_log_tracebacks")


def _summary(run: FuzzRun, fuzzer: Fuzzer) -> dict[str, Any]:
    per_kind: Counter[str] = Counter()
    for i, ok in run.check_ok.items():
        if i in run.batch_ok and ok != run.batch_ok[i]:
            case = fuzzer.case(i)
            key = f"{case.kinds[0]}:{'check' if ok else 'events'}-only"
            run.disagree[key] += 1
            per_kind[key] += 1
            if per_kind[key] <= 3:
                _sample(run.samples["disagree"], {"case": i, "kinds": case.kinds,
                                                  "fields": case.fields,
                                                  "accepted_by": "check" if ok else "events"},
                        n=60)
    return {
        "status": {k: dict(v) for k, v in run.status.items()},
        "codes": {k: {str(c): n for c, n in sorted(v.items())} for k, v in run.codes.items()},
        "server_errors": run.status["check"]["5xx"] + run.status["events"]["5xx"],
        "connection_drops": run.fails["drop"], "timeouts": run.fails["timeout"],
        "lost_to_crash": run.fails["lost_to_crash"], "crashes": len(run.crashes),
        "crash_details": run.crashes, "item_failures": 0, "valid_refused_check": 0,
        "valid_refused_events": 0, "whole_batch_refused": 0, "valid_lost_in_whole_batch": 0,
        **dict(run.counts),
        "leaks_by_kind": dict(run.leaks), "check_events_disagreements": dict(run.disagree),
        "latency_valid_check": {"n": len(run.lat_ms), "p50_ms": pct(run.lat_ms, 50),
                                "p99_ms": pct(run.lat_ms, 99), "max_ms": pct(run.lat_ms, 100)},
        "samples": run.samples}


def probe_fuzz(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    data = tmp / "fuzz"
    token = make_key(data, "fuzz", ["check"])
    server = Serve(data, store=args.store)
    out: dict[str, Any] = {"store": args.store, "startup_s": server.start()}
    deadline = time.monotonic() + args.fuzz_max_s
    warm, main = FuzzRun(server, token, args), FuzzRun(server, token, args)
    warm.deadline = main.deadline = deadline
    wfuzz, mfuzz = Fuzzer(args.seed, prefix="wu"), Fuzzer(args.seed)
    t0 = time.perf_counter()
    try:
        out["warmup_events"] = asyncio.run(warm.run(wfuzz, args.warmup, latency=False))
        wait_idle(server.pids())
        out["rss_after_warmup_mb"] = server.rss_mb()
        t1 = time.perf_counter()
        out["events"] = asyncio.run(main.run(mfuzz, args.events, latency=True))
        out["main_s"] = round(time.perf_counter() - t1, 1)
        wait_idle(server.pids())
        out["rss_end_mb"] = server.rss_mb()
        out["rss_growth_mb"] = round(out["rss_end_mb"] - out["rss_after_warmup_mb"], 1)
        out["healthz_end"] = JsonConn(server.port).call("GET", "/healthz")[1]
    except Exception as e:  # keep what was measured
        out["failed"] = f"{type(e).__name__}: {e}"
    finally:
        out["alive_at_end"] = server.alive()
        out["stopped"] = server.stop()
    out["wall_s"] = round(time.perf_counter() - t0, 1)
    out["warmup"] = _summary(warm, wfuzz)
    out.update(_summary(main, mfuzz))
    out["server_log_tracebacks"] = server.logs_text().count("Traceback")
    out["totals_with_warmup"] = {k: out.get(k, 0) + out["warmup"].get(k, 0)
                                 for k in FAILURE_KEYS if k != "server_log_tracebacks"}
    return out


def probe_replay(args: argparse.Namespace, n: int) -> dict[str, Any]:
    """The same lines through ``spimguard replay -`` (memory store)."""
    fuzzer = Fuzzer(args.seed)
    proc = subprocess.Popen([sys.executable, "-c", CLI, "replay", "-"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin and proc.stdout and proc.stderr
    lines = [0]
    err: list[bytes] = []
    expected = 0

    def feed() -> None:
        try:
            for i in range(n):
                proc.stdin.write(fuzzer.case(i).line + b"\n")  # type: ignore[union-attr]
            proc.stdin.close()  # type: ignore[union-attr]
        except (BrokenPipeError, OSError):
            pass

    def count() -> None:
        for _ in proc.stdout:  # type: ignore[union-attr]
            lines[0] += 1

    def errors() -> None:
        err.append(proc.stderr.read())  # type: ignore[union-attr]

    t0 = time.perf_counter()
    threads = [threading.Thread(target=f, daemon=True) for f in (feed, count, errors)]
    for t in threads:
        t.start()
    try:
        code: int | None = proc.wait(timeout=args.replay_max_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)
        code = None
    for t in threads:
        t.join(timeout=30)
    for i in range(n):
        c = fuzzer.case(i)
        expected += c.valid and c.msg_id is not None
    text = b"".join(err).decode("utf-8", "replace")
    more = re.search(r"(\d+) more lines skipped", text)
    return {"exit_code": code, "timed_out": code is None, "traceback": "Traceback" in text,
            "verdicts": lines[0], "valid_messages_sent": expected,
            "skipped_lines": (20 + int(more.group(1))) if more else text.count(": skipped:"),
            "wall_s": round(time.perf_counter() - t0, 1), "stderr_tail": text[-1500:]}


# -- 2. SIGKILL under load ------------------------------------------------------------------

def probe_sigkill(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    data = tmp / "sigkill"
    token = make_key(data, "load", ["check", "admin"])
    srv = Serve(data)  # the default store: sqlite in the data dir
    out: dict[str, Any] = {"startup_s": [srv.start()]}
    admin = JsonConn(srv.port, token)
    out["decoys_put"] = admin.call("PUT", "/v1/lists/decoys", {"entries": [DECOY]})[0]
    reports: list[int] = []
    actions: dict[str, str] = {}
    tally: Counter[str] = Counter()
    stop = threading.Event()

    def client(kind: str, k: int) -> None:
        conn = JsonConn(srv.port, token, timeout=10)
        n = 0
        while not stop.is_set():
            n += 1
            if kind == "report":
                body: dict[str, Any] = {"reporter": f"@r{k}:x", "message_id": f"m{k}-{n}",
                                        "label": "spam", "sender": f"@s{n % 50}:x"}
                path = "/v1/reports"
            else:
                user = f"@bot{k}-{n}:x"
                body = {"id": f"L{k}-{n}", "sender": user, "recipients": [DECOY], "text": LURE}
                path = "/v1/check"
            try:
                status, got = conn.call("POST", path, body)
            except ConnectionRefusedError:
                tally["refused_while_down"] += 1
                time.sleep(0.05)
                continue
            except OSError as e:
                tally[f"no_answer_{type(e).__name__}"] += 1
                time.sleep(0.05)
                continue
            except Exception as e:  # http.client.RemoteDisconnected and friends
                tally[f"no_answer_{type(e).__name__}"] += 1
                time.sleep(0.05)
                continue
            tally[f"{kind}_{status}"] += 1
            if status == 200 and kind == "report":
                reports.append(int(got["id"]))
            elif status == 200:
                if got.get("account_action"):
                    actions[user] = got["account_action"]
                else:
                    tally["decoy_message_without_action"] += 1

    threads = [threading.Thread(target=client, args=(kind, k))
               for kind in ("report", "lock") for k in range(2)]
    for t in threads:
        t.start()
    rng = random.Random(args.seed)
    cycles: list[dict[str, Any]] = []
    try:
        for _ in range(args.kills):
            time.sleep(rng.uniform(1.5, 3.0))
            before = (len(reports), len(actions))
            srv.kill()
            cycles.append({"acked_reports": before[0], "acked_actions": before[1],
                           "restart_s": srv.start()})
        time.sleep(2.0)  # load on the last incarnation too
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    out.update({"kills": len(cycles), "cycles": cycles, "client_tally": dict(tally),
                "acked_reports": len(reports), "acked_actions": len(actions)})
    try:
        db = sqlite3.connect(f"file:{data / 'ledger.sqlite'}?mode=ro", uri=True, timeout=30)
        stored = {r[0] for r in db.execute("SELECT id FROM reports")}
        db.close()
        lost_reports = sorted(set(reports) - stored)
        lost_actions, not_standing, not_enforced = [], [], []
        for user, action in actions.items():
            status, acc = admin.call("GET", f"/v1/accounts/{quote(user, safe='@:')}")
            if status != 200 or action not in {h["action"] for h in acc["history"]}:
                lost_actions.append(user)
            elif acc["action"] != action:
                not_standing.append(user)
            status, v = admin.call("POST", "/v1/check", {"id": f"after-{user}", "sender": user,
                                                         "recipients": ["@bob:x"],
                                                         "text": "hello again"})
            if status != 200 or v["action"] != "block":
                not_enforced.append({"user": user, "status": status,
                                     "action": v.get("action") if isinstance(v, dict) else v})
        out.update({"lost_reports": len(lost_reports), "lost_report_ids": lost_reports[:20],
                    "lost_actions": len(lost_actions), "lost_action_users": lost_actions[:20],
                    "actions_not_standing": len(not_standing),
                    "locks_not_enforced": len(not_enforced), "not_enforced": not_enforced[:20]})
    finally:
        out["stopped"] = srv.stop()
    out["server_log_tracebacks"] = srv.logs_text().count("Traceback")
    return out


# -- 3. Redis outage --------------------------------------------------------------------------

def probe_redis(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    data, rdir = tmp / "redis", tmp / "redis-dir"
    rdir.mkdir()
    token = make_key(data, "ops", ["check", "admin"])
    redis = RedisProcess(rdir)
    redis.start()
    srv = Serve(data, store=redis.url, workers=2)
    out: dict[str, Any] = {"startup_s": srv.start(), "redis_port": redis.port}
    pins = Pinned(srv, token, 2)
    records: list[dict[str, Any]] = []
    locked: dict[str, tuple[int, float]] = {}  # user -> (worker, when)
    events: list[dict[str, Any]] = []
    health: list[tuple[float, int, str]] = []
    poll_stop = threading.Event()
    n_msg = [0]
    t0 = t_kill = t_back = float("nan")
    try:
        workers = pins.ensure()
        out["workers"] = workers
        if len(workers) < 2:
            raise RuntimeError(f"found {len(workers)} worker(s) behind port {srv.port}")
        pins.call(workers[0], "PUT", "/v1/lists/decoys", {"entries": [DECOY]})

        def lock(k: int, phase: str, wait_s: float) -> None:
            pid, t_end = workers[k % 2], time.monotonic() + wait_s
            while True:
                user = f"@{phase}{k}-{len(events)}:x"
                try:
                    st, v = pins.call(pid, "POST", "/v1/check", {
                        "id": f"lock-{user}", "sender": user, "recipients": [DECOY],
                        "text": LURE})
                except Exception as e:
                    st, v = 0, {"error": type(e).__name__}
                ok = st == 200 and v.get("account_action") == "lock"
                events.append({"phase": phase, "worker": pid, "user": user, "status": st,
                               "locked": ok, "t": round(time.monotonic() - t0, 2)})
                if ok:
                    locked[user] = (pid, time.monotonic())
                    return
                if time.monotonic() > t_end:
                    return
                time.sleep(0.5)

        def round_(phase: str) -> None:
            for pid in workers:
                for user, (lock_pid, when) in list(locked.items()):
                    n_msg[0] += 1
                    try:
                        st, v = pins.call(pid, "POST", "/v1/check", {
                            "id": f"msg-{n_msg[0]}", "sender": user, "recipients": ["@bob:x"],
                            "text": "hello again"})
                        action = v.get("action") if st == 200 else None
                    except Exception as e:
                        st, action = 0, type(e).__name__
                    records.append({"phase": phase, "worker": pid, "user": user, "status": st,
                                    "action": action, "lock_worker": lock_pid,
                                    "lock_age_s": round(time.monotonic() - when, 2),
                                    "t": round(time.monotonic() - t0, 2)})

        def poll() -> None:
            hp = Pinned(srv, token, 2)
            hp.ensure()
            while not poll_stop.is_set():
                for pid in workers:
                    try:
                        st, h = hp.call(pid, "GET", "/healthz")
                        health.append((time.monotonic(), pid, h.get("status", str(st))))
                    except Exception as e:
                        health.append((time.monotonic(), pid, type(e).__name__))
                poll_stop.wait(0.1)

        t0 = time.monotonic()
        for k in range(args.locks_before):  # the first waits for the decoy list everywhere
            lock(k, "before", 15.0)
        for _ in range(2):
            round_("before")
        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        time.sleep(0.5)
        t_kill = time.monotonic()
        redis.kill()
        k = 0
        while time.monotonic() < t_kill + args.outage_seconds:
            due = t_kill + (k + 1) * args.outage_seconds * 0.6 / (args.locks_during + 1)
            if k < args.locks_during and time.monotonic() >= due:
                lock(k, "during", 0.0)
                k += 1
            round_("during")
        redis = RedisProcess(rdir, port=redis.port)  # back, empty, on the same port
        redis.start()
        t_back = time.monotonic()
        while time.monotonic() < t_back + args.after_seconds:
            round_("after")
        poll_stop.set()
        poller.join(timeout=10)
    except Exception as e:
        out["failed"] = f"{type(e).__name__}: {e}"
    finally:
        poll_stop.set()
        out["stopped"] = srv.stop()
        redis.kill()
    phases: dict[str, Any] = {}
    for phase in ("before", "during", "after"):
        rs = [r for r in records if r["phase"] == phase]
        blocked = [r for r in rs if r["action"] == "block"]
        late = [r for r in rs if r["lock_age_s"] > FOLLOW_S]
        misses: dict[str, dict[str, Any]] = {}
        for r in rs:
            if r["action"] != "block":
                m = misses.setdefault(f"{r['user']} on {r['worker']}", {
                    "lock_worker": r["lock_worker"], "count": 0, "first_t": r["t"],
                    "first_lock_age_s": r["lock_age_s"]})
                m["count"] += 1
                m["last_t"], m["last_lock_age_s"] = r["t"], r["lock_age_s"]
                m["actions"] = sorted({*m.get("actions", []), str(r["action"])})
        phases[phase] = {
            "blocked_share_lock_older_than_follow": round(
                sum(r["action"] == "block" for r in late) / len(late), 4) if late else None,
            "misses_by_account": misses,
            "messages": len(rs), "blocked": len(blocked),
            "blocked_share": round(len(blocked) / len(rs), 4) if rs else None,
            "by_worker": {str(p): sum(r["worker"] == p for r in rs) for p in out.get(
                "workers", [])},
            "server_errors": sum(r["status"] >= 500 for r in rs),
            "not_blocked": [r for r in rs if r["action"] != "block"][:20]}
    degraded_s = {}
    recovered_s = {}
    for pid in out.get("workers", []):
        mine = [(t, s) for t, p, s in health if p == pid]
        deg = [t for t, s in mine if s == "degraded" and t >= t_kill]
        ok = [t for t, s in mine if s == "ok" and t >= t_back]
        degraded_s[str(pid)] = round(deg[0] - t_kill, 2) if deg else None
        recovered_s[str(pid)] = round(ok[0] - t_back, 2) if ok else None
    out["t_kill"], out["t_redis_back"] = round(t_kill - t0, 2), round(t_back - t0, 2)
    out.update({"locks": events, "locked_before": sum(e["locked"] and e["phase"] == "before"
                                                     for e in events),
                "locked_during": sum(e["locked"] and e["phase"] == "during" for e in events),
                "phases": phases, "degraded_after_kill_s": degraded_s,
                "ok_after_redis_back_s": recovered_s, "healthz_polls": len(health),
                "server_log_tracebacks": srv.logs_text().count("Traceback")})
    return out


# -- the report ----------------------------------------------------------------------------------

def _row(rows: list[tuple[str, str, str, bool | None]], probe: str, measured: Any, target: str,
         met: bool | None) -> None:
    rows.append((probe, str(measured), target, met))


def table(res: dict[str, Any], args: argparse.Namespace) -> str:
    rows: list[tuple[str, str, str, bool | None]] = []
    for name in ("fuzz", "replay", "sigkill", "redis"):
        if "failed" in res.get(name, {}):
            _row(rows, f"{name}: probe failed", res[name]["failed"][:200], "-", False)
    f = res.get("fuzz")
    if f and "status" in f:
        sent = f.get("events", 0)
        _row(rows, f"fuzz ({f['store']}): events sent to /v1/check and /v1/events", sent,
             f">= {args.events:,}", sent >= args.events)
        st = f["status"]
        _row(rows, "fuzz: answers /v1/check 2xx/4xx/5xx",
             "/".join(str(st["check"].get(k, 0)) for k in ("2xx", "4xx", "5xx")), "-", None)
        _row(rows, "fuzz: answers /v1/events (batches) 2xx/4xx/5xx",
             "/".join(str(st["events"].get(k, 0)) for k in ("2xx", "4xx", "5xx")), "-", None)
        tot = f.get("totals_with_warmup", {})
        for key, label in (("server_errors", "5xx answers"), ("connection_drops",
                                                               "connection drops"),
                           ("timeouts", "timeouts"), ("crashes", "server crashes"),
                           ("item_failures", "batch items failing inside the engine")):
            _row(rows, f"fuzz: {label} (incl. warm-up)", tot.get(key, 0), "0",
                 tot.get(key, 0) == 0)
        refused = tot.get("valid_refused_check", 0) + tot.get("valid_refused_events", 0)
        _row(rows, "fuzz: valid events refused (check + events)", refused, "0", refused == 0)
        lk = f.get("leaks_by_kind", {})
        for where in ("read", "ignored"):
            n = sum(v for k, v in lk.items() if k.endswith(f":{where}_field"))
            _row(rows, f"fuzz: lines docs say to refuse that got a verdict (defect in a field "
                 f"/v1/check {'reads' if where == 'read' else 'ignores'})", n, "0", n == 0)
        n = sum(v for k, v in lk.items() if k.startswith("events:"))
        _row(rows, "fuzz: ... of them from /v1/events", n, "0", n == 0)
        whole = f.get("whole_batch_refused", 0)
        _row(rows, "fuzz: JSON Lines batches refused as a whole (valid lines in them)",
             f"{whole} ({f.get('valid_lost_in_whole_batch', 0)})", "0 (bench)", whole == 0)
        dis = sum(f.get("check_events_disagreements", {}).values())
        _row(rows, "fuzz: messages /v1/check and /v1/events judge differently", dis,
             "0 (bench)", dis == 0)
        g = f.get("rss_growth_mb")
        _row(rows, "fuzz: server RSS growth after warm-up, MB",
             f"{g} ({f.get('rss_after_warmup_mb')} -> {f.get('rss_end_mb')})",
             "<= 50 (bench)", g is not None and g <= 50)
        lat = f["latency_valid_check"]
        _row(rows, "latency: /v1/check valid messages during fuzz, p50 ms", lat["p50_ms"],
             "<= 10 (bench)", lat["p50_ms"] is not None and lat["p50_ms"] <= 10)
        _row(rows, "latency: /v1/check valid messages during fuzz, p99 ms", lat["p99_ms"],
             "<= 100 (bench)", lat["p99_ms"] is not None and lat["p99_ms"] <= 100)
    r = res.get("replay")
    if r and "exit_code" in r:
        _row(rows, "replay -: exit code / traceback", f"{r['exit_code']} / "
             f"{'yes' if r['traceback'] else 'no'}", "0 / no",
             r["exit_code"] == 0 and not r["traceback"])
    k = res.get("sigkill")
    if k and "kills" in k:
        _row(rows, "sigkill: kills under load", k.get("kills"), str(args.kills),
             k.get("kills") == args.kills)
        five = sum(v for t, v in k.get("client_tally", {}).items() if re.search(r"_5\d\d$", t))
        _row(rows, "sigkill: 5xx answers", five, "0", five == 0)
        for key, label in (("lost_reports", "acknowledged reports lost"),
                           ("lost_actions", "acknowledged locks lost"),
                           ("locks_not_enforced", "restored locks not enforced")):
            base = k.get("acked_reports" if key == "lost_reports" else "acked_actions")
            _row(rows, f"sigkill: {label}", f"{k.get(key, '-')} of {base}", "0",
                 k.get(key) == 0)
    d = res.get("redis")
    if d and "phases" in d:
        for phase in ("during", "after"):
            p = d["phases"][phase]
            share = p["blocked_share"]
            _row(rows, f"redis: locked-account messages blocked {phase} the outage",
                 f"{share * 100:.2f}% of {p['messages']}" if share is not None else "-",
                 "100%", share == 1.0)
            late = p["blocked_share_lock_older_than_follow"]
            _row(rows, f"redis: ... {phase}, locks older than {FOLLOW_S} s only",
                 f"{late * 100:.2f}%" if late is not None else "-", "100%", late == 1.0)
        five = sum(p["server_errors"] for p in d["phases"].values()) + sum(
            e["status"] >= 500 for e in d.get("locks", []))
        _row(rows, "redis: 5xx answers", five, "0", five == 0)
        deg = d.get("degraded_after_kill_s", {})
        worst = max((v for v in deg.values() if v is not None), default=None)
        _row(rows, "redis: /healthz degraded after the kill (slowest worker), s",
             worst if None not in deg.values() else f"{deg}", "<= 2",
             worst is not None and None not in deg.values() and worst <= 2)
    lines = ["| probe | measured | target | met? |", "|---|---|---|---|"]
    lines += [f"| {p} | {m} | {t} | {'-' if ok is None else ('yes' if ok else 'NO')} |"
              for p, m, t, ok in rows]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--warmup", type=int, default=10_000)
    ap.add_argument("--store", choices=("memory", "sqlite"), default="memory",
                    help="the fuzz server's store")
    ap.add_argument("--kills", type=int, default=5)
    ap.add_argument("--outage-seconds", type=float, default=20.0)
    ap.add_argument("--after-seconds", type=float, default=10.0)
    ap.add_argument("--locks-before", type=int, default=10)
    ap.add_argument("--locks-during", type=int, default=10)
    ap.add_argument("--probes", default="fuzz,sigkill,redis")
    ap.add_argument("--seed", type=int, default=20)
    ap.add_argument("--check-conns", type=int, default=4)
    ap.add_argument("--batch-lines", type=int, default=100)
    ap.add_argument("--timeout", type=float, default=60.0, help="per request, seconds")
    ap.add_argument("--fuzz-max-s", type=float, default=1800.0)
    ap.add_argument("--replay-max-s", type=float, default=1200.0)
    ap.add_argument("--quick", action="store_true",
                    help="smoke sizes: 5,000 events, 1,000 warm-up, 2 kills, 5 s outage")
    ap.add_argument("--show-case", type=int, metavar="INDEX",
                    help="print the fuzzed line INDEX of --seed and exit")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()
    if args.show_case is not None:
        c = Fuzzer(args.seed).case(args.show_case)
        print(json.dumps({"index": c.index, "kinds": c.kinds, "fields": c.fields,
                          "must_refuse": c.must_refuse, "msg_id": c.msg_id}))
        print(repr(c.line[:2000]) + (" ..." if len(c.line) > 2000 else ""))
        return
    if args.quick:
        args.events, args.warmup, args.kills = 5_000, 1_000, 2
        args.outage_seconds, args.after_seconds = 5.0, 3.0
        args.locks_before = args.locks_during = 4
    probes = [p.strip() for p in args.probes.split(",") if p.strip()]
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parent).stdout.strip()
    res: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": commit, "python": platform.python_version(), "cpu_count": os.cpu_count(),
        "loadavg_before": Path("/proc/loadavg").read_text().split()[:3],
        "settings": {k: v for k, v in vars(args).items() if k not in ("out", "show_case")}}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sg-bench-faults-") as d:
        tmp = Path(d)
        for name in probes:
            print(f"# {name} ...", file=sys.stderr, flush=True)
            t = time.perf_counter()
            try:
                if name == "fuzz":
                    res["fuzz"] = probe_fuzz(args, tmp)
                    print("# replay ...", file=sys.stderr, flush=True)
                    res["replay"] = probe_replay(args, res["fuzz"].get("events", 0))
                elif name == "sigkill":
                    res["sigkill"] = probe_sigkill(args, tmp)
                elif name == "redis":
                    res["redis"] = probe_redis(args, tmp)
                else:
                    ap.error(f"unknown probe {name!r}")
            except Exception as e:
                res[name] = {"failed": f"{type(e).__name__}: {e}"}
            print(f"#   {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
    res["total_s"] = round(time.perf_counter() - started, 1)
    res["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3]
    res["markdown"] = table(res, args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(res["markdown"])
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
