"""Helpers of ``bench_faults.py``: the seeded event fuzzer, private server processes, clients.

The fuzzer is pure (no I/O) so ``tests/test_bench_faults.py`` can check it alone:
:meth:`Fuzzer.case` maps (seed, index) to one JSON Lines line, the same on every
run and in any order, so a failing line is reproduced from its index
(``python bench/bench_faults.py --show-case INDEX``). Each line is a valid event
(message, login, contact, account, report, truth) mutated by one kind of
:data:`KINDS`, sometimes stacked with a second field-level one.

The process helpers start ``spimguard serve`` and ``redis-server`` on free
loopback ports only, and stop only the processes they started, by pid.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import chat_texts  # bench/ (not a package)

__all__ = ["KINDS", "FuzzCase", "Fuzzer", "JsonConn", "Pinned", "RawConn", "RedisProcess",
           "Serve", "free_port", "make_key", "pct", "worker_of"]

CLI = "from spimguard.interfaces.cli import main; main()"
HOST = "127.0.0.1"  # every probe talks to loopback only

# -- the fuzzer -------------------------------------------------------------------------

#: Every kind of line the fuzzer makes ("valid": an unmutated event).
KINDS: tuple[str, ...] = (
    "valid", "wrong_type", "missing_field", "lone_surrogate", "deep_nesting", "big_int",
    "inf_number", "nan", "huge_text", "u2028", "invalid_utf8", "truncated", "array",
    "unknown_type", "empty_line")
_WEIGHTS = {k: 5.0 for k in KINDS} | {"valid": 30.0, "huge_text": 1.0}
#: Field-level mutations that may be stacked on top of the primary one.
_STACKABLE = ("wrong_type", "missing_field", "lone_surrogate", "big_int", "inf_number", "nan",
              "u2028", "unknown_type")
BASE_TS = 1_700_000_000.0
SURROGATES = ("\ud800", "\udbff", "\udc00", "\udfff", "\ud83d")
BAD_UTF8 = (b"\xff", b"\xfe", b"\xc3\x28", b"\xa0\xa1", b"\xe2\x28\xa1", b"\xf0\x28\x8c\xbc",
            b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88\x80\x80\x80", b"\x80")
_WRONG: tuple[Any, ...] = (0, -1, 7, 1.5, True, False, None, "", "x", [], ["a", 1], {},
                           {"a": "b"}, [[]])
#: Fields of free text, where a raw U+2028 changes nothing (in "op" or "label" it would)
FREE_TEXT = frozenset({"id", "sender", "recipients", "text", "room", "formatted_body", "user",
                       "contact", "reporter", "message_id", "device"})
SPAM = ("WIN a FREE iPhone now!!! claim your prize at http://free-prize-{n}.xyz/claim",
        "your account is suspended, verify at http://paypa1-secure-{n}.top/login",
        "I made $3,000 this week with this crypto bot http://crypto-d0ubler-{n}.click/")
_PH = "@@T{}@@"


@dataclass(frozen=True, slots=True)
class FuzzCase:
    index: int
    kinds: tuple[str, ...]
    line: bytes
    #: the id of the message event, when the line still is a ``message`` object with its id
    msg_id: str | None
    #: by docs/http.md, every interface must refuse this line (no verdict)
    must_refuse: bool
    #: fields (or "<line>") the mutations touched
    fields: tuple[str, ...] = ()
    #: those holding what makes the line one to refuse
    refuse_fields: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        """Only harmless mutations: every interface must accept it."""
        return set(self.kinds) <= {"valid", "u2028"}


@dataclass
class _Draft:
    obj: Any
    tokens: dict[bytes, bytes] = field(default_factory=dict)
    wrap: tuple[bytes, bytes] = (b"", b"")
    fields: list[str] = field(default_factory=list)
    must_refuse: bool = False
    #: a stacked (second) mutation is being applied: field-level edits only
    stacking: bool = False
    #: where the defects are that make the line one to refuse
    refuse_fields: list[str] = field(default_factory=list)

    def refuse(self, *names: str) -> None:
        self.must_refuse = True
        self.refuse_fields += names

    def token(self, raw: bytes, inner: bool = False) -> str:
        ph = _PH.format(len(self.tokens))
        self.tokens[ph.encode() if inner else f'"{ph}"'.encode()] = raw
        return ph

    def text_of(self, value: Any) -> str | None:
        """A string field's value as the server decodes it (placeholders filled in), or None
        (not a string, or not UTF-8 once filled in)."""
        if not isinstance(value, str):
            return None
        raw = value.encode("utf-8", "surrogatepass")
        if b'"' + raw + b'"' in self.tokens:  # a raw value (a number), not a string
            return None
        for k, v in self.tokens.items():
            raw = raw.replace(k, v)
        try:
            return raw.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            return None

    def serialize(self) -> bytes:
        out = json.dumps(self.obj, ensure_ascii=True).encode("ascii")
        for k, v in self.tokens.items():
            out = out.replace(k, v)
        return self.wrap[0] + out + self.wrap[1]


def _string_paths(obj: dict[str, Any]) -> list[tuple[str, str | int, Any]]:
    """(name, key, container) of every string value of the event (and list items), but
    those holding a placeholder: an edit there would lose the placeholder's raw bytes."""
    paths: list[tuple[str, str | int, Any]] = []
    for k, v in obj.items():
        if isinstance(v, str) and "@@T" not in v:
            paths.append((k, k, obj))
        elif isinstance(v, list):
            paths += [(f"{k}[{i}]", i, v) for i, x in enumerate(v)
                      if isinstance(x, str) and "@@T" not in x]
    return paths


