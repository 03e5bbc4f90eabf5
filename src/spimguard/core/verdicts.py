"""Verdicts (shared/spec/formats.md, section 3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from spimguard.core.signals import Signal

__all__ = ["AccountAction", "AccountNotice", "Action", "TraceEntry", "Verdict"]


class Action(StrEnum):
    """What happens to a message, in increasing severity."""

    ALLOW = "allow"
    WARN = "warn"
    HOLD = "hold"
    BLOCK = "block"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def stops(self) -> bool:
        """True when the message is not delivered."""
        return self in (Action.HOLD, Action.BLOCK)


_RANK = {Action.ALLOW: 0, Action.WARN: 1, Action.HOLD: 2, Action.BLOCK: 3}


class AccountAction(StrEnum):
    """What happens to the sending account."""

    CHALLENGE = "challenge"
    LOCK = "lock"


@dataclass(frozen=True, slots=True)
class TraceEntry:
    """What one detector did for one message: for debugging and audits."""

    detector: str
    status: str  # "ran", "skipped", "abstained" or "error"
    note: str = ""


@dataclass(frozen=True, slots=True)
class Verdict:
    id: str
    action: Action
    score: float
    signals: tuple[Signal, ...]
    account_action: AccountAction | None = None
    campaign: str | None = None
    trace: tuple[TraceEntry, ...] = field(default=(), compare=False)
    #: The session (device id) the account action targets, when it targets one
    #: rather than the whole account (beyond spec §3; see ``core.escalation``).
    session: str | None = None

    def to_dict(self, trace: bool = False) -> dict[str, Any]:
        """The spec's JSON shape; ``trace`` adds the per-detector trace."""
        out: dict[str, Any] = {
            "id": self.id,
            "action": self.action.value,
            "score": round(self.score, 3),
            "signals": [s.to_dict() for s in self.signals],
            "account_action": self.account_action.value if self.account_action else None,
            "campaign": self.campaign,
        }
        if self.session is not None:
            out["session"] = self.session
        if trace:
            out["trace"] = [
                {"detector": t.detector, "status": t.status, "note": t.note} for t in self.trace
            ]
        return out


@dataclass(frozen=True, slots=True)
class AccountNotice:
    """An account action taken outside a message's verdict (recipients' feedback arrived):
    interfaces collect these with ``Engine.drain_notices`` and enforce them."""

    ts: float
    user: str
    action: AccountAction
    reason: str
    #: The device id targeted, when the action targets one session.
    session: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"ts": self.ts, "user": self.user, "account_action": self.action.value,
                "reason": self.reason, "session": self.session}
