"""Matrix events as spimguard events.

A Matrix message goes to a room; spimguard judges a message to people, so
the recipients are the room's other joined (and invited) members. The event
id is the message id, so reports, campaigns and redactions all speak of the
same thing. Encrypted events cannot be read: they become messages without
text, which only the behaviour detectors (fan-out, rate, profile) judge.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from spimguard.core.events import LoginEvent, MessageEvent
from spimguard.text.compat import repair_surrogates

__all__ = ["MESSAGE_TYPES", "login_from_request", "message_from_event", "recipients_of"]

#: Event types that carry what a user says to others.
MESSAGE_TYPES = ("m.room.message", "m.room.encrypted")
#: Message bodies longer than this are cut (the engine analyses 64 K characters).
MAX_BODY = 100_000


def recipients_of(members: Mapping[str, str], sender: str) -> tuple[str, ...]:
    """Members (user id -> membership) who will see the message."""
    return tuple(sorted(u for u, m in members.items()
                        if u != sender and m in ("join", "invite")))


def message_from_event(event_type: str, event_id: str, sender: str, room_id: str,
                       content: Mapping[str, Any], ts_ms: float | None,
                       recipients: Iterable[str], now: float) -> MessageEvent | None:
    """The spimguard message for a Matrix event, or None if it is not a message."""
    if event_type not in MESSAGE_TYPES:
        return None
    ts = ts_ms / 1000.0 if isinstance(ts_ms, int | float) and ts_ms > 0 else now
    if event_type == "m.room.encrypted":
        return MessageEvent(ts=ts, id=event_id, sender=sender, recipients=tuple(recipients),
                            room=room_id, encrypted=True)
    body = content.get("body")
    html = content.get("formatted_body") if content.get("format") == "org.matrix.custom.html" \
        else None
    if not isinstance(body, str):
        body = None
    if not isinstance(html, str):
        html = None
    if body is None and html is None:
        return None  # a reaction-like or malformed message: nothing to read
    return MessageEvent(ts=ts, id=event_id, sender=sender, recipients=tuple(recipients),
                        room=room_id, text=_clean(body), html=_clean(html))


def login_from_request(user_id: str, device_id: str | None, display_name: str | None,
                       request_info: Iterable[tuple[str | None, str]], now: float
                       ) -> LoginEvent:
    """A login: the client's user agent names the device (the new-device signals key on
    it); Synapse gives no device id yet for a new login."""
    pairs = list(request_info)
    agent, ip = pairs[-1] if pairs else (None, None)
    device = agent or display_name or device_id
    return LoginEvent(ts=now, user=user_id, ip=ip or None,
                      device=device[:512] if device else None)


def _clean(text: str | None) -> str | None:
    """Cut to the bound; lone surrogates (JSON from clients may hold them) become U+FFFD."""
    return None if text is None else repair_surrogates(text[:MAX_BODY])
