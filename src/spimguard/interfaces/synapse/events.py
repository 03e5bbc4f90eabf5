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

__all__ = ["MESSAGE_TYPES", "login_from_request", "message_from_event", "recipients_of",
           "sending_device"]

#: Event types that carry what a user says to others.
MESSAGE_TYPES = ("m.room.message", "m.room.encrypted")
#: Message bodies longer than this are cut (the engine analyses 64 K characters).
MAX_BODY = 100_000
MAX_DEVICE = 512


def recipients_of(members: Mapping[str, str], sender: str) -> tuple[str, ...]:
    """Members (user id -> membership) who will see the message."""
    return tuple(sorted(u for u, m in members.items()
                        if u != sender and m in ("join", "invite")))


def message_from_event(event_type: str, event_id: str, sender: str, room_id: str,
                       content: Mapping[str, Any], ts_ms: float | None,
                       recipients: Iterable[str], now: float,
                       device: str | None = None) -> MessageEvent | None:
    """The spimguard message for a Matrix event, or None if it is not a message.

    ``device`` is the sending device as Synapse knows it from the access token
    (``internal_metadata.device_id``), never the ``device_id`` an encrypted
    event's content claims: a client can write anything there."""
    if event_type not in MESSAGE_TYPES:
        return None
    ts = ts_ms / 1000.0 if isinstance(ts_ms, int | float) and ts_ms > 0 else now
    device = device[:MAX_DEVICE] if isinstance(device, str) and device else None
    if event_type == "m.room.encrypted":
        cipher = content.get("ciphertext")
        size = len(cipher) if isinstance(cipher, str) else None
        return MessageEvent(ts=ts, id=event_id, sender=sender, recipients=tuple(recipients),
                            room=room_id, encrypted=True, device=device, size=size)
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
                        room=room_id, text=_clean(body), html=_clean(html), device=device)


def sending_device(event: Any) -> str | None:
    """The device that sent a local event, as Synapse knows it from the access token
    (``internal_metadata.device_id``); None for events from elsewhere. Reading an unset
    field of Synapse's Rust metadata raises, so every read is guarded."""
    meta = getattr(event, "internal_metadata", None)
    try:
        device = getattr(meta, "device_id", None)
    except Exception:
        return None
    return device if isinstance(device, str) and device else None


def login_from_request(user_id: str, device_id: str | None, display_name: str | None,
                       request_info: Iterable[tuple[str | None, str]], now: float
                       ) -> LoginEvent:
    """A login. The device is what the client says it is: the device id when it chose
    one, else the display name it asked for (nio's ``device_name``, Element's "Element
    on Linux"); the user agent is the client. Two logins with the same user agent from
    the same address are still two devices (an attacker's client is often the owner's).
    Synapse assigns a new login's device id only after this call; the messages carry it
    (``internal_metadata.device_id``), and the session detector keys sessions on that."""
    pairs = list(request_info)
    agent, ip = pairs[-1] if pairs else (None, None)
    device = device_id or display_name or agent
    return LoginEvent(ts=now, user=user_id, ip=ip or None,
                      device=device[:MAX_DEVICE] if device else None,
                      client=agent[:MAX_DEVICE] if agent else None)


def _clean(text: str | None) -> str | None:
    """Cut to the bound; lone surrogates (JSON from clients may hold them) become U+FFFD."""
    return None if text is None else repair_surrogates(text[:MAX_BODY])
