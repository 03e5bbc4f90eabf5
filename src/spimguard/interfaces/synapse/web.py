"""The module's HTTP endpoints for moderators (Synapse server admins only).

* ``GET /_spimguard/v1/held``: pending held messages; ``POST
  /_spimguard/v1/held/{event_id}/release`` or ``.../dismiss``: a decision.
* ``POST /_spimguard/v1/accounts/{user_id}/unlock``: lift a lock or challenge
  (of the account and of its sessions), and the suspension a lock applied.
"""

from __future__ import annotations

import urllib.parse
from typing import TYPE_CHECKING, Any

from synapse.http.server import DirectServeJsonResource
from synapse.module_api.errors import Codes, SynapseError

from spimguard.interfaces.synapse.review import DECISIONS

if TYPE_CHECKING:
    from spimguard.interfaces.synapse.module import SpimguardModule

__all__ = ["ACCOUNTS_PATH", "REVIEW_PATH", "AccountsResource", "ReviewResource"]

#: Where moderators list and decide held messages (Synapse admins' access tokens).
REVIEW_PATH = "/_spimguard/v1/held"
ACCOUNTS_PATH = "/_spimguard/v1/accounts"


async def _admin(module: SpimguardModule, request: Any) -> str:
    requester = await module.api.get_user_by_req(request)
    user = requester.user.to_string()
    if not await module.api.is_user_admin(user):
        raise SynapseError(403, "spimguard's moderation endpoints are for server admins",
                           Codes.FORBIDDEN)
    return user


class ReviewResource(DirectServeJsonResource):
    """``GET /_spimguard/v1/held``: pending held messages; ``POST .../{event_id}/release``
    or ``.../dismiss``: a moderator's decision. Server admins only."""

    isLeaf = True

    def __init__(self, module: SpimguardModule) -> None:
        super().__init__()
        self.module = module

    async def _async_render_GET(self, request: Any) -> tuple[int, Any]:
        await _admin(self.module, request)
        return 200, {"held": self.module.queue.pending()}

    async def _async_render_POST(self, request: Any) -> tuple[int, Any]:
        moderator = await _admin(self.module, request)
        parts = [p.decode("utf-8", "replace") for p in request.postpath if p]
        if len(parts) != 2 or parts[1] not in DECISIONS:
            raise SynapseError(404, f"use {REVIEW_PATH}/EVENT_ID/release or .../dismiss",
                               Codes.NOT_FOUND)
        event_id, decision = urllib.parse.unquote(parts[0]), parts[1]
        try:
            await self.module.decide(event_id, decision, moderator)
        except KeyError:
            raise SynapseError(404, f"no pending held message {event_id}",
                               Codes.NOT_FOUND) from None
        return 200, {"event_id": event_id, "decision": decision}


class AccountsResource(DirectServeJsonResource):
    """``POST /_spimguard/v1/accounts/{user_id}/unlock``: a moderator's unlock."""

    isLeaf = True

    def __init__(self, module: SpimguardModule) -> None:
        super().__init__()
        self.module = module

    async def _async_render_POST(self, request: Any) -> tuple[int, Any]:
        moderator = await _admin(self.module, request)
        parts = [p.decode("utf-8", "replace") for p in request.postpath if p]
        if len(parts) != 2 or parts[1] != "unlock":
            raise SynapseError(404, f"use {ACCOUNTS_PATH}/USER_ID/unlock", Codes.NOT_FOUND)
        user = urllib.parse.unquote(parts[0])
        if not user.startswith("@") or ":" not in user:
            raise SynapseError(400, f"not a Matrix user id: {user[:100]!r}",
                               Codes.INVALID_PARAM)
        await self.module.unlock(user, moderator)
        return 200, {"user": user, "unlocked": True}
