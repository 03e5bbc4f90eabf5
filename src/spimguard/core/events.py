"""Events of the stream format (shared/spec/formats.md, section 2).

Events are frozen dataclasses, parsed from JSON-like dicts by
:func:`parse_event`, which checks every field's type and raises
:class:`EventError` naming the field. Ground truth (a message's ``label``, and
``truth`` events) is kept apart from the decision inputs: ``MessageEvent.label``
exists for scoring only, and no detector reads it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from spimguard.core.boundary import MAX_TEXT_CHARS
from spimguard.core.errors import EventError, UnknownEventType

__all__ = [
    "AccountEvent",
    "ContactEvent",
    "Event",
    "FeedbackEvent",
    "LoginEvent",
    "MessageEvent",
    "ReportEvent",
    "TruthEvent",
    "UnlockEvent",
    "parse_event",
]

#: A message to more recipients than this is refused as malformed input.
MAX_RECIPIENTS = 1_000_000
#: Device ids, client names and report reasons longer than this are cut (not refused:
#: a client's odd user agent must not lose a login).
MAX_NAME_CHARS = 512
#: What a recipient can do about a sender without reading anything (``feedback``).
FEEDBACK_OPS = ("block", "leave", "unblock")


@dataclass(frozen=True, slots=True)
class AccountEvent:
    ts: float
    user: str
    created_ts: float | None = None
    type: Literal["account"] = "account"


@dataclass(frozen=True, slots=True)
class ContactEvent:
    ts: float
    user: str
    contact: str
    op: Literal["add", "remove"] = "add"
    type: Literal["contact"] = "contact"


@dataclass(frozen=True, slots=True)
class LoginEvent:
    ts: float
    user: str
    ip: str | None = None
    device: str | None = None
    ok: bool = True
    #: The client software (a user agent), beyond spec §2: a session is known by its
    #: device id first, then by its client and network.
    client: str | None = None
    type: Literal["login"] = "login"


@dataclass(frozen=True, slots=True)
class MessageEvent:
    ts: float
    id: str
    sender: str
    recipients: tuple[str, ...]
    text: str | None = None
    room: str | None = None
    encrypted: bool = False
    #: HTML body when the client sent one (Matrix ``formatted_body``); links in
    #: it are read with their shown text.
    html: str | None = None
    #: The sending device or session (Matrix's device id), beyond spec §2: what the
    #: metadata detectors key a session on; None when the transport does not say.
    device: str | None = None
    #: Size of the content in bytes (an encrypted message's ciphertext), beyond
    #: spec §2; for readable text the engine measures it itself.
    size: int | None = None
    #: Ground truth for scoring only; never an input to a decision.
    label: Literal["spam", "ham"] | None = None
    type: Literal["message"] = "message"


@dataclass(frozen=True, slots=True)
class ReportEvent:
    ts: float
    reporter: str
    message_id: str
    label: Literal["spam", "ham"]
    #: A moderator's decision rather than a user's opinion (an optional field
    #: beyond spec §2; the HTTP API sets it for keys with the admin scope).
    moderator: bool = False
    #: Who sent the reported message, when the platform says so (optional, beyond
    #: spec §2): lets a worker that never saw the message attribute the report.
    sender: str | None = None
    #: The reported message's text as the reporter's client decrypted it (encrypted
    #: rooms), beyond spec §2: learned from only once a moderator confirms it.
    text: str | None = None
    #: The reporter's free-text reason (Matrix reports carry one).
    reason: str | None = None
    type: Literal["report"] = "report"


@dataclass(frozen=True, slots=True)
class FeedbackEvent:
    """A recipient acted on a sender without reading a word (beyond spec §2): blocked
    them, or left the room they wrote in. Arrives minutes after the messages."""

    ts: float
    user: str
    sender: str
    op: Literal["block", "leave", "unblock"] = "block"
    room: str | None = None
    type: Literal["feedback"] = "feedback"


@dataclass(frozen=True, slots=True)
class UnlockEvent:
    ts: float
    user: str
    type: Literal["unlock"] = "unlock"


@dataclass(frozen=True, slots=True)
class TruthEvent:
    """Ground truth: when an account falls to an attacker (or is recovered)."""

    ts: float
    user: str
    compromised: bool
    type: Literal["truth"] = "truth"


Event = (
    AccountEvent
    | ContactEvent
    | FeedbackEvent
    | LoginEvent
    | MessageEvent
    | ReportEvent
    | UnlockEvent
    | TruthEvent
)


def _ts(obj: Mapping[str, Any], key: str = "ts", required: bool = True) -> float | None:
    v = obj.get(key)
    if v is None:
        if required:
            raise EventError(f"missing field {key!r}")
        return None
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise EventError(f"field {key!r} must be a finite number (Unix seconds), got {v!r:.60}")
    return float(v)


def _str(obj: Mapping[str, Any], key: str, required: bool = True) -> str | None:
    v = obj.get(key)
    if v is None:
        if required:
            raise EventError(f"missing field {key!r}")
        return None
    if not isinstance(v, str):
        raise EventError(f"field {key!r} must be a string, got {type(v).__name__}")
    if not v and required:
        raise EventError(f"field {key!r} must not be empty")
    return v


def _name(obj: Mapping[str, Any], key: str) -> str | None:
    """An optional identifier (device, client, reason): cut to MAX_NAME_CHARS, empty is None."""
    v = _str(obj, key, required=False)
    return v[:MAX_NAME_CHARS] if v else None


def _size(obj: Mapping[str, Any]) -> int | None:
    v = obj.get("size")
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 1 << 31:
        raise EventError(f"field 'size' must be a byte count (0 to 2**31), got {v!r:.60}")
    return v


def _bool(obj: Mapping[str, Any], key: str, default: bool) -> bool:
    v = obj.get(key, default)
    if not isinstance(v, bool):
        raise EventError(f"field {key!r} must be true or false, got {v!r:.60}")
    return v


def _label(obj: Mapping[str, Any], required: bool) -> Literal["spam", "ham"] | None:
    v = _str(obj, "label", required)
    if v is None:
        return None
    low = v.lower()
    if low == "spam":
        return "spam"
    if low == "ham":
        return "ham"
    raise EventError(f"field 'label' must be 'spam' or 'ham', got {v!r:.60}")


def _message(obj: Mapping[str, Any]) -> MessageEvent:
    recipients = obj.get("recipients")
    if not isinstance(recipients, list) or not all(isinstance(r, str) for r in recipients):
        raise EventError("field 'recipients' must be a list of strings")
    if len(recipients) > MAX_RECIPIENTS:
        raise EventError(f"{len(recipients)} recipients, more than the limit {MAX_RECIPIENTS}")
    encrypted = _bool(obj, "encrypted", False)
    text = _str(obj, "text", required=False)
    if text is not None and len(text) > MAX_TEXT_CHARS:
        raise EventError(f"field 'text' holds {len(text)} characters "
                         f"(at most {MAX_TEXT_CHARS})")
    if text is None and not encrypted:
        raise EventError("missing field 'text' (or \"encrypted\": true)")
    html = _str(obj, "formatted_body", required=False)
    if html is None:
        html = _str(obj, "html", required=False)
    if html is not None and len(html) > MAX_TEXT_CHARS:
        raise EventError(f"the HTML body holds {len(html)} characters "
                         f"(at most {MAX_TEXT_CHARS})")
    if encrypted:
        text = None
        html = None
    return MessageEvent(
        ts=_ts(obj) or 0.0,
        id=_str(obj, "id") or "",
        sender=_str(obj, "sender") or "",
        recipients=tuple(dict.fromkeys(recipients)),
        text=text,
        room=_str(obj, "room", required=False),
        encrypted=encrypted,
        html=html,
        device=_name(obj, "device"),
        size=_size(obj),
        label=_label(obj, required=False),
    )


def _report_text(obj: Mapping[str, Any]) -> str | None:
    text = _str(obj, "text", required=False)
    if text is not None and len(text) > MAX_TEXT_CHARS:
        raise EventError(f"field 'text' holds {len(text)} characters "
                         f"(at most {MAX_TEXT_CHARS})")
    return text or None


_KINDS = frozenset({"message", "account", "contact", "login", "report", "unlock", "truth",
                    "feedback"})


def parse_event(obj: Any) -> Event:
    """Build an event from a decoded JSON object; raise :class:`EventError` if malformed."""
    if not isinstance(obj, Mapping):
        raise EventError(f"an event must be a JSON object, got {type(obj).__name__}")
    kind = obj.get("type")
    if not isinstance(kind, str):
        raise EventError("missing or non-string field 'type'")
    if kind not in _KINDS:
        raise UnknownEventType(f"unknown event type {kind!r:.60}")
    ts = _ts(obj) or 0.0
    if kind == "message":
        return _message(obj)
    if kind == "account":
        return AccountEvent(ts, _str(obj, "user") or "", _ts(obj, "created_ts", required=False))
    if kind == "contact":
        op = obj.get("op", "add")
        if op not in ("add", "remove"):
            raise EventError(f"field 'op' must be 'add' or 'remove', got {op!r:.60}")
        return ContactEvent(ts, _str(obj, "user") or "", _str(obj, "contact") or "", op)
    if kind == "login":
        return LoginEvent(
            ts,
            _str(obj, "user") or "",
            _str(obj, "ip", required=False),
            _name(obj, "device"),
            _bool(obj, "ok", True),
            _name(obj, "client"),
        )
    if kind == "report":
        return ReportEvent(
            ts, _str(obj, "reporter") or "", _str(obj, "message_id") or "",
            _label(obj, required=True) or "spam", _bool(obj, "moderator", False),
            _str(obj, "sender", required=False) or None,
            _report_text(obj), _name(obj, "reason"),
        )
    if kind == "feedback":
        op = obj.get("op", "block")
        if op not in FEEDBACK_OPS:
            raise EventError(f"field 'op' must be one of {', '.join(FEEDBACK_OPS)}, "
                             f"got {op!r:.60}")
        return FeedbackEvent(ts, _str(obj, "user") or "", _str(obj, "sender") or "", op,
                             _str(obj, "room", required=False))
    if kind == "unlock":
        return UnlockEvent(ts, _str(obj, "user") or "")
    if kind == "truth":
        comp = obj.get("compromised")
        if not isinstance(comp, bool):
            raise EventError("field 'compromised' must be true or false")
        return TruthEvent(ts, _str(obj, "user") or "", comp)
    raise UnknownEventType(f"unknown event type {kind!r:.60}")
