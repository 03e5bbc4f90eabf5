"""Rate limits: token buckets per sender, per sender to new recipients, per link.

Floods are cheap to spot and cheap to stop. Three buckets, each refilled
continuously (after ``limits``' moving-window idea, simplified to one float
and a timestamp per key):

* messages per sender (default 30 a minute, burst 30);
* *new* recipients per sender (people it never wrote to; default 20 an
  hour, burst 20): contact harvesting and spam runs; an account less than a
  day old gets a quarter of that (5), as throwaway accounts are what invite
  and stranger spam is sent from, and a new user's first hour seldom reaches
  more than a handful of people;
* messages carrying the same registrable domain, platform-wide (default 300
  a minute): a link going viral in minutes is a campaign or an outage.

``RATE_LIMIT`` fires when a bucket is empty; its strength grows with how far
the sender is over (0.5 just over, 1 at twice the burst). Buckets live in the
store with a TTL, so idle keys vanish.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from typing import Any

from spimguard.core.context import MessageContext
from spimguard.core.events import MessageEvent
from spimguard.core.signals import Hit, SignalSpec
from spimguard.detectors.base import DetectorBase
from spimguard.detectors.shared import message_domains
from spimguard.state.base import Store
from spimguard.state.profiles import profile_of

__all__ = ["RateLimitDetector"]


#: Accounts younger than this get ``YOUNG_FACTOR`` of the new-recipient allowance.
YOUNG_AGE = 86_400.0
YOUNG_FACTOR = 0.25

#: A bucket in the store: tokens left and the time they were counted (16 bytes).
_BUCKET = struct.Struct("<dd")


def _take(store: Store, key: str, rate: float, burst: float, cost: float,
          now: float) -> float:
    """Take ``cost`` tokens; return the deficit (0 when the bucket had enough)."""
    raw = store.get(key, now)
    if isinstance(raw, bytes) and len(raw) == _BUCKET.size:
        tokens, last = _BUCKET.unpack(raw)
    else:  # absent (or damaged: start full, as for a new key)
        tokens, last = burst, now
    tokens = min(burst, tokens + max(now - last, 0.0) * rate)
    tokens -= cost
    store.set(key, _BUCKET.pack(tokens, now), now, ttl=burst / rate * 2 + 60)
    return float(max(-tokens, 0.0))


class RateLimitDetector(DetectorBase):
    name = "ratelimit"
    signals = (
        SignalSpec("RATE_LIMIT", 3.0, "A sender (messages, or new recipients) or a link "
                   "domain exceeded its token bucket: 0.5 just over the burst, 1 at twice it."),
    )

    def __init__(self, per_minute: float = 30.0, new_per_hour: float = 20.0,
                 link_per_minute: float = 300.0) -> None:
        for name, v in (("per_minute", per_minute), ("new_per_hour", new_per_hour),
                        ("link_per_minute", link_per_minute)):
            if v <= 0:
                raise ValueError(f"detectors.ratelimit.{name} must be positive, got {v!r}")
        self.per_minute = per_minute
        self.new_per_hour = new_per_hour
        self.link_per_minute = link_per_minute

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> RateLimitDetector:
        def num(key: str, default: float) -> float:
            v = settings.get(key, default)
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise ValueError(f"detectors.ratelimit.{key} must be a number, got {v!r}")
            return float(v)

        return cls(num("per_minute", 30.0), num("new_per_hour", 20.0),
                   num("link_per_minute", 300.0))

    def prefetch(self, message: MessageEvent) -> list[str]:
        return [f"rl:msg:{message.sender}", f"rl:new:{message.sender}"]

    def check(self, ctx: MessageContext) -> Iterable[Hit]:
        msg, store, now = ctx.message, ctx.store, ctx.now
        found: list[tuple[float, str]] = []
        burst = self.per_minute
        over = _take(store, f"rl:msg:{msg.sender}", self.per_minute / 60, burst, 1.0, now)
        if over:
            found.append((over / burst, f"{msg.sender} sent over {self.per_minute:g} "
                          "messages a minute"))
        prof = profile_of(store, msg.sender, now, ctx.memo)
        new = sum(1 for r in msg.recipients[:1000]
                  if prof is None or prof.last_wrote(r) is None)
        if new:
            allowance = self.new_per_hour
            young = prof is not None and prof.created_ts is not None and \
                now - prof.created_ts < YOUNG_AGE
            if young:
                allowance *= YOUNG_FACTOR
            over = _take(store, f"rl:new:{msg.sender}", allowance / 3600, allowance,
                         float(new), now)
            if over:
                found.append((over / allowance, f"{msg.sender} wrote to over "
                              f"{allowance:g} new people an hour"
                              + (" (an account less than a day old)" if young else "")))
        for d in message_domains(ctx)[:3]:
            burst = self.link_per_minute
            over = _take(store, f"rl:link:{d}", self.link_per_minute / 60, burst, 1.0, now)
            if over:
                found.append((over / burst, f"links to {d} in over {self.link_per_minute:g} "
                              "messages a minute, platform-wide"))
        if not found:
            return ()
        ratio, detail = max(found)
        return (Hit("RATE_LIMIT", min(1.0, 0.5 + ratio / 2), detail),)
