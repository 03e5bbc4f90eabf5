"""What a simulation counts beyond the replay score: reach and speed of containment.

The replay scorer (spec section 4) judges verdicts message by message. A worm
is judged by what it did to the network: how many accounts fell ("reach"), how
much spam each compromised account got out before the engine acted on it, and
how long that took. Per attack kind, messages sent, stopped and delivered.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

__all__ = ["CompromiseRecord", "KindStats", "compromise_summary"]


@dataclass(slots=True)
class KindStats:
    """Messages of one kind (``ham`` or an attack kind)."""

    sent: int = 0
    #: The verdict held or blocked it (in a shadow run: would have).
    stopped: int = 0
    warned: int = 0
    #: Reached its recipients (in an undefended run, every message).
    delivered: int = 0
    recipients: int = 0

    def to_dict(self) -> dict[str, int]:
        return {"sent": self.sent, "stopped": self.stopped, "warned": self.warned,
                "delivered": self.delivered, "recipients": self.recipients}


@dataclass(slots=True)
class CompromiseRecord:
    """One account's fall, and what the engine did about it."""

    user: str
    kind: str
    ts: float
    seed: bool
    #: Spam the attacker sent from the account (while it was compromised).
    spam_sent: int = 0
    #: The same, counted only until the first account action.
    spam_before_action: int = 0
    first_action_ts: float | None = None
    recovered_ts: float | None = None


def _median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def _quantile(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


def compromise_summary(records: list[CompromiseRecord]) -> dict[str, Any]:
    """Reach and containment over the given compromises (all kinds, or one)."""
    caught = [r for r in records if r.first_action_ts is not None]
    minutes = [((r.first_action_ts or r.ts) - r.ts) / 60.0 for r in caught]
    return {
        "reach": len(records),
        "seeds": sum(r.seed for r in records),
        "secondary": sum(not r.seed for r in records),
        "caught": len(caught),
        "spam_from_compromised": sum(r.spam_sent for r in records),
        "median_spam_before_action": _median([float(r.spam_before_action) for r in records]),
        "median_minutes_to_action": _round(_median(minutes)),
        "p90_minutes_to_action": _round(_quantile(minutes, 0.9)),
    }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 1)
