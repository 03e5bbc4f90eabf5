"""Private server processes for the tests: redis-server, and `spimguard serve` (uvicorn).

Tests never touch the Redis a machine may already run on 6379: each session
starts its own server on a free port (no persistence, loopback only), and
tests that kill Redis start yet another one. Each test also gets a unique key
prefix, so tests sharing the session server cannot see each other's keys.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from spimguard.state.redis import RedisStore

START_TIMEOUT = 10.0


@dataclass
class RedisServer:
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        """A raw client that fails fast (no retries) for checks behind the store's back."""
        return redis.Redis(port=self.port, socket_timeout=1.0, socket_connect_timeout=1.0,
                           retry=Retry(NoBackoff(), 0))

    def kill(self) -> None:
        """SIGKILL: the server vanishes as in a crash, without closing anything cleanly."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=5)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _start(workdir: str, port: int | None = None) -> RedisServer:
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not on PATH: install Redis to run the Redis store tests "
                    "(CI has it)")
    port = port or _free_port()
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", workdir],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = RedisServer(port, proc)
    client = server.client()
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"redis-server on port {port} exited with {proc.returncode}")
            try:
                if client.ping():
                    return server
            except redis.RedisError:
                pass
            if time.monotonic() > deadline:
                server.kill()
                raise RuntimeError(f"redis-server on port {port} did not answer PING in "
                                   f"{START_TIMEOUT:.0f} s")
            time.sleep(0.02)
    finally:
        client.close()


@pytest.fixture(scope="session")
def redis_workdir() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="spimguard-redis-") as d:
        yield d


@pytest.fixture(scope="session")
def redis_server(redis_workdir: str) -> Iterator[RedisServer]:
    """One private server for the whole session."""
    server = _start(redis_workdir)
    yield server
    server.kill()


@pytest.fixture(scope="session")
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url


@pytest.fixture
def redis_server_factory(redis_workdir: str) -> Iterator[Callable[..., RedisServer]]:
    """Start extra servers (``port=`` to restart one where another died); all killed after."""
    started: list[RedisServer] = []

    def start(port: int | None = None) -> RedisServer:
        server = _start(redis_workdir, port)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()


@pytest.fixture
def redis_prefix() -> str:
    return f"test:{uuid.uuid4().hex}:"


@pytest.fixture
def redis_store(redis_url: str, redis_prefix: str) -> Iterator[RedisStore]:
    store = RedisStore(redis_url, prefix=redis_prefix)
    yield store
    store.close()


# -- spimguard serve ----------------------------------------------------------------


@pytest.fixture
def unused_port() -> int:
    """A loopback port nothing listens on (a service that is down)."""
    return _free_port()


#: ``start(data_dir, port=None) -> (process, port)``: a service on a free loopback port
ServiceStarter = Callable[..., tuple["subprocess.Popen[bytes]", int]]


@pytest.fixture
def service_process() -> Iterator[ServiceStarter]:
    """Start real services (uvicorn, memory store, keys required) on ``data_dir``; each is
    ready (``/healthz`` answers) when returned, and killed at teardown if still running.
    Its stderr goes to a log file in ``data_dir``, quoted if it exits during start-up."""
    started: list[subprocess.Popen[bytes]] = []

    def start(data_dir: Path, port: int | None = None
              ) -> tuple[subprocess.Popen[bytes], int]:
        port = port or _free_port()
        data_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "SPIMGUARD_DATA_DIR": str(data_dir), "SPIMGUARD_STORE": "memory",
               "SPIMGUARD_AUTH": "1"}
        log = data_dir / f"server-{time.monotonic_ns()}.log"
        with open(log, "wb") as err:  # the child keeps its own copy of the descriptor
            proc = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "spimguard.interfaces.http.app:app_from_env",
                 "--factory", "--host", "127.0.0.1", "--port", str(port),
                 "--log-level", "warning"],
                env=env, stdout=subprocess.DEVNULL, stderr=err)
        started.append(proc)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    return proc, port
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start in 60 s")

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
