"""What the module does to accounts and devices through Synapse's admin API.

A lock suspends (or shadow-bans) the account; a challenge of one session
deletes that device, which logs it out at once (its access token stops
working) while the owner's other devices go on; an unlock lifts what a lock
did. The module calls the admin API over HTTP as its own admin user
(``bot_user``): the module API has no call to delete a device, and
``invalidate_access_token`` needs the token, which a spam checker never sees
(shared/notes/matrix-e2ee.md, section 6).
"""

from __future__ import annotations

import logging
import urllib.parse

from synapse.module_api import ModuleApi
from twisted.web.client import readBody
from twisted.web.http_headers import Headers

from spimguard.interfaces.synapse.config import SynapseConfig

__all__ = ["AdminActions", "BOT_DEVICE"]

log = logging.getLogger("spimguard.synapse")

#: The module's own admin device: never logged out by it.
BOT_DEVICE = "SPIMGUARD"


class AdminActions:
    def __init__(self, api: ModuleApi, config: SynapseConfig, bot_id: str) -> None:
        self.api = api
        self.config = config
        self.bot_id = bot_id
        self._token: str | None = None
        #: Accounts this process suspended (a lock is applied once).
        self.suspended: set[str] = set()

    async def token(self) -> str:
        """An access token of the module's own admin user, created on first use."""
        if self._token is None:
            uid = self.bot_id
            if await self.api.check_user_exists(uid) is None:
                await self.api.register_user(self.config.bot_user, admin=True)
            elif not await self.api.is_user_admin(uid):
                await self.api.set_user_admin(uid, True)
            # one fixed device: a restart gets a new token, not one more device
            _, token, _, _ = await self.api.register_device(
                uid, device_id=BOT_DEVICE, initial_display_name="spimguard")
            self._token = token
        return self._token

    def url(self, path: str) -> str:
        base = (self.config.admin_api_url or self.api.public_baseurl).rstrip("/")
        return f"{base}{path}"

    async def headers(self) -> dict[bytes, list[bytes]]:
        return {b"Authorization": [f"Bearer {await self.token()}".encode()]}

    async def lock(self, user: str) -> None:
        if self.config.on_lock == "none" or user in self.suspended:
            return
        self.suspended.add(user)
        quoted = urllib.parse.quote(user, safe="")
        headers = await self.headers()
        if self.config.on_lock == "suspend":
            await self.api.http_client.put_json(
                self.url(f"/_synapse/admin/v1/suspend/{quoted}"), {"suspend": True},
                headers=headers)
        else:
            await self.api.http_client.post_json_get_json(
                self.url(f"/_synapse/admin/v1/users/{quoted}/shadow_ban"), {},
                headers=headers)
        log.warning("spimguard: locked %s (%s through the admin API)", user,
                    self.config.on_lock)

    async def logout(self, user: str, device: str) -> bool:
        """Delete ``device`` of ``user``: its access token dies, the owner's others live.
        False when it was already gone (or is the module's own)."""
        if self.config.on_session != "logout" or (user == self.bot_id and device == BOT_DEVICE):
            return False
        url = self.url("/_synapse/admin/v2/users/"
                        f"{urllib.parse.quote(user, safe='')}/devices/"
                        f"{urllib.parse.quote(device, safe='')}")
        token = await self.token()
        resp = await self.api.http_client.request(
            "DELETE", url, headers=Headers({b"Authorization": [f"Bearer {token}".encode()]}))
        body = await readBody(resp)
        if resp.code not in (200, 404):
            raise RuntimeError(f"deleting device {device} of {user}: HTTP {resp.code} "
                               f"{body[:200]!r}")
        log.warning("spimguard: logged out device %s of %s (session challenged)", device, user)
        return bool(resp.code == 200)

    async def unlock(self, user: str) -> None:
        """Lift the suspension (or shadow-ban) that a lock applied."""
        self.suspended.discard(user)
        if self.config.on_lock == "none":
            return
        quoted = urllib.parse.quote(user, safe="")
        headers = await self.headers()
        if self.config.on_lock == "suspend":
            await self.api.http_client.put_json(
                self.url(f"/_synapse/admin/v1/suspend/{quoted}"), {"suspend": False},
                headers=headers)
        else:
            await self.api.http_client.request(
                "DELETE", self.url(f"/_synapse/admin/v1/users/{quoted}/shadow_ban"),
                headers=Headers(headers))
