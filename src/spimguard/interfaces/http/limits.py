"""A body-size limit as plain ASGI middleware: a 413 before the body is read.

Checking ``Content-Length`` alone misses chunked uploads, and reading an
unbounded body first would let one client fill memory; so a declared length
is checked up front (the server then delivers at most that much), and a
chunked body is read up to the limit before the app sees it.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

__all__ = ["BodyLimit", "BodyTooLarge", "declared_too_large", "read_body", "too_large_detail"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyTooLarge(Exception):
    """The request body is over the limit (declared, or counted as it arrived)."""


def declared_too_large(headers: Iterable[tuple[bytes, bytes]], max_bytes: int) -> bool:
    """A ``Content-Length`` over the limit (or not a number)."""
    for name, value in headers:
        if name == b"content-length":
            try:
                return int(value) > max_bytes
            except ValueError:
                return True
    return False


async def read_body(receive: Receive, max_bytes: int) -> bytes | None:
    """The whole body, ``BodyTooLarge`` past the limit even when sent chunked; None when
    the client went away first."""
    chunks: list[bytes] = []
    seen = 0
    while True:
        msg = await receive()
        if msg["type"] != "http.request":
            return None
        part = msg.get("body", b"")
        seen += len(part)
        if seen > max_bytes:
            raise BodyTooLarge
        chunks.append(part)
        if not msg.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers", [])
        if declared_too_large(headers, self.max_bytes):
            await self._reject(send)
            return
        if any(name == b"content-length" for name, _ in headers):
            await self.app(scope, receive, send)  # the server holds the body to its length
            return
        # chunked: take the body up to the limit first, then hand it on in one piece
        try:
            body = await read_body(receive, self.max_bytes)
        except BodyTooLarge:
            await self._reject(send)
            return
        if body is None:
            return  # the client went away
        whole: Message = {"type": "http.request", "body": body, "more_body": False}
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return whole

        await self.app(scope, replay, send)

    async def _reject(self, send: Send) -> None:
        body = json.dumps({"detail": too_large_detail(self.max_bytes)}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def too_large_detail(max_bytes: int) -> str:
    return f"request body larger than {max_bytes} bytes"