class Fuzzer:
    """Seeded, random-access fuzzed event lines: ``case(i)`` depends on (seed, prefix, i)."""

    def __init__(self, seed: int, prefix: str = "fz", n_users: int = 400) -> None:
        self.seed, self.prefix = seed, prefix
        self.users = [f"@u{k}:fuzz" for k in range(n_users)]
        self._kinds = list(_WEIGHTS)
        self._cum: list[float] = []
        total = 0.0
        for k in self._kinds:
            total += _WEIGHTS[k]
            self._cum.append(total)

    # valid events
    def event(self, rng: random.Random, i: int, message: bool = False) -> dict[str, Any]:
        ts = BASE_TS + i * 0.05
        user = rng.choice(self.users)
        r = 0.0 if message else rng.random()
        if r < 0.78:
            spam = rng.random() < 0.08
            text = (rng.choice(SPAM).format(n=rng.randrange(10**6)) if spam
                    else rng.choice(chat_texts.HAM + chat_texts.HAM_LINKED))
            ev: dict[str, Any] = {"type": "message", "ts": ts, "id": f"{self.prefix}{i}",
                                  "sender": user, "text": text,
                                  "recipients": rng.sample(self.users, rng.randint(1, 3))}
            if rng.random() < 0.3:
                ev["room"] = f"!room{rng.randrange(50)}:fuzz"
            if rng.random() < 0.2:
                ev["formatted_body"] = f"<p>{text}</p>"
            if rng.random() < 0.05:
                ev["encrypted"] = False
            if rng.random() < 0.05:
                ev["label"] = rng.choice(("spam", "ham"))
            return ev
        if r < 0.86:
            return {"type": "login", "ts": ts, "user": user,
                    "ip": f"198.51.100.{rng.randrange(1, 255)}", "device": f"dev{rng.randrange(9)}",
                    "ok": rng.random() < 0.9}
        if r < 0.93:
            return {"type": "contact", "ts": ts, "user": user, "contact": rng.choice(self.users),
                    "op": rng.choice(("add", "add", "remove"))}
        if r < 0.97:
            return {"type": "account", "ts": ts, "user": user, "created_ts": ts - 86_400 * 30}
        if r < 0.99:
            return {"type": "report", "ts": ts, "reporter": user,
                    "message_id": f"{self.prefix}{rng.randrange(max(1, i))}",
                    "label": rng.choice(("spam", "ham")), "moderator": False}
        return {"type": "truth", "ts": ts, "user": user, "compromised": rng.random() < 0.5}

    def case(self, i: int) -> FuzzCase:
        rng = random.Random(f"{self.seed}:{self.prefix}:{i}")
        kind = rng.choices(self._kinds, cum_weights=self._cum)[0]
        kinds = [kind]
        if kind == "empty_line":
            line = rng.choice((b"", b" ", b"\t", b"  \t ", b"\r"))
            return FuzzCase(i, ("empty_line",), line, None, False, ("<line>",))
        d = _Draft(self.event(rng, i, message=kind == "huge_text"))
        if kind not in ("valid", "array", "truncated") and rng.random() < 0.1:
            extra = rng.choice([k for k in _STACKABLE if k != kind])
            kinds.append(extra)
            d.stacking = True
            getattr(self, "_" + extra)(rng, d)
            d.stacking = False
        if kind != "valid":
            getattr(self, "_" + kind)(rng, d)
        if kind == "truncated":
            raw = d.serialize()
            line = raw[:rng.randint(1, len(raw) - 1)]
        else:
            line = d.serialize()
        obj = d.obj
        is_msg = (isinstance(obj, dict) and obj.get("type") == "message" and d.wrap == (b"", b"")
                  and kind != "truncated")
        return FuzzCase(i, tuple(kinds), line, d.text_of(obj.get("id")) if is_msg else None,
                        d.must_refuse, tuple(d.fields), tuple(d.refuse_fields))

    # the mutations (each edits the draft in place; a field one of them touched is left
    # alone by the next, so a line keeps every defect it is said to have)
    def _field(self, rng: random.Random, d: _Draft, extra: float = 0.15) -> str:
        names: list[str] = [] if not isinstance(d.obj, dict) else sorted(
            str(k) for k in d.obj if k not in d.fields)
        if not names or rng.random() < extra:
            return f"x_extra{len(d.fields)}"
        return rng.choice(names)

    def _put(self, d: _Draft, name: str, value: Any, force: bool = False) -> str:
        """Set a field (another one if a mutation touched it already); the name used."""
        if isinstance(d.obj, dict):
            if name in d.fields and not force:
                name = f"x_extra{len(d.fields)}"
            d.obj[name] = value
            d.fields.append(name)
        return name

    def _wrong_type(self, rng: random.Random, d: _Draft) -> None:
        if rng.random() < 0.1 and not d.stacking and isinstance(d.obj, dict):
            d.obj = rng.choice((42, "message", None, True, 1.5))  # a scalar, not an object
            d.fields.append("<line>")
            d.refuse("<line>")
            return
        name = self._field(rng, d, extra=0.0)
        old = d.obj.get(name) if isinstance(d.obj, dict) else None
        self._put(d, name, rng.choice([v for v in _WRONG if type(v) is not type(old)]))

    def _missing_field(self, rng: random.Random, d: _Draft) -> None:
        if not isinstance(d.obj, dict):
            return
        r = 1.0 if d.stacking else rng.random()
        if r < 0.08 and not d.fields:
            d.fields += sorted(d.obj)
            d.obj.clear()
        elif r < 0.16 and not d.fields:
            d.fields += sorted(k for k in d.obj if k != "type")
            d.obj = {"type": d.obj.get("type")}
        else:
            names = sorted(k for k in d.obj if k not in d.fields)
            if names:
                name = rng.choice(names)
                del d.obj[name]
                d.fields.append(name)

    def _lone_surrogate(self, rng: random.Random, d: _Draft) -> None:
        if not isinstance(d.obj, dict):
            return
        paths = _string_paths(d.obj)
        if not paths:
            self._put(d, "x_extra", "")
            paths = _string_paths(d.obj)
        chosen = paths if rng.random() < 0.4 else [rng.choice(paths)]
        for name, key, box in chosen:
            s, bad = box[key], rng.choice(SURROGATES)
            at = rng.choice((0, len(s), rng.randint(0, len(s))))
            box[key] = bad if rng.random() < 0.1 else s[:at] + bad + s[at:]
            d.fields.append(name)
            d.refuse(name)
        if rng.random() < 0.1:  # and in a field name
            d.obj["x" + rng.choice(SURROGATES)] = "y"
            d.fields.append("<key>")
            d.refuse("<key>")

    def _deep_nesting(self, rng: random.Random, d: _Draft) -> None:
        depth = rng.choice((1000, 1000, rng.randint(1000, 3000), rng.randint(17, 200)))
        where = rng.random()
        if where < 0.3:  # the whole line
            d.wrap = (b"[" * depth, b"]" * depth) if rng.random() < 0.5 else \
                (b'{"a":' * depth, b"}" * depth)
            d.fields.append("<line>")
            d.refuse("<line>")
        else:
            nest = ("[" * depth + "]" * depth) if rng.random() < 0.6 else \
                ('{"a":' * depth + "1" + "}" * depth)
            d.refuse(self._put(d, self._field(rng, d, extra=0.3), d.token(nest.encode())))

    def _big_int(self, rng: random.Random, d: _Draft) -> None:
        digits = rng.choice((4301, rng.randint(4301, 8000), rng.randint(65, 4300)))
        num = str(rng.randint(1, 9)) + "".join(rng.choices("0123456789", k=digits - 1))
        if rng.random() < 0.2:
            num = "-" + num
        name = "ts" if rng.random() < 0.5 else self._field(rng, d)
        d.refuse(self._put(d, name, d.token(num.encode())))

    def _inf_number(self, rng: random.Random, d: _Draft) -> None:
        tok = rng.choice((b"1e999", b"1e999", b"-1e999", b"1E400", b"2.5e308"))
        d.refuse(self._put(d, "ts" if rng.random() < 0.5 else self._field(rng, d),
                           d.token(tok)))

    def _nan(self, rng: random.Random, d: _Draft) -> None:
        tok = rng.choice((b"NaN", b"NaN", b"Infinity", b"-Infinity"))
        d.refuse(self._put(d, "ts" if rng.random() < 0.5 else self._field(rng, d),
                           d.token(tok)))

    def _huge_text(self, rng: random.Random, d: _Draft) -> None:
        size = rng.randint(100_001, 130_000)
        base = rng.choice(chat_texts.HAM) + " "
        text = (base * (size // len(base) + 1))[:size]
        if rng.random() < 0.8:
            d.refuse(self._put(d, "text", text, force=True))
        else:  # a huge HTML body: refused by /v1/check's schema; the parser checks only text
            self._put(d, "formatted_body", text, force=True)

    def _u2028(self, rng: random.Random, d: _Draft) -> None:
        if not isinstance(d.obj, dict):
            return
        paths = [p for p in _string_paths(d.obj) if p[0].split("[")[0] in FREE_TEXT]
        if not paths:
            self._put(d, "x_extra", "")
            paths = _string_paths(d.obj)
        for name, key, box in rng.sample(paths, min(len(paths), rng.randint(1, 2))):
            ph = d.token(rng.choice(("\u2028", "\u2029", "\u2028\u2029")).encode(), inner=True)
            box[key] = rng.choice((f"{box[key]}{ph}", f"{ph}{box[key]}"))
            d.fields.append(name)

    def _invalid_utf8(self, rng: random.Random, d: _Draft) -> None:
        if not isinstance(d.obj, dict):
            return
        paths = _string_paths(d.obj)
        if not paths:
            self._put(d, "x_extra", "")
            paths = _string_paths(d.obj)
        name, key, box = rng.choice(paths)
        ph = d.token(rng.choice(BAD_UTF8), inner=True)
        box[key] = f"{box[key]}{ph}"
        d.fields.append(name)
        d.refuse(name)

    def _truncated(self, rng: random.Random, d: _Draft) -> None:
        d.fields.append("<line>")
        d.refuse("<line>")

    def _array(self, rng: random.Random, d: _Draft) -> None:
        ev = d.obj
        d.obj = rng.choice(([ev], [ev, dict(ev)], [], [[ev]], [1, "a", None],
                            list(ev.values()) if isinstance(ev, dict) else [ev]))
        d.fields.append("<line>")
        d.refuse("<line>")

    def _unknown_type(self, rng: random.Random, d: _Draft) -> None:
        self._put(d, "type", rng.choice(("msg", "MESSAGE", "Message", "message ", "delete",
                                         "typing", "", "x" * 100, "messages", "report2")))


# -- small helpers ----------------------------------------------------------------------

def pct(values: list[float], q: float) -> float | None:
    """The q-th percentile (nearest rank) of ``values``, rounded to 0.01."""
    if not values:
        return None
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(q / 100 * len(s)) - 1))
    return round(s[k], 2)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def make_key(data_dir: Path, name: str, scopes: list[str]) -> str:
    """A key through ``spimguard keys create`` (as an operator would); returns its token."""
    data_dir.mkdir(parents=True, exist_ok=True)
    args = [sys.executable, "-c", CLI, "keys", "create", name, "--data-dir", str(data_dir)]
    for s in scopes:
        args += ["--scope", s]
    out = subprocess.run(args, capture_output=True, text=True, check=True, timeout=120)
    return str(json.loads(out.stdout)["token"])


