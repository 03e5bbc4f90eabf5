"""Per-account behaviour profiles (after COMPA, Egele et al., NDSS 2013).

A profile is what an account usually does: when it writes, to whom, how
long, with links or not and to which domains, in which script, from which
devices and IPs. Each message is compared with its sender's own profile, so
an established account that suddenly behaves like a spammer stands out even
when its wording is harmless.

Memory is bounded per account: fixed-size structures (the most recent
recipients, domains, devices and IPs as 32-bit hashes with a time each, a
24-bucket hour histogram) stored as one ``bytes`` value of at most ~700
bytes (``to_bytes``), so every active account fits in memory and the same
value goes to SQLite or Redis as is. A profile unused for ``PROFILE_TTL``
expires with its key in the store.
"""

from __future__ import annotations

import math
import struct
from bisect import bisect_left, insort
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from spimguard.state.base import Store
from spimguard.state.packed import hash32, pack_pairs, pack_u32, unpack_pairs, unpack_u32

__all__ = ["PROFILE_TTL", "AccountProfile", "ContactList", "contacts_key", "contacts_of",
           "profile_key", "profile_of"]

#: A profile unused this long is forgotten (seconds).
PROFILE_TTL = 90 * 86400.0
#: Bounds on the per-account memories.
MAX_RECIPIENTS = 32
MAX_DOMAINS = 8
MAX_LOGINS = 6
MAX_SCRIPTS = 4
MAX_DETAIL = 120
#: Smoothing of running averages (weight of the newest message).
ALPHA = 0.05
#: Format version, counts, links since the new login, then created/first-seen/new-login
#: times, message
#: count, link rate, length mean and mean square, and the hour histogram.
_HEAD = struct.Struct("<8B3dI3f24H")
_VERSION = 1


def _remember(d: dict[int, float], key: int, ts: float, bound: int) -> bool:
    """Record ``key`` at ``ts``; drop the stalest entry past ``bound``. True if new."""
    new = key not in d
    d[key] = ts
    if len(d) > bound:
        del d[min(d, key=d.__getitem__)]
    return new


def _opt(ts: float | None) -> float:
    return math.nan if ts is None else ts


def _back(v: float) -> float | None:
    return None if math.isnan(v) else v


