"""Per-account behaviour profiles (after COMPA, Egele et al., NDSS 2013).

A profile is what an account usually does: when it writes, to whom, how
long, with links or not and to which domains, in which script, from which
devices and IPs. Each message is compared with its sender's own profile, so
an established account that suddenly behaves like a spammer stands out even
when its wording is harmless.

Memory is bounded per account (small fixed-size structures: the most recent
recipients, domains, devices and IPs, a 24-bucket hour histogram), so the
engine can keep every active account in memory; a profile unused for
``PROFILE_TTL`` expires with its key in the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["PROFILE_TTL", "AccountProfile"]

#: A profile unused this long is forgotten (seconds).
PROFILE_TTL = 90 * 86400.0
#: Bounds on the per-account memories.
MAX_RECIPIENTS = 32
MAX_DOMAINS = 8
MAX_LOGINS = 6
#: Smoothing of running averages (weight of the newest message).
ALPHA = 0.05


def _remember(d: dict[str, float], key: str, ts: float, bound: int) -> bool:
    """Record ``key`` at ``ts``; drop the stalest entry past ``bound``. True if new."""
    new = key not in d
    d[key] = ts
    if len(d) > bound:
        del d[min(d, key=d.__getitem__)]
    return new


@dataclass(slots=True)
class AccountProfile:
    created_ts: float | None = None
    first_seen: float | None = None
    messages: int = 0
    #: Messages per hour of day (UTC), saturating.
    hours: list[int] = field(default_factory=lambda: [0] * 24)
    #: Recipient -> last time this account messaged them.
    recipients: dict[str, float] = field(default_factory=dict)
    #: Registrable domain -> last time this account sent a link to it.
    domains: dict[str, float] = field(default_factory=dict)
    #: Share of messages with a link, and mean / mean square of text length.
    link_rate: float = 0.0
    length_mean: float = 0.0
    length_sq: float = 0.0
    scripts: set[str] = field(default_factory=set)
    devices: dict[str, float] = field(default_factory=dict)
    ips: dict[str, float] = field(default_factory=dict)
    #: Time of the latest login from a device or IP never seen before.
    new_login_ts: float | None = None
    new_login_detail: str = ""

    # -- learning ------------------------------------------------------------

    def learn_message(self, ts: float, recipients: tuple[str, ...], length: int,
                      domains: list[str], scripts: set[str]) -> None:
        if self.first_seen is None:
            self.first_seen = ts
        self.messages += 1
        h = int(ts // 3600) % 24
        self.hours[h] = min(self.hours[h] + 1, 65_535)
        for r in recipients[:MAX_RECIPIENTS]:
            _remember(self.recipients, r, ts, MAX_RECIPIENTS)
        for d in domains:
            _remember(self.domains, d, ts, MAX_DOMAINS)
        a = 1.0 if self.messages == 1 else ALPHA
        self.link_rate += a * ((1.0 if domains else 0.0) - self.link_rate)
        self.length_mean += a * (length - self.length_mean)
        self.length_sq += a * (length * length - self.length_sq)
        if len(self.scripts) < 4:
            self.scripts |= scripts

    def learn_login(self, ts: float, ip: str | None, device: str | None) -> None:
        """Remember the login; flag it when it comes from a device or IP never seen."""
        known = bool(self.devices or self.ips)
        news = []
        if device is not None and _remember(self.devices, device, ts, MAX_LOGINS):
            news.append(f"device {device[:40]}")
        if ip is not None and _remember(self.ips, ip, ts, MAX_LOGINS):
            news.append(f"IP {ip[:45]}")
        if known and news:
            self.new_login_ts = ts
            self.new_login_detail = " and ".join(news)

    # -- reading -------------------------------------------------------------

    def hour_share(self, ts: float) -> float:
        total = sum(self.hours)
        return self.hours[int(ts // 3600) % 24] / total if total else 0.0

    def length_z(self, length: int) -> float:
        var = max(self.length_sq - self.length_mean ** 2, 25.0)
        return float((length - self.length_mean) / var ** 0.5)