def _proc_tree(root: int) -> list[int]:
    parent: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
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


def cpu_s(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(f[11]) + int(f[12])
    return total / os.sysconf("SC_CLK_TCK")


def wait_idle(pids: list[int], limit_s: float = 30.0) -> float:
    """Wait until the processes use under 10 % of a core (at most ``limit_s``)."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit_s:
        c0 = cpu_s(pids)
        time.sleep(0.5)
        if cpu_s(pids) - c0 < 0.05:
            break
    return round(time.perf_counter() - t0, 1)


def worker_of(client_port: int, server_port: int, pids: list[int]) -> int | None:
    """The pid holding the server side of the loopback connection from ``client_port``."""
    inode = None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            p = row.split()
            if int(p[1].rsplit(":", 1)[1], 16) == server_port and \
                    int(p[2].rsplit(":", 1)[1], 16) == client_port and p[9] != "0":
                inode = p[9]
    if inode is None:
        return None
    want = f"socket:[{inode}]"
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == want:
                    return pid
            except OSError:
                continue
    return None


# -- processes --------------------------------------------------------------------------

class Serve:
    """``spimguard serve`` on a loopback port; restartable on the same port and data dir."""

    def __init__(self, data_dir: Path, store: str = "sqlite", workers: int = 1,
                 port: int | None = None) -> None:
        self.data_dir, self.store, self.workers = data_dir, store, workers
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.log_path = data_dir / "server-0.log"

    def start(self, timeout: float = 120.0) -> float:
        """Start and wait until ``/healthz`` answers (and every worker is up); seconds taken."""
        self.starts += 1
        self.log_path = self.data_dir / f"server-{self.starts}.log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", CLI, "serve", "--host", HOST, "--port", str(self.port),
                 "--workers", str(self.workers), "--data-dir", str(self.data_dir),
                 "--store", self.store],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited ({self.proc.returncode}): {self.log_tail()}")
            try:
                c = http.client.HTTPConnection(HOST, self.port, timeout=2)
                c.request("GET", "/healthz")
                ok = c.getresponse().status == 200
                c.close()
                if ok and len(self.pids()) >= 1 + (self.workers > 1) * self.workers:
                    return round(time.perf_counter() - t0, 2)
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server not ready after {timeout:.0f} s: {self.log_tail()}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def pids(self) -> list[int]:
        return [] if self.proc is None else _proc_tree(self.proc.pid)

    def rss_mb(self) -> float:
        kb = 0
        for pid in self.pids():
            try:
                m = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(),
                              re.M)
            except OSError:
                continue
            kb += int(m.group(1)) if m else 0
        return round(kb / 1024, 1)

    def log_tail(self, n: int = 15) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    def logs_text(self) -> str:
        return "\n".join(p.read_text(errors="replace")
                         for p in sorted(self.data_dir.glob("server-*.log")))

    def kill(self) -> None:
        """SIGKILL the server and its workers (by pid: only what this object started)."""
        if self.proc is None:
            return
        for pid in reversed(self.pids()):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(timeout=30)

    def stop(self) -> str:
        if self.proc is None or self.proc.poll() is not None:
            return "not running"
        pids = self.pids()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
            how = "sigterm"
        except subprocess.TimeoutExpired:
            how = "killed"
        for pid in pids:  # anything left of what we started
            if Path(f"/proc/{pid}").exists() and "State:\tZ" not in _status(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if self.proc.poll() is None:
            self.proc.wait(timeout=10)
        return how


def _status(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return ""


class RedisProcess:
    """A private ``redis-server`` (no persistence) on a loopback port."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            raise RuntimeError("redis-server is not on PATH")
        self.exe, self.workdir = exe, workdir
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        self.proc = subprocess.Popen(
            [self.exe, "--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly",
             "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}")
            try:
                with socket.create_connection((HOST, self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError("redis-server did not answer PING")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait(timeout=10)


# -- clients ----------------------------------------------------------------------------

class JsonConn:
    """One keep-alive HTTP/1.1 connection (stdlib), JSON in and out; reopened when idle."""

    IDLE_S = 4.0  # uvicorn closes connections idle for 5 s

    def __init__(self, port: int, token: str | None = None, timeout: float = 10.0) -> None:
        self.port, self.timeout = port, timeout
        self.headers = {"Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.conn: http.client.HTTPConnection | None = None
        self.used = 0.0

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """(status, decoded JSON); raises OSError/HTTPException when no answer came."""
        if self.conn is not None and time.monotonic() - self.used > self.IDLE_S:
            self.close()
        if self.conn is None:
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
        data = None if body is None else json.dumps(body).encode()
        try:
            self.conn.request(method, path, body=data, headers=self.headers)
            resp = self.conn.getresponse()
            raw = resp.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        self.used = time.monotonic()
        if resp.will_close:
            self.close()
        try:
            return resp.status, json.loads(raw) if raw else None
        except ValueError:
            return resp.status, raw.decode("utf-8", "replace")

    def client_port(self) -> int | None:
        sock = None if self.conn is None else self.conn.sock
        return None if sock is None else int(sock.getsockname()[1])

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None


class Pinned:
    """One keep-alive connection per worker of ``srv``, the worker known from /proc."""

    def __init__(self, srv: Serve, token: str, workers: int) -> None:
        self.srv, self.token, self.want = srv, token, workers
        self.conns: dict[int, JsonConn] = {}

    def ensure(self) -> list[int]:
        for _ in range(300):
            if len(self.conns) >= self.want:
                break
            c = JsonConn(self.srv.port, self.token, timeout=5)
            try:
                c.call("GET", "/healthz")
            except Exception:
                c.close()
                time.sleep(0.05)
                continue
            port = c.client_port()
            pid = None if port is None else worker_of(port, self.srv.port, self.srv.pids())
            if pid is not None and pid not in self.conns:
                self.conns[pid] = c
            else:
                c.close()
        return sorted(self.conns)

    def call(self, pid: int, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        for attempt in range(2):
            c = self.conns.get(pid)
            if c is None or c.conn is None or time.monotonic() - c.used > JsonConn.IDLE_S:
                if c is not None:
                    c.close()
                self.conns.pop(pid, None)
                self.ensure()
                c = self.conns.get(pid)
                if c is None:
                    raise RuntimeError(f"worker {pid} is not reachable")
            try:
                got = c.call(method, path, body)
                if c.conn is None:
                    self.conns.pop(pid, None)  # the server closed it: pin again next time
                return got
            except Exception:
                self.conns.pop(pid, None)
                if attempt:
                    raise
        raise AssertionError("unreachable")


class RawConn:
    """A minimal asyncio HTTP/1.1 keep-alive client for raw bodies (the fuzz sends bytes
    that are not JSON, and httpx would cost more CPU than the server spends)."""

    IDLE_S = 4.0

    def __init__(self, port: int, token: str) -> None:
        self.port, self.token = port, token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.used = 0.0

    async def post(self, path: str, body: bytes, ctype: str = "application/json"
                   ) -> tuple[int, bytes]:
        loop = asyncio.get_running_loop()
        if self.writer is not None and loop.time() - self.used > self.IDLE_S:
            self.close()
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port,
                                                                     limit=1 << 20)
        assert self.reader is not None
        try:
            self.writer.write(
                f"POST {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
                f"Authorization: Bearer {self.token}\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            await self.writer.drain()
            head = await self.reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            low = head.lower()
            m = re.search(rb"\r\ncontent-length:\s*(\d+)", low)
            if m is not None:
                payload = await self.reader.readexactly(int(m.group(1)))
            elif b"transfer-encoding: chunked" in low:
                payload = b""
                while True:
                    size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                    payload += await self.reader.readexactly(size + 2)
                    if size == 0:
                        break
            else:
                raise ValueError("response without a length")
        except BaseException:
            self.close()
            raise
        self.used = loop.time()
        if b"\r\nconnection: close" in low:
            self.close()
        return status, payload

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None
