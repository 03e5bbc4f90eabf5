"""Who logs in from where, which device sends each message, and which chats are encrypted.

Owners have one or two devices and networks of their own, and now and then a
new phone or a trip (``new_device_share``, ``new_network_share``): without
those, "a session never seen" would be a perfect attack signal, which it is
not on a real platform. Attackers log in from their own networks and
clients. A login names the client (what Synapse's login callback sees: a
display name or user agent); each message names the server-assigned device
id of the session that sent it (what Synapse exposes on local events), so
the two never match by string, as on Matrix.

Encryption is per conversation, as in Matrix rooms: a pair of users is
encrypted with probability ``encrypted``, decided once per pair. An
encrypted message carries no text, only its ciphertext size (Megolm: the
event JSON, AES-padded to 16 bytes, plus MAC and header, base64).
"""

from __future__ import annotations

import hashlib
import json
import random
import string
from collections.abc import Sequence

__all__ = ["Identities", "megolm_size"]

_OWNER_NETS = (24, 68, 71, 73, 76, 82, 88, 93, 95, 98, 108, 174, 178, 188, 212, 217)
_ATTACKER_NETS = (5, 45, 91, 103, 146, 154, 162, 176, 185, 193, 194, 198, 209)
_OWNER_DEVICES = ("android", "iphone", "web-chrome", "web-firefox", "desktop-win", "desktop-mac")
_ATTACKER_DEVICES = ("web-chrome", "web-headless", "android-emu", "desktop-linux")
#: Megolm's bytes around the payload: version, session index, MAC, signature.
_MEGOLM_OVERHEAD = 1 + 4 + 8 + 64


def megolm_size(text: str) -> int:
    """Length of the base64 ciphertext a Megolm client sends for ``text``."""
    payload = json.dumps({"type": "m.room.message", "content": {"msgtype": "m.text",
                          "body": text}, "room_id": "!abcdefghijklmnop:example.org"},
                         ensure_ascii=False).encode("utf-8")
    padded = (len(payload) // 16 + 1) * 16
    return -(-(padded + _MEGOLM_OVERHEAD) // 3) * 4


class Identities:
    def __init__(self, seed: int, new_device_share: float, new_network_share: float,
                 encrypted: float) -> None:
        self.seed = seed
        self.new_device_share = new_device_share
        self.new_network_share = new_network_share
        self.encrypted = encrypted
        self._owner: dict[str, tuple[list[str], list[str]]] = {}
        #: The client the owner last logged in with, and the attacker's.
        self._owner_client: dict[str, str] = {}
        self._attacker_client: dict[str, str] = {}
        self._pairs: dict[tuple[str, str], bool] = {}

    def _of(self, user: str) -> tuple[list[str], list[str]]:
        ident = self._owner.get(user)
        if ident is None:
            r = random.Random(f"{self.seed}:owner:{user}")
            ips = [_ip(r, _OWNER_NETS) for _ in range(r.choice((1, 1, 2)))]
            clients = [f"{r.choice(_OWNER_DEVICES)}-{_token(r, 6)}"
                       for _ in range(r.choice((1, 1, 2)))]
            ident = self._owner[user] = (ips, clients)
        return ident

    def owner_login(self, user: str, rng: random.Random, first: bool) -> tuple[str, str]:
        """(ip, client) of an owner's login; sometimes a new phone or a new network."""
        ips, clients = self._of(user)
        if not first and rng.random() < self.new_device_share:
            clients.append(f"{rng.choice(_OWNER_DEVICES)}-{_token(rng, 6)}")
            client = clients[-1]
        else:
            client = rng.choice(clients)
        if not first and rng.random() < self.new_network_share:
            ip = _ip(rng, _OWNER_NETS)
        else:
            ip = rng.choice(ips)
        self._owner_client[user] = client
        return ip, client

    def attacker_login(self, user: str, rng: random.Random) -> tuple[str, str]:
        """(ip, client) of an attacker: a network and client the owner never used."""
        client = f"{rng.choice(_ATTACKER_DEVICES)}-{_token(rng, 6)}"
        self._attacker_client[user] = client
        return _ip(rng, _ATTACKER_NETS), client

    def device(self, user: str, attacker: bool) -> str | None:
        """The device id the server gave the sending session (None: never logged in)."""
        client = (self._attacker_client if attacker else self._owner_client).get(user)
        if client is None:
            return None
        digest = hashlib.blake2b(f"{self.seed}:{user}:{client}".encode(), digest_size=5)
        return digest.hexdigest().upper()

    def attacker_device(self, user: str) -> str | None:
        return self.device(user, attacker=True) if user in self._attacker_client else None

    def is_encrypted(self, a: str, b: str) -> bool:
        if self.encrypted <= 0.0:
            return False
        pair = (a, b) if a < b else (b, a)
        got = self._pairs.get(pair)
        if got is None:
            r = random.Random(f"{self.seed}:e2ee:{pair[0]}:{pair[1]}").random()
            got = self._pairs[pair] = r < self.encrypted
        return got


def _token(r: random.Random, n: int) -> str:
    return "".join(r.choice(string.ascii_lowercase + string.digits) for _ in range(n))


def _ip(r: random.Random, nets: Sequence[int]) -> str:
    return f"{r.choice(nets)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"
