"""The HTTP API (FastAPI): routes, authentication and error shapes.

Every route answers with JSON; bad input is a 4xx with a readable ``detail``
(422 for a malformed event, 413 for a body over the limit), never a 500. A
report or an unlock is answered only after the ledger has it on disk.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from spimguard.build import warm_up
from spimguard.core.boundary import InputError, check, json_lines, loads
from spimguard.core.errors import EventError, UnknownEventType
from spimguard.core.events import ReportEvent, parse_event
from spimguard.core.verdicts import Verdict
from spimguard.interfaces.http.fastpath import CheckEndpoint, Reject
from spimguard.interfaces.http.limits import BodyLimit
from spimguard.interfaces.http.schemas import (
    AccountOut,
    ListIn,
    ListName,
    MessageIn,
    ReportIn,
    ReportOut,
    VerdictOut,
)
from spimguard.interfaces.http.service import Service, ServiceConfig
from spimguard.learning.model import ModelError
from spimguard.state.base import StoreError
from spimguard.state.ledger import ApiKey

__all__ = ["create_app"]

log = logging.getLogger("spimguard.http")

_bearer = HTTPBearer(auto_error=False)
_CAMPAIGN_STATUSES = ("candidate", "confirmed", "taken_down", "cleared")


def _verdict(v: Verdict) -> dict[str, Any]:
    return v.to_dict()


def create_app(config: ServiceConfig | None = None, service: Service | None = None) -> FastAPI:
    """The ASGI app; ``service`` lets tests and embedders share one engine."""
    cfg = config or ServiceConfig()
    svc = service or Service(cfg)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        svc.flush()  # not close: a test transport may run the lifespan once per request

    app = SpimguardApp(title="spimguard", version="1", lifespan=lifespan,
                  description="Checks chat messages for spam, phishing and compromised "
                              "accounts before delivery.")
    app.state.service = svc

    def authorize(header: str | None, needed: str) -> ApiKey | None:
        """The caller's key; ``HTTPException`` 401/403 (no thread hop: tokens are cached)."""
        if not cfg.auth:
            return None
        scheme, _, token = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HTTPException(401, "missing bearer token (spimguard keys create)",
                                headers={"WWW-Authenticate": "Bearer"})
        key = keys.get(token.strip())
        if key is None:
            raise HTTPException(401, "unknown or revoked API key",
                                headers={"WWW-Authenticate": "Bearer"})
        if needed not in key.scopes and "admin" not in key.scopes:
            raise HTTPException(403, f"this key lacks the {needed!r} scope")
        return key

    def scope(needed: str) -> Any:
        async def dep(creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
                      ) -> ApiKey | None:
            header = None if creds is None else f"{creds.scheme} {creds.credentials}"
            return authorize(header, needed)
        return Depends(dep)

    check_scope, admin_scope = scope("check"), scope("admin")
    keys = _KeyCache(svc)

    @app.exception_handler(StoreError)
    async def store_down(_: Request, exc: StoreError) -> JSONResponse:
        return JSONResponse({"detail": f"storage unavailable, retry: {exc}"}, status_code=503)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _invalid(exc.errors())

    @app.exception_handler(EventError)
    async def bad_event(_: Request, exc: EventError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.post("/v1/check", response_model=VerdictOut, dependencies=[check_scope],
              summary="Check one message before delivery",
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": MessageIn.model_json_schema()}}}})
    async def check(request: Request) -> JSONResponse:
        # SpimguardApp.__call__ answers POST /v1/check before FastAPI; this route documents
        # it, and answers the same way when the app is mounted under a prefix.
        status, body, headers = await endpoint.respond(request.headers.get("authorization"),
                                                       await request.body())
        return JSONResponse(body, status_code=status, headers=headers)

    def authorize_check(header: str | None) -> None:
        try:
            authorize(header, "check")
        except HTTPException as e:
            raise Reject(e.status_code, {"detail": e.detail}, e.headers) from None

    endpoint = CheckEndpoint(max_bytes=cfg.max_body_bytes, authorize=authorize_check,
                             check=svc.check_json, invalid=_invalid_detail, clock=time.time)

    @app.post("/v1/events", dependencies=[check_scope],
              summary="A batch of events (JSON array or JSON Lines); verdicts of its messages",
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                  "application/x-ndjson": {"schema": {"type": "string"}}}}})
    async def events(request: Request) -> dict[str, Any]:
        raw = await request.body()
        items = _batch(raw, cfg.max_batch)
        verdicts: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        skipped = 0
        for n, item in items:
            if isinstance(item, InputError):
                errors.append({"line": n, "error": str(item)})
                continue
            try:
                if isinstance(item, dict) and item.get("type") == "message" \
                        and item.get("ts") is None:  # as /v1/check: no ts (or null) is now
                    item["ts"] = time.time()
                event = parse_event(item)
            except UnknownEventType:
                skipped += 1
                continue
            except EventError as e:
                errors.append({"line": n, "error": str(e)})
                continue
            try:
                v = svc.observe(event)
            except Exception:  # one item's failure is that item's error, never a 500
                log.exception("could not judge batch item %d", n)
                errors.append({"line": n, "error": "internal error while judging this item"})
                continue
            if v is not None:
                verdicts.append(_verdict(v))
        # account actions that the batch's other events took (recipients' feedback)
        return {"verdicts": verdicts, "errors": errors, "skipped": skipped,
                "notices": svc.drain_notices()}

    @app.post("/v1/reports", response_model=ReportOut, summary="A user's or moderator's report")
    def report(body: ReportIn, key: ApiKey | None = check_scope) -> dict[str, Any]:
        if body.moderator and cfg.auth and (key is None or "admin" not in key.scopes):
            raise HTTPException(403, "moderator reports need the 'admin' scope")
        sender = body.sender or svc.sender_of(body.message_id)
        ev = ReportEvent(body.ts if body.ts is not None else time.time(), body.reporter,
                         body.message_id, body.label, sender=sender, text=body.text,
                         reason=body.reason)
        rid, cid = svc.report(ev, moderator=body.moderator)
        return {"id": rid, "campaign": cid}

    @app.get("/v1/accounts/{user}", response_model=AccountOut, dependencies=[admin_scope])
    def account(user: str) -> dict[str, Any]:
        return svc.account(user)

    @app.post("/v1/accounts/{user}/unlock", dependencies=[admin_scope])
    def unlock(user: str) -> dict[str, Any]:
        svc.unlock(user, time.time(), "unlocked through the API")
        return {"user": user, "action": None}

    @app.get("/v1/verdicts", dependencies=[admin_scope],
             summary="The verdict log (newest first): by message id, by sender, or all")
    def verdicts(message_id: Annotated[str | None, Query(max_length=512)] = None,
                 sender: Annotated[str | None, Query(max_length=512)] = None,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
        return {"verdicts": svc.verdicts.query(message_id, sender, limit)}

    @app.get("/v1/campaigns", dependencies=[admin_scope])
    def campaigns(status: Annotated[str | None, Query(
            pattern="^(candidate|confirmed|taken_down|cleared)$")] = None) -> dict[str, Any]:
        found = svc.campaigns(status)
        return {"campaigns": [_campaign(c) for c in found]}

    @app.get("/v1/campaigns/{cid}", dependencies=[admin_scope])
    def campaign(cid: str) -> dict[str, Any]:
        found = svc.campaign(cid)
        if found is None:
            raise HTTPException(404, f"no campaign {cid!r}")
        camp, delivered = found
        return {**_campaign(camp), "delivered_ids": delivered}

    @app.post("/v1/campaigns/{cid}/takedown", dependencies=[admin_scope])
    def takedown(cid: str) -> dict[str, Any]:
        ids = svc.takedown(cid)
        if ids is None:
            raise HTTPException(404, f"no campaign {cid!r}")
        return {"campaign": cid, "status": "taken_down", "retract_ids": ids}

    @app.get("/v1/lists/{name}", dependencies=[admin_scope],
             summary="An operator list: block, allow (hosts, IPs, URLs) or decoys (user ids)")
    def get_list(name: ListName) -> dict[str, Any]:
        return {"name": name, "entries": svc.read_list(name)}

    @app.put("/v1/lists/{name}", dependencies=[admin_scope],
             summary="Replace an operator list; takes effect at once in this worker, "
                     "within 5 s in the others")
    def put_list(name: ListName, body: ListIn) -> dict[str, Any]:
        svc.write_list(name, body.entries)
        return {"name": name, "entries": len(body.entries)}

    @app.get("/v1/model", dependencies=[admin_scope], summary="Content model versions")
    def model() -> dict[str, Any]:
        training = svc._training is not None and svc._training.is_alive()  # noqa: SLF001
        return {"active": svc.ledger.active_model(), "versions": svc.ledger.model_versions(),
                "examples": svc.ledger.counts()["examples"], "training": training,
                "last_error": svc.last_training_error}

    @app.post("/v1/model/retrain", status_code=202, dependencies=[admin_scope],
              summary="Retrain the content model with every moderator label, in the background")
    def model_retrain() -> dict[str, Any]:
        started = svc.start_retrain("requested through the API")
        return {"started": started, "queued": not started}

    @app.post("/v1/model/rollback", dependencies=[admin_scope],
              summary="Back to the previous content model version (or the shipped one)")
    def model_rollback() -> dict[str, Any]:
        try:
            return {"active": svc.rollback()}
        except ModelError as e:
            raise HTTPException(409, f"cannot load that version: {e}") from None

    @app.get("/healthz", summary="Liveness and store health")
    def healthz() -> dict[str, Any]:
        ok = svc.store.ping()
        degraded = bool(getattr(svc.store, "degraded", False))
        log = svc.verdicts.status()
        why = [w for w in ("store unreachable" if not ok or degraded else "",
                           f"verdict log: {log['why']}" if not log["ok"] else "") if w]
        return {"status": "degraded" if why else "ok", "store": cfg.store,
                "verdict_log": log, "why": why}

    @app.get("/metrics", summary="Prometheus metrics")
    def metrics() -> Response:
        return Response(generate_latest(svc.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    # the limit wraps the whole ASGI stack, so it runs before any body is read
    app.build_middleware_stack = _wrap(app.build_middleware_stack,  # type: ignore[method-assign]
                                       cfg.max_body_bytes)
    app.check_endpoint = endpoint
    return app


class _KeyCache:
    """Bearer tokens looked up in the ledger at most once every ``TTL`` seconds each.

    A check must not cost a SQLite query and a hash; a revoked key stops
    working within ``TTL`` seconds in every worker.
    """

    TTL = 2.0
    MAX = 10_000

    def __init__(self, svc: Service) -> None:
        self._svc = svc
        self._seen: dict[str, tuple[float, ApiKey | None]] = {}

    def get(self, token: str) -> ApiKey | None:
        now = time.monotonic()
        hit = self._seen.get(token)
        if hit is not None and now - hit[0] < self.TTL:
            return hit[1]
        key = self._svc.ledger.authenticate(token)
        if len(self._seen) >= self.MAX:
            self._seen.clear()  # a flood of made-up tokens must not grow memory
        self._seen[token] = (now, key)
        return key


class SpimguardApp(FastAPI):
    """FastAPI, with checks answered before any of its layers (see ``fastpath``)."""

    check_endpoint: CheckEndpoint | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        endpoint = self.check_endpoint
        if endpoint is not None and CheckEndpoint.wants(scope):
            await endpoint(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def _wrap(build: Any, limit: int) -> Any:
    def wrapped() -> Any:
        return BodyLimit(build(), limit)
    return wrapped


def _invalid(errors: Any) -> JSONResponse:
    return JSONResponse(_invalid_detail(errors), status_code=422)


def _invalid_detail(errors: Any) -> dict[str, Any]:
    """A 422's body without the offending input: it may be huge, or not JSON (1e999)."""
    detail = [{"loc": ["body", *e.get("loc", ())] if e.get("loc", ("body",))[:1] != ("body",)
               else list(e.get("loc", ())), "msg": str(e.get("msg", "")),
               "type": str(e.get("type", ""))} for e in list(errors)[:20]]
    return {"detail": detail}


def _campaign(c: Any) -> dict[str, Any]:
    return {"id": c.id, "status": c.status.value, "reason": c.reason,
            "decided_at": c.decided_at, "first_seen": c.first_seen, "last_seen": c.last_seen,
            "messages": c.messages, "senders": c.senders, "recipients": c.recipients,
            "reports": c.reports, "samples": list(c.samples), "domains": list(c.domains),
            "delivered": c.delivered}


def _batch(raw: bytes, limit: int) -> list[tuple[int, Any]]:
    """(line or index, decoded item or its :class:`InputError`) of a JSON array or JSON Lines
    body.

    Decoding goes through the shared input boundary (``spimguard.core.boundary``):
    a bad item is reported with its position and the rest are judged."""
    items: list[tuple[int, Any]] = []
    data: Any = None
    if raw.lstrip()[:1] == b"[":
        try:  # a JSON array only if the whole body is one; otherwise JSON Lines whose
            data = loads(raw, checked=False)  # first line happens to start with "["
        except InputError:
            data = None
    if isinstance(data, list):
        for n, item in enumerate(data, start=1):
            try:
                check(item)
                items.append((n, item))
            except InputError as e:
                items.append((n, e))
    else:
        items = list(json_lines(raw))
    if len(items) > limit:
        raise HTTPException(413, f"{len(items)} events in one batch; the limit is {limit}")
    return items


#: Environment read by :func:`app_from_env` (set by ``spimguard serve``).
ENV_DATA_DIR = "SPIMGUARD_DATA_DIR"
ENV_STORE = "SPIMGUARD_STORE"
ENV_POLICY = "SPIMGUARD_POLICY"
ENV_AUTH = "SPIMGUARD_AUTH"


def app_from_env() -> FastAPI:
    """The app configured from ``SPIMGUARD_*`` variables: what each uvicorn worker calls.

    Several workers are separate processes started from an import string, so
    their settings travel in the environment rather than as arguments.
    """
    import os
    from pathlib import Path

    policy = os.environ.get(ENV_POLICY) or None
    cfg = ServiceConfig(
        data_dir=Path(os.environ.get(ENV_DATA_DIR, "spimguard-data")),
        store=os.environ.get(ENV_STORE, "sqlite"),
        policy=Path(policy) if policy else None,
        auth=os.environ.get(ENV_AUTH, "1") != "0",
    )
    app = create_app(cfg)
    warm_up(cfg.policy)  # the first check would otherwise take ~75 ms
    # Everything built so far (models, suffix and block lists: ~200k objects) lives as
    # long as the process; out of the collector's sight, a full collection no longer
    # walks it, which paused requests for tens to hundreds of milliseconds.
    gc.collect()
    gc.freeze()
    return app
