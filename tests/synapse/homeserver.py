"""A real Synapse homeserver in a subprocess, and real matrix-nio clients to drive it.

The end-to-end tests of Synapse modules use this: the homeserver runs the modules
exactly as in production (loaded from ``homeserver.yaml``), and the clients talk to it
over HTTP. Nothing of Synapse is imported into the test process: Synapse only runs in
the subprocess (its import emits DeprecationWarnings that ``filterwarnings = error``
would turn into failures). matrix-nio is imported lazily by the async helpers, so this
module imports without it and the fixtures can skip cleanly when it is missing.

Layout of one homeserver's directory::

    homeserver.yaml       the config (JSON, which is YAML)
    log.config            Python logging config: everything at INFO into homeserver.log
    homeserver.log        Synapse's log (written unbuffered, readable while it runs)
    console.log           the subprocess's stdout and stderr (tracebacks at startup)
    homeserver.db         SQLite database (a copy of the template's migrated one)
    localhost.signing.key
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import importlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nio import AsyncClient, RoomSendError, RoomSendResponse

SERVER_NAME = "localhost"
START_TIMEOUT = 60.0  # seconds for the homeserver to answer /versions
STOP_TIMEOUT = 10.0  # seconds after SIGTERM before SIGKILL
HTTP_TIMEOUT = 10.0  # seconds for any one request made by this module
ADMIN_USER = "harness-admin"

# Limits high enough that no test meets them. Defaults (e.g. rc_message 0.2/s, burst
# 10; rc_login 0.003/s, burst 5; rc_invites.per_user burst 5) break tests that send a
# dozen messages or log one user in from several devices.
_UNLIMITED = {"per_second": 1000, "burst_count": 1000}
RATE_LIMITS: dict[str, Any] = {
    "rc_message": _UNLIMITED,
    "rc_registration": _UNLIMITED,
    "rc_registration_token_validity": _UNLIMITED,
    "rc_login": {"address": _UNLIMITED, "account": _UNLIMITED, "failed_attempts": _UNLIMITED},
    "rc_admin_redaction": _UNLIMITED,
    "rc_joins": {"local": _UNLIMITED, "remote": _UNLIMITED},
    "rc_joins_per_room": _UNLIMITED,
    "rc_3pid_validation": _UNLIMITED,
    "rc_invites": {"per_room": _UNLIMITED, "per_user": _UNLIMITED, "per_issuer": _UNLIMITED},
    "rc_third_party_invite": _UNLIMITED,
    "rc_media_create": _UNLIMITED,
    "rc_presence": {"per_user": _UNLIMITED},
    "rc_delayed_event_mgmt": _UNLIMITED,
    "rc_room_creation": _UNLIMITED,
    "rc_reports": _UNLIMITED,
    "rc_user_directory": _UNLIMITED,
    "rc_profile": _UNLIMITED,
}


HomeserverFactory = Callable[..., "Homeserver"]
"""The ``homeserver_factory`` fixture: ``(modules=(), env=None, extra_config=None)``."""


class HarnessError(RuntimeError):
    """The homeserver or a client did not do what the harness needed."""


# --------------------------------------------------------------------------- template


@dataclass(frozen=True)
class SynapseTemplate:
    """What ``--generate-config`` made once, plus a database already migrated.

    Each homeserver copies the signing key and the database from here, so it starts
    without generating keys or creating the schema (a copy starts ~0.3 s faster than
    an empty database: about 1.5 s instead of 1.8 s).
    """

    dir: Path
    signing_key_path: Path
    registration_shared_secret: str
    macaroon_secret_key: str
    form_secret: str
    database_path: Path | None


def make_template(directory: Path, *, migrate: bool = True) -> SynapseTemplate:
    """Run ``--generate-config`` into ``directory`` and (if ``migrate``) prime a database.

    Priming starts a homeserver once on the template and stops it cleanly; its SQLite
    file then holds the full schema and is copied for each homeserver.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config_path = directory / "homeserver.yaml"
    cmd = [
        sys.executable, "-m", "synapse.app.homeserver",
        "--server-name", SERVER_NAME,
        "--config-path", str(config_path),
        "--data-directory", str(directory),
        "--generate-config",
        "--report-stats=no",
    ]
    proc = subprocess.run(cmd, cwd=directory, capture_output=True, text=True, timeout=120,
                          env=_subprocess_env(None))
    if proc.returncode != 0:
        raise HarnessError(f"synapse --generate-config failed ({proc.returncode}):\n"
                           f"{proc.stdout}\n{proc.stderr}")
    generated = _read_generated_config(config_path)
    template = SynapseTemplate(
        dir=directory,
        signing_key_path=Path(generated["signing_key_path"]),
        registration_shared_secret=generated["registration_shared_secret"],
        macaroon_secret_key=generated["macaroon_secret_key"],
        form_secret=generated["form_secret"],
        database_path=None,
    )
    if not migrate:
        return template
    hs = start_homeserver(directory / "prime", [], template=template)
    hs.stop()
    if hs.returncode != 0:
        raise HarnessError(f"priming homeserver exited with {hs.returncode}:\n{hs.log_tail()}")
    db = directory / "homeserver.db"
    _copy_sqlite(hs.dir / "homeserver.db", db)
    shutil.rmtree(hs.dir, ignore_errors=True)
    return SynapseTemplate(**{**template.__dict__, "database_path": db})