@dataclass(slots=True)
class AccountProfile:
    created_ts: float | None = None
    first_seen: float | None = None
    messages: int = 0
    #: Messages per hour of day (UTC), saturating.
    hours: list[int] = field(default_factory=lambda: [0] * 24)
    #: Hash of a recipient -> last time this account messaged them.
    recipients: dict[int, float] = field(default_factory=dict)
    #: Hash of a registrable domain -> last time this account linked to it.
    domains: dict[int, float] = field(default_factory=dict)
    #: Share of messages with a link, and mean / mean square of text length.
    link_rate: float = 0.0
    length_mean: float = 0.0
    length_sq: float = 0.0
    #: Hashes of the Unicode scripts the account writes in.
    scripts: set[int] = field(default_factory=set)
    devices: dict[int, float] = field(default_factory=dict)
    ips: dict[int, float] = field(default_factory=dict)
    #: Time of the latest login from a device or IP never seen before.
    new_login_ts: float | None = None
    new_login_detail: str = ""
    #: People sent a link since that login, each counted once (up to 255): a
    #: stolen session spreading slowly still adds up, hour after hour.
    login_links: int = 0

    # -- learning ------------------------------------------------------------

    def learn_message(self, ts: float, recipients: tuple[str, ...], length: int,
                      domains: Sequence[str], scripts: set[str]) -> None:
        if self.first_seen is None:
            self.first_seen = ts
        self.messages = min(self.messages + 1, 0xFFFFFFFF)
        h = int(ts // 3600) % 24
        self.hours[h] = min(self.hours[h] + 1, 65_535)
        if domains and self.new_login_ts is not None:
            self.login_links = min(255, self.login_links + self.new_since_login(recipients))
        for r in recipients[:MAX_RECIPIENTS]:
            _remember(self.recipients, hash32(r), ts, MAX_RECIPIENTS)
        for d in domains[:MAX_DOMAINS]:
            _remember(self.domains, hash32(d), ts, MAX_DOMAINS)
        a = 1.0 if self.messages == 1 else ALPHA
        self.link_rate += a * ((1.0 if domains else 0.0) - self.link_rate)
        self.length_mean += a * (length - self.length_mean)
        self.length_sq += a * (length * length - self.length_sq)
        for s in scripts:
            if len(self.scripts) >= MAX_SCRIPTS:
                break
            self.scripts.add(hash32(s))

    def learn_login(self, ts: float, ip: str | None, device: str | None) -> None:
        """Remember the login; flag it when it comes from a device or IP never seen."""
        known = bool(self.devices or self.ips)
        news = []
        if device is not None and _remember(self.devices, hash32(device), ts, MAX_LOGINS):
            news.append(f"device {device[:40]}")
        if ip is not None and _remember(self.ips, hash32(ip), ts, MAX_LOGINS):
            news.append(f"IP {ip[:45]}")
        if known and news:
            self.new_login_ts = ts
            self.new_login_detail = " and ".join(news)
            self.login_links = 0

    # -- reading -------------------------------------------------------------

    def hour_share(self, ts: float) -> float:
        total = sum(self.hours)
        return self.hours[int(ts // 3600) % 24] / total if total else 0.0

    def length_z(self, length: int) -> float:
        var = max(self.length_sq - self.length_mean ** 2, 25.0)
        return float((length - self.length_mean) / var ** 0.5)

    def last_wrote(self, user: str) -> float | None:
        """When this account last messaged ``user`` (None: not among its recent recipients)."""
        return self.recipients.get(hash32(user))

    def new_since_login(self, recipients: tuple[str, ...]) -> int:
        """How many of ``recipients`` this account has not written to since its new login."""
        since = self.new_login_ts
        if since is None:
            return 0
        return sum(1 for r in recipients[:MAX_RECIPIENTS]
                   if self.recipients.get(hash32(r), -1.0) < since)

    @property
    def new_login_everywhere(self) -> bool:
        """The latest new login came from a new device *and* a new network (an owner's new
        phone is usually on the home network; a thief's session is new in both)."""
        return " and IP " in self.new_login_detail

    def knows_domain(self, domain: str) -> bool:
        return hash32(domain) in self.domains

    def new_scripts(self, scripts: set[str]) -> list[str]:
        """Scripts of ``scripts`` this account never wrote in (none for a blank profile)."""
        if not self.scripts:
            return []
        return sorted(s for s in scripts if hash32(s) not in self.scripts)

    # -- storage -------------------------------------------------------------

    def to_bytes(self) -> bytes:
        detail = self.new_login_detail.encode("utf-8", "replace")[:MAX_DETAIL]
        head = _HEAD.pack(_VERSION, len(self.recipients), len(self.domains),
                          len(self.devices), len(self.ips), len(self.scripts), len(detail),
                          min(self.login_links, 255),
                          _opt(self.created_ts), _opt(self.first_seen), _opt(self.new_login_ts),
                          self.messages, self.link_rate, self.length_mean,
                          min(self.length_sq, 3e38), *self.hours)
        return b"".join((head, pack_pairs(self.recipients), pack_pairs(self.domains),
                         pack_pairs(self.devices), pack_pairs(self.ips),
                         pack_u32(sorted(self.scripts)), detail))

    @classmethod
    def from_bytes(cls, raw: bytes) -> AccountProfile:
        """Decode :meth:`to_bytes`; ``ValueError`` for anything else (never a crash)."""
        try:
            v = _HEAD.unpack_from(raw, 0)
        except struct.error as e:
            raise ValueError(f"not a stored profile: {e}") from None
        if v[0] != _VERSION:
            raise ValueError(f"stored profile has version {v[0]}, expected {_VERSION}")
        n_r, n_d, n_dev, n_ip, n_s, n_detail = v[1:7]
        off = _HEAD.size
        try:
            parts = []
            for n in (n_r, n_d, n_dev, n_ip):
                parts.append(unpack_pairs(raw, off, n))
                off += 8 * n
            scripts = set(unpack_u32(raw, off, n_s))
        except struct.error as e:
            raise ValueError(f"truncated stored profile: {e}") from None
        off += 4 * n_s
        detail = raw[off:off + n_detail].decode("utf-8", "replace")
        return cls(created_ts=_back(v[8]), first_seen=_back(v[9]), messages=v[11],
                   hours=list(v[15:39]), recipients=parts[0], domains=parts[1],
                   link_rate=v[12], length_mean=v[13], length_sq=v[14], scripts=scripts,
                   devices=parts[2], ips=parts[3], new_login_ts=_back(v[10]), login_links=v[7],
                   new_login_detail=detail)


class ContactList:
    """Who a user has added, as a sorted array of 32-bit hashes (4 bytes a contact)."""

    __slots__ = ("_ids",)

    def __init__(self, ids: list[int] | None = None) -> None:
        self._ids: list[int] = ids if ids is not None else []

    def __contains__(self, user: object) -> bool:
        if not isinstance(user, str):
            return False
        h = hash32(user)
        i = bisect_left(self._ids, h)
        return i < len(self._ids) and self._ids[i] == h

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, user: str) -> None:
        h = hash32(user)
        i = bisect_left(self._ids, h)
        if i == len(self._ids) or self._ids[i] != h:
            insort(self._ids, h)

    def discard(self, user: str) -> None:
        h = hash32(user)
        i = bisect_left(self._ids, h)
        if i < len(self._ids) and self._ids[i] == h:
            del self._ids[i]

    def to_bytes(self) -> bytes:
        return pack_u32(self._ids)

    @classmethod
    def from_bytes(cls, raw: bytes) -> ContactList:
        if len(raw) % 4:
            raise ValueError("not a stored contact list (length not a multiple of 4)")
        return cls(list(unpack_u32(raw)))


def profile_key(user: str) -> str:
    return f"profile:{user}"


def contacts_key(user: str) -> str:
    return f"contacts:{user}"


def profile_of(store: Store, user: str, now: float,
               memo: dict[Any, Any] | None = None) -> AccountProfile | None:
    """``user``'s profile, or None; ``memo`` (a context's) decodes it once per message."""
    if memo is not None:
        key = ("profile", user)
        if key in memo:
            return memo[key]  # type: ignore[no-any-return]
        memo[key] = prof = profile_of(store, user, now)
        return prof
    raw = store.get(profile_key(user), now)
    if not isinstance(raw, bytes | bytearray):
        return None
    try:
        return AccountProfile.from_bytes(bytes(raw))
    except ValueError:
        return None  # a damaged value is no profile; the next message rewrites it


def contacts_of(store: Store, user: str, now: float) -> ContactList | None:
    """Who ``user`` has added as a contact; None when no contact event was ever seen."""
    raw = store.get(contacts_key(user), now)
    if not isinstance(raw, bytes | bytearray):
        return None
    try:
        return ContactList.from_bytes(bytes(raw))
    except ValueError:
        return None
