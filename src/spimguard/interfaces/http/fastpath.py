"""``POST /v1/check`` as plain ASGI, ahead of the framework.

A check is the one request an integration sends for every chat message, and
most of its time should be the engine's: the framework's layers (error and
exception middleware, routing, request objects, dependency injection,
telemetry hooks) cost as much as several detectors. So the app's outermost
callable sends ``POST /v1/check`` here and everything else to FastAPI. The
answers are the same as the framework's: 401/403 from the caller's key, 413
before a large body is read, 422 without echoing the input, 503 when the
store is down. FastAPI still documents the route in the OpenAPI document.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

import orjson
from pydantic import ValidationError

from spimguard.core.boundary import InputError, loads
from spimguard.core.errors import EventError
from spimguard.core.events import MessageEvent, parse_event
from spimguard.interfaces.http.limits import (
    BodyTooLarge,
    declared_too_large,
    read_body,
    too_large_detail,
)
from spimguard.interfaces.http.schemas import MessageIn
from spimguard.state.base import StoreError

__all__ = ["CheckEndpoint", "Reject"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger("spimguard.http")
_JSON = (b"content-type", b"application/json")


class Reject(Exception):
    """An answer other than a verdict: status, JSON body, extra headers."""

    def __init__(self, status: int, body: Any,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body = status, body
        self.headers = dict(headers or {})


class CheckEndpoint:
    """Answers ``POST /v1/check`` (see :meth:`wants`) as an ASGI callable.

    ``authorize(header)`` raises :class:`Reject` for a bad key; ``check`` maps
    an event to the verdict's JSON dict (a coroutine); ``invalid`` shapes pydantic errors;
    ``clock`` stamps events that carry no ``ts``.
    """

    PATH = "/v1/check"

    def __init__(self, *, max_bytes: int,
                 authorize: Callable[[str | None], None],
                 check: Callable[[MessageEvent], Awaitable[dict[str, Any]]],
                 invalid: Callable[[Any], Any], clock: Callable[[], float]) -> None:
        self.max_bytes = max_bytes
        self.authorize, self.check, self.invalid, self.clock = authorize, check, invalid, clock

    @classmethod
    def wants(cls, scope: Scope) -> bool:
        return bool(scope["type"] == "http" and scope["path"] == cls.PATH
                    and scope["method"] == "POST")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            status, body, headers = 200, await self._answer(scope, receive), {}
        except Reject as r:
            status, body, headers = r.status, r.body, r.headers
        except Exception:  # the framework would answer 500 too; the client gets no trace
            log.exception("check failed")
            status, body, headers = 500, {"detail": "internal error"}, {}
        if body is None:
            return  # the client went away before its body arrived
        raw = orjson.dumps(body)
        await send({"type": "http.response.start", "status": status,
                    "headers": [_JSON, (b"content-length", str(len(raw)).encode()),
                                *((k.lower().encode(), v.encode()) for k, v in headers.items())]})
        await send({"type": "http.response.body", "body": raw})

    async def _answer(self, scope: Scope, receive: Receive) -> dict[str, Any] | None:
        headers = scope["headers"]
        if declared_too_large(headers, self.max_bytes):
            raise self._too_large()
        header = next((v.decode("latin-1") for k, v in headers if k == b"authorization"), None)
        self.authorize(header)  # before the body: a stranger's 8 MB is not read at all
        try:
            raw = await read_body(receive, self.max_bytes)
        except BodyTooLarge:
            raise self._too_large() from None
        return None if raw is None else await self._verdict(raw)

    async def respond(self, header: str | None, raw: bytes) -> tuple[int, Any, dict[str, str]]:
        """(status, JSON body, headers) for a body already read: the same answer when the
        framework's route is reached instead (the app mounted under a prefix)."""
        try:
            self.authorize(header)
            return 200, await self._verdict(raw), {}
        except Reject as r:
            return r.status, r.body, r.headers

    async def _verdict(self, raw: bytes) -> dict[str, Any]:
        try:  # the shared boundary first: the same limits as /v1/events and replay
            message = MessageIn.model_validate(loads(raw))
        except InputError as e:
            raise Reject(422, {"detail": str(e)}) from None
        except ValidationError as e:
            raise Reject(422, self.invalid(e.errors())) from None
        try:
            event = parse_event(message.event(self.clock()))
        except EventError as e:
            raise Reject(422, {"detail": str(e)}) from None
        assert isinstance(event, MessageEvent)
        try:
            return await self.check(event)
        except StoreError as e:
            raise Reject(503, {"detail": f"storage unavailable, retry: {e}"}) from None

    def _too_large(self) -> Reject:
        return Reject(413, {"detail": too_large_detail(self.max_bytes)})
