"""Signals: the evidence a detector emits (after Rspamd's symbols).

A detector never decides. It returns :class:`Hit` records (a signal name, a
strength and a detail a moderator can read); the policy turns each hit into a
:class:`Signal` with a score ``weight * strength``, where the weight comes
from the detector's :class:`SignalSpec` unless the policy file overrides it.
Signal names are public API: a rename needs a changelog entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Abstain", "Hit", "Signal", "SignalSpec"]


@dataclass(frozen=True, slots=True)
class SignalSpec:
    """What a signal means and how much it weighs by default."""

    name: str
    weight: float
    description: str


@dataclass(frozen=True, slots=True)
class Hit:
    """A detector's raw finding: strength is usually in [0, 1] (may exceed 1)."""

    name: str
    strength: float
    detail: str
    #: The campaign this finding ties the message to, if any (the verdict's
    #: ``campaign`` comes from the first hit that names one).
    campaign: str | None = None


@dataclass(frozen=True, slots=True)
class Signal:
    """A scored finding, as it appears in a verdict."""

    name: str
    score: float
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "score": round(self.score, 3), "detail": self.detail}


class Abstain(Exception):  # noqa: N818 - a control signal, not an error
    """Raised by a detector that has no opinion on this message (kept in the trace)."""