def _read_generated_config(path: Path) -> dict[str, Any]:
    """The keys we reuse from the generated YAML (PyYAML comes with Synapse)."""
    import yaml

    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    wanted = ("signing_key_path", "registration_shared_secret", "macaroon_secret_key",
              "form_secret")
    missing = [key for key in wanted if not isinstance(config.get(key), str)]
    if missing:
        raise HarnessError(f"{path} lacks {missing}")
    return {key: config[key] for key in wanted}


# --------------------------------------------------------------------------- homeserver


@dataclass
class Homeserver:
    """One running Synapse. Every method is synchronous and bounded by a timeout."""

    url: str
    port: int
    dir: Path
    config_path: Path
    log_path: Path
    console_path: Path
    process: subprocess.Popen[bytes]
    registration_shared_secret: str
    server_name: str = SERVER_NAME
    _admin: tuple[str, str] | None = field(default=None, repr=False)
    _console: Any = field(default=None, repr=False)

    # ----- lifecycle

    @property
    def returncode(self) -> int | None:
        return self.process.poll()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after STOP_TIMEOUT. Idempotent."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT)
        if self._console is not None:
            self._console.close()
            self._console = None

    def log_text(self) -> str:
        """Synapse's log so far (plus the console output: startup tracebacks land there)."""
        parts = []
        for path in (self.log_path, self.console_path):
            if path.exists():
                parts.append(path.read_text(encoding="utf-8", errors="replace"))
        return "\n".join(p for p in parts if p)

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def __enter__(self) -> Homeserver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----- users

    def user_id(self, localpart: str) -> str:
        return f"@{localpart}:{self.server_name}"

    def register_user(self, name: str, admin: bool = False,
                      password: str | None = None) -> tuple[str, str]:
        """Create a user with the shared-secret admin API; return (user_id, password)."""
        user_id, password, _token = self._register(name, admin, password)
        return user_id, password

    def _register(self, name: str, admin: bool,
                  password: str | None) -> tuple[str, str, str]:
        password = password or f"pw-{name}-{os.urandom(4).hex()}"
        path = "/_synapse/admin/v1/register"
        nonce = self.request("GET", path)["nonce"]
        mac = hmac.new(self.registration_shared_secret.encode(), digestmod=hashlib.sha1)
        for part in (nonce, name, password):
            mac.update(part.encode())
            mac.update(b"\x00")
        mac.update(b"admin" if admin else b"notadmin")
        body = {"nonce": nonce, "username": name, "password": password,
                "admin": admin, "mac": mac.hexdigest()}
        result = self.request("POST", path, body)
        return result["user_id"], password, result["access_token"]

    def admin_token(self) -> str:
        """Access token of a server admin (registered on first use)."""
        if self._admin is None:
            user_id, _password, token = self._register(ADMIN_USER, True, None)
            self._admin = (user_id, token)
        return self._admin[1]

    @property
    def admin_user_id(self) -> str:
        self.admin_token()
        assert self._admin is not None
        return self._admin[0]

    # ----- HTTP

    def request(self, method: str, path: str, body: Mapping[str, Any] | None = None,
                token: str | None = None, timeout: float = HTTP_TIMEOUT) -> Any:
        """One JSON request; raises HarnessError with errcode and body on a non-2xx."""
        status, payload = self.request_status(method, path, body, token, timeout)
        if not 200 <= status < 300:
            raise HarnessError(f"{method} {path} -> HTTP {status}: {payload}")
        return payload

    def request_status(self, method: str, path: str, body: Mapping[str, Any] | None = None,
                       token: str | None = None,
                       timeout: float = HTTP_TIMEOUT) -> tuple[int, Any]:
        """One JSON request; returns (HTTP status, decoded body) whatever the status."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, _decode(resp.read())
        except urllib.error.HTTPError as err:
            with err:
                return err.code, _decode(err.read())

    def admin(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """A request to the admin API (``path`` below ``/_synapse/admin``) as the admin."""
        return self.request(method, "/_synapse/admin" + path, body, token=self.admin_token())

    # ----- admin API conveniences

    def user_info(self, user_id: str) -> dict[str, Any]:
        """GET /_synapse/admin/v2/users/<id>: has ``suspended``, ``shadow_banned``,
        ``deactivated``, ``locked``, ``admin`` ..."""
        info: dict[str, Any] = self.admin("GET", f"/v2/users/{_q(user_id)}")
        return info

    def is_suspended(self, user_id: str) -> bool:
        return bool(self.user_info(user_id).get("suspended"))

    def is_shadow_banned(self, user_id: str) -> bool:
        return bool(self.user_info(user_id).get("shadow_banned"))

    def connections(self, user_id: str) -> list[dict[str, Any]]:
        """The user's recorded (ip, user_agent, last_seen) per session, all devices,
        from the whois admin API. Only authenticated requests are recorded, not the
        login itself; Synapse batches them in memory but whois includes the batch."""
        whois = self.admin("GET", f"/v1/whois/{_q(user_id)}")
        return [conn for device in whois.get("devices", {}).values()
                for session in device.get("sessions", [])
                for conn in session.get("connections", [])]

    def suspend(self, user_id: str, suspend: bool = True) -> None:
        self.admin("PUT", f"/v1/suspend/{_q(user_id)}", {"suspend": suspend})

    def shadow_ban(self, user_id: str, ban: bool = True) -> None:
        self.admin("POST" if ban else "DELETE", f"/v1/users/{_q(user_id)}/shadow_ban")

    def redact_user_events(self, user_id: str, rooms: Sequence[str] = (),
                           reason: str | None = None,
                           timeout: float = HTTP_TIMEOUT) -> dict[str, str]:
        """Redact the user's messages and joins (in ``rooms``, or all of them) as an admin.

        Synapse runs this as a background task; this waits for it to finish and returns
        ``failed_redactions`` (event id -> error), empty when all went through.
        Note that the redactions are sent on the user's behalf (``use_admin`` false),
        and that each one passes through the spam checkers like any event.
        """
        body: dict[str, Any] = {"rooms": list(rooms)}
        if reason is not None:
            body["reason"] = reason
        redact_id = self.admin("POST", f"/v1/user/{_q(user_id)}/redact", body)["redact_id"]
        deadline = time.monotonic() + timeout
        while True:
            status = self.admin("GET", f"/v1/user/redact_status/{_q(redact_id)}")
            if status["status"] == "complete":
                failed: dict[str, str] = status.get("failed_redactions") or {}
                return failed
            if status["status"] == "failed" or time.monotonic() > deadline:
                raise HarnessError(f"redaction task {redact_id}: {status}")
            time.sleep(0.05)


def start_homeserver(workdir: Path, modules: Iterable[Mapping[str, Any]] = (),
                     env: Mapping[str, str] | None = None,
                     extra_config: Mapping[str, Any] | None = None, *,
                     template: SynapseTemplate | None = None,
                     timeout: float = START_TIMEOUT) -> Homeserver:
    """Start Synapse with ``modules`` (``[{"module": "pkg.Class", "config": {...}}]``).

    ``workdir`` becomes the homeserver's directory (created; must not hold another
    homeserver). ``env`` adds to the subprocess's environment; a ``PYTHONPATH`` in it is
    put before the inherited one. ``extra_config`` is merged into homeserver.yaml
    (dicts recursively, anything else replaced). Without ``template`` one is generated
    into ``workdir/template`` first (slower; the fixtures share one per session).
    Returns once ``/_matrix/client/versions`` answers 200; raises HarnessError with the
    log's tail if the process dies or does not answer within ``timeout``.
    """
    workdir = Path(workdir)
    if template is None:
        template = make_template(workdir / "template")
    last_error: HarnessError | None = None
    for _attempt in range(3):  # a free port can be taken between probing and binding
        try:
            return _start_once(workdir, list(modules), env, extra_config, template, timeout)
        except _PortTaken as err:
            last_error = err
    assert last_error is not None
    raise last_error


class _PortTaken(HarnessError):
    pass


def _start_once(workdir: Path, modules: list[Mapping[str, Any]],
                env: Mapping[str, str] | None, extra_config: Mapping[str, Any] | None,
                template: SynapseTemplate, timeout: float) -> Homeserver:
    workdir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    config_path = workdir / "homeserver.yaml"
    log_path = workdir / "homeserver.log"
    console_path = workdir / "console.log"
    for stale in (log_path, console_path, workdir / "homeserver.pid"):
        stale.unlink(missing_ok=True)
    signing_key = workdir / f"{SERVER_NAME}.signing.key"
    shutil.copyfile(template.signing_key_path, signing_key)
    database = workdir / "homeserver.db"
    if template.database_path is not None and not database.exists():
        _copy_sqlite(template.database_path, database)

    log_config = workdir / "log.config"
    log_config.write_text(json.dumps(_log_config(log_path), indent=2), encoding="utf-8")
    config = _homeserver_config(workdir, port, template, signing_key, database, log_config,
                                modules)
    if extra_config:
        config = _merge(config, extra_config)
    config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")

    console = open(console_path, "wb")  # noqa: SIM115 - closed by Homeserver.stop
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "synapse.app.homeserver", "-c", str(config_path)],
            cwd=workdir, stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT,
            env=_subprocess_env(env),
        )
    except BaseException:
        console.close()
        raise
    hs = Homeserver(url=f"http://127.0.0.1:{port}", port=port, dir=workdir,
                    config_path=config_path, log_path=log_path, console_path=console_path,
                    process=process,
                    registration_shared_secret=template.registration_shared_secret,
                    _console=console)
    try:
        _wait_ready(hs, timeout)
    except BaseException:
        hs.stop()
        raise
    return hs


def _homeserver_config(workdir: Path, port: int, template: SynapseTemplate,
                       signing_key: Path, database: Path, log_config: Path,
                       modules: list[Mapping[str, Any]]) -> dict[str, Any]:
    return {
        "server_name": SERVER_NAME,
        # where this server's own client API is reached (modules call the admin API there)
        "public_baseurl": f"http://127.0.0.1:{port}/",
        "pid_file": str(workdir / "homeserver.pid"),
        "listeners": [{
            "port": port,
            "bind_addresses": ["127.0.0.1"],
            "type": "http",
            "tls": False,
            "x_forwarded": False,
            "resources": [{"names": ["client"], "compress": False}],
        }],
        "database": {"name": "sqlite3", "args": {"database": str(database)}},
        "log_config": str(log_config),
        "media_store_path": str(workdir / "media_store"),
        "signing_key_path": str(signing_key),
        "registration_shared_secret": template.registration_shared_secret,
        "macaroon_secret_key": template.macaroon_secret_key,
        "form_secret": template.form_secret,
        "report_stats": False,
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "enable_registration": True,
        "enable_registration_without_verification": True,
        # each password hash costs 2**rounds; the default 12 is ~0.25 s per login
        "bcrypt_rounds": 4,
        "presence": {"enabled": False},
        "enable_metrics": False,
        "url_preview_enabled": False,
        "modules": [dict(m) for m in modules],
        **RATE_LIMITS,
    }


def _log_config(log_path: Path) -> dict[str, Any]:
    # The generated config buffers INFO lines for up to 5 s; a plain FileHandler makes
    # log_text() current. Synapse adds the filter that fills %(request)s itself.
    return {
        "version": 1,
        "formatters": {"precise": {"format": "%(asctime)s - %(name)s - %(lineno)d - "
                                             "%(levelname)s - %(request)s - %(message)s"}},
        "handlers": {"file": {"class": "logging.FileHandler", "formatter": "precise",
                              "filename": str(log_path), "encoding": "utf8"}},
        "loggers": {"synapse.storage.SQL": {"level": "INFO"}},
        "root": {"level": "INFO", "handlers": ["file"]},
        "disable_existing_loggers": False,
    }


def _merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _subprocess_env(extra: Mapping[str, str] | None) -> dict[str, str]:
    env = dict(os.environ)
    for key, value in (extra or {}).items():
        if key == "PYTHONPATH" and env.get("PYTHONPATH"):
            env[key] = value + os.pathsep + env["PYTHONPATH"]
        else:
            env[key] = value
    return env


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy even if a WAL file is around (Synapse runs SQLite in WAL mode)."""
    with contextlib.closing(sqlite3.connect(source)) as src, \
            contextlib.closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_ready(hs: Homeserver, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        code = hs.process.poll()
        if code is not None:
            text = hs.log_text()
            kind = _PortTaken if "Address already in use" in text else HarnessError
            raise kind(f"synapse exited with {code} during startup (dir {hs.dir}):\n"
                       f"{hs.log_tail()}")
        try:
            with urllib.request.urlopen(hs.url + "/_matrix/client/versions",
                                        timeout=1.0) as resp:
                if resp.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        if time.monotonic() > deadline:
            raise HarnessError(f"synapse did not answer within {timeout:.0f} s "
                               f"(dir {hs.dir}):\n{hs.log_tail()}")
        time.sleep(0.05)


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        return {"raw": raw.decode("utf-8", "replace")}


def _q(part: str) -> str:
    return urllib.parse.quote(part, safe="")


# --------------------------------------------------------------------------- clients


def _nio() -> ModuleType:
    """matrix-nio, imported on first use (narrowly tolerating deprecation noise)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        module = importlib.import_module("nio")
    return module


async def login(hs: Homeserver, user_id: str, password: str, device_name: str = "phone",
                user_agent: str | None = None, timeout: float = HTTP_TIMEOUT) -> AsyncClient:
    """A logged-in client on a new device. Close it with ``await client.close()``.

    Each call is a new login, hence a new device; ``user_agent`` sets the User-Agent
    header of all its requests (Synapse's ``check_login_for_spam`` sees it, with the
    IP 127.0.0.1). Without one, aiohttp's default ("Python/3.x aiohttp/x") is sent.
    The client never retries: a 429 or a timeout comes back as the error it is.
    """
    nio = _nio()
    config = nio.AsyncClientConfig(
        max_limit_exceeded=0, max_timeouts=0, request_timeout=timeout,
        store_sync_tokens=False, encryption_enabled=False,
        custom_headers=None if user_agent is None else {"User-Agent": user_agent})
    client = nio.AsyncClient(hs.url, user_id, config=config)
    try:
        resp = await client.login(password, device_name=device_name)
    except BaseException:
        await client.close()
        raise
    if not isinstance(resp, nio.LoginResponse):
        await client.close()
        raise HarnessError(f"login of {user_id} failed: {resp}")
    return client


@contextlib.asynccontextmanager
async def logged_in(hs: Homeserver, user_id: str, password: str,
                    device_name: str = "phone",
                    user_agent: str | None = None) -> AsyncIterator[AsyncClient]:
    """``async with logged_in(...) as client``: login() that always closes the client."""
    client = await login(hs, user_id, password, device_name, user_agent)
    try:
        yield client
    finally:
        await client.close()


@contextlib.asynccontextmanager
async def direct_chat(hs: Homeserver, a_name: str = "alice", b_name: str = "bob"
                      ) -> AsyncIterator[tuple[AsyncClient, AsyncClient, str]]:
    """Two new users, logged in, in a direct chat: ``(a, b, room_id)``."""
    a_id, a_pw = hs.register_user(a_name)
    b_id, b_pw = hs.register_user(b_name)
    async with logged_in(hs, a_id, a_pw) as a, logged_in(hs, b_id, b_pw) as b:
        yield a, b, await open_dm(a, b)


async def open_dm(a: AsyncClient, b: AsyncClient) -> str:
    """``a`` creates a direct, unencrypted room inviting ``b``; ``b`` joins. Returns its id."""
    nio = _nio()
    created = await a.room_create(is_direct=True, invite=[b.user_id],
                                  preset=nio.RoomPreset.trusted_private_chat)
    if not isinstance(created, nio.RoomCreateResponse):
        raise HarnessError(f"{a.user_id} could not create a DM with {b.user_id}: {created}")
    room_id: str = created.room_id
    joined = await b.join(room_id)
    if not isinstance(joined, nio.JoinResponse):
        raise HarnessError(f"{b.user_id} could not join {room_id}: {joined}")
    members = await a.joined_members(room_id)
    if not isinstance(members, nio.JoinedMembersResponse) or \
            {m.user_id for m in members.members} != {a.user_id, b.user_id}:
        raise HarnessError(f"{room_id} does not have both users joined: {members}")
    return room_id


def text_content(body: str, formatted_body: str | None = None) -> dict[str, Any]:
    content: dict[str, Any] = {"msgtype": "m.text", "body": body}
    if formatted_body is not None:
        content["format"] = "org.matrix.custom.html"
        content["formatted_body"] = formatted_body
    return content


async def send_text(client: AsyncClient, room_id: str, body: str,
                    formatted_body: str | None = None) -> RoomSendResponse | RoomSendError:
    """Send an m.text message. Returns nio's response, not raising on a rejection:
    a ``RoomSendError`` has the errcode in ``status_code`` (e.g. ``"M_FORBIDDEN"``);
    see send_error() for the HTTP status and the whole error body."""
    resp: RoomSendResponse | RoomSendError = await client.room_send(
        room_id, "m.room.message", text_content(body, formatted_body),
        ignore_unverified_devices=True)
    return resp


async def send_error(resp: Any) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body) of a failed nio response, e.g. (403, {"errcode":
    "M_FORBIDDEN", "error": ..., "org.example.reason": ...})."""
    transport = getattr(resp, "transport_response", None)
    if transport is None:
        raise HarnessError(f"{resp!r} carries no HTTP response")
    try:
        body = await transport.json(content_type=None)
    except (ValueError, TypeError):
        body = {}
    return int(transport.status), body if isinstance(body, dict) else {}


async def redact(client: AsyncClient, room_id: str, event_id: str,
                 reason: str | None = None) -> None:
    """Redact one event as this client (its own event, or with the power to)."""
    nio = _nio()
    resp = await client.room_redact(room_id, event_id, reason=reason)
    if not isinstance(resp, nio.RoomRedactResponse):
        raise HarnessError(f"redaction of {event_id} failed: {resp}")


async def received_events(client: AsyncClient, room_id: str,
                          event_type: str = "m.room.message") -> list[dict[str, Any]]:
    """Raw events of ``event_type`` this client can see in the room, oldest first,
    without redacted ones (their content is emptied and they carry
    ``unsigned.redacted_because``). Reads /messages backwards from "now", so it sees
    everything persisted by the time it is called; no waiting for a sync."""
    nio = _nio()
    since = await client.sync(timeout=0, full_state=False, sync_filter={
        "room": {"rooms": [room_id], "timeline": {"limit": 1},
                 "state": {"lazy_load_members": True}},
        "presence": {"types": []}, "account_data": {"types": []},
    })
    if not isinstance(since, nio.SyncResponse):
        raise HarnessError(f"sync failed for {client.user_id}: {since}")
    events: list[dict[str, Any]] = []
    start = since.next_batch
    for _page in range(100):
        page = await client.room_messages(room_id, start=start,
                                          direction=nio.MessageDirection.back, limit=100)
        if not isinstance(page, nio.RoomMessagesResponse):
            raise HarnessError(f"/messages failed for {client.user_id} in {room_id}: {page}")
        for event in page.chunk:
            source: dict[str, Any] = event.source
            if source.get("type") != event_type:
                continue
            if source.get("unsigned", {}).get("redacted_because") or not source.get("content"):
                continue
            events.append(source)
        if not page.chunk or not page.end or page.end == start:
            break
        start = page.end
    events.reverse()
    return events


async def received_bodies(client: AsyncClient, room_id: str) -> list[str]:
    """Bodies of the (unredacted) messages this client can see in the room, oldest first."""
    return [e["content"]["body"] for e in await received_events(client, room_id)
            if isinstance(e["content"].get("body"), str)]
