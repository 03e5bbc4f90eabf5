"""spimguard: stops spam over instant messaging, and explains every verdict.

The public surface is this module's ``__all__``; everything else may change.
"""

from spimguard.build import build_engine
from spimguard.core.engine import Engine
from spimguard.core.errors import EventError, PolicyError, SpimguardError, UnknownEventType
from spimguard.core.events import (
    AccountEvent,
    ContactEvent,
    Event,
    FeedbackEvent,
    LoginEvent,
    MessageEvent,
    ReportEvent,
    TruthEvent,
    UnlockEvent,
    parse_event,
)
from spimguard.core.policy import Policy
from spimguard.core.signals import Hit, Signal, SignalSpec
from spimguard.core.verdicts import AccountAction, Action, Verdict

__version__ = "0.1.0"

__all__ = [
    "AccountAction",
    "AccountEvent",
    "Action",
    "ContactEvent",
    "Engine",
    "Event",
    "EventError",
    "FeedbackEvent",
    "Hit",
    "LoginEvent",
    "MessageEvent",
    "Policy",
    "PolicyError",
    "ReportEvent",
    "Signal",
    "SignalSpec",
    "SpimguardError",
    "TruthEvent",
    "UnknownEventType",
    "UnlockEvent",
    "Verdict",
    "__version__",
    "build_engine",
    "parse_event",
]
