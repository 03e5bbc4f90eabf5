"""Exceptions of spimguard.

SpimguardError
├── EventError        an event is malformed (wrong type, missing field)
│   └── UnknownEventType   an event's ``type`` is not one we know (skipped, counted)
├── PolicyError       a policy file is invalid
└── CorpusError       a labelled corpus cannot be read at all
ModelError (in spimguard.learning.model) is a ValueError for unreadable models.
"""

from __future__ import annotations

__all__ = ["CorpusError", "EventError", "PolicyError", "SpimguardError", "UnknownEventType"]


class SpimguardError(Exception):
    """Base of every error spimguard raises on purpose."""


class EventError(SpimguardError, ValueError):
    """An event is malformed; the message says which field and why."""


class UnknownEventType(EventError):
    """The event's ``type`` is unknown: spec says skip it and count it."""


class PolicyError(SpimguardError, ValueError):
    """A policy file is invalid; the message names the key."""


class CorpusError(SpimguardError, ValueError):
    """A corpus file cannot be read at all (not a single bad line: those are reported)."""
