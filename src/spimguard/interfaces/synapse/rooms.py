"""What the module does in rooms: redact a campaign's copies, post a warning notice,
queue a held message for review.

Functions of the module rather than methods, to keep ``module.py`` to the
callbacks and the verdict-to-answer mapping.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from synapse.util.frozenutils import unfreeze

from spimguard.core.events import MessageEvent

if TYPE_CHECKING:
    from spimguard.interfaces.synapse.module import SpimguardModule

__all__ = ["NOTICE", "bot_in_room", "post_notice", "queue_for_review", "take_down"]

log = logging.getLogger("spimguard.synapse")

#: Marks the notices the module posts (and lets it skip checking them).
NOTICE = "org.spimguard.notice"


async def take_down(module: SpimguardModule, campaign: str) -> None:
    ids = await module.backend.takedown(campaign)
    redacted = 0
    for event_id in ids:
        where = module._events.pop(event_id, None)
        if where is None:
            continue  # delivered by another worker, or forgotten
        room, sender = where
        try:
            await module.api.create_and_send_event_into_room({
                "type": "m.room.redaction", "room_id": room, "sender": sender,
                "redacts": event_id,
                "content": {"redacts": event_id,
                            "reason": f"spimguard: spam campaign {campaign}"}})
            redacted += 1
        except Exception as e:
            log.warning("spimguard: could not redact %s (%s: %s)", event_id,
                        type(e).__name__, e)
    log.info("spimguard: campaign %s taken down; %d delivered copies redacted",
             campaign, redacted)


async def post_notice(module: SpimguardModule, message: MessageEvent,
                      verdict: dict[str, Any]) -> None:
    await module.api.sleep(0.05)  # after the message itself is in the room
    names = ", ".join(s.get("name", "?") for s in verdict.get("signals", [])[:3])
    body = ("\u26a0\ufe0f spimguard: the message above may be spam or phishing "
            f"({names}). Do not open links or share codes you did not expect.")
    sender = message.sender
    if module.config.notice_from == "bot" and message.room is not None:
        await bot_in_room(module, message.room, message.sender)
        sender = module.bot_id
    await module.api.create_and_send_event_into_room({
        "type": "m.room.message", "room_id": message.room, "sender": sender,
        "content": {"msgtype": "m.notice", "body": body,
                    "m.relates_to": {"m.in_reply_to": {"event_id": message.id}},
                    NOTICE: {"event_id": message.id, "mark": module._mark()}}})


async def bot_in_room(module: SpimguardModule, room_id: str, inviter: str) -> None:
    """The bot joins the room (invited by a member) unless it is in it already."""
    state = await module.api.get_room_state(room_id, [("m.room.member", module.bot_id)])
    own = state.get(("m.room.member", module.bot_id))
    if own is not None and own.content.get("membership") == "join":
        return
    await module.admin.token()  # the bot user exists from here on
    await module.api.update_room_membership(inviter, module.bot_id, room_id, "invite")
    await module.api.update_room_membership(module.bot_id, module.bot_id, room_id, "join")


def queue_for_review(module: SpimguardModule, message: MessageEvent, verdict: dict[str, Any],
                      content: Any) -> None:
    """Into the review queue (``data_dir/held.jsonl``), with the original content so a
    moderator can release the message as it was sent."""
    try:
        module.queue.add({"ts": message.ts, "event_id": message.id, "room_id": message.room,
                        "sender": message.sender, "recipients": list(message.recipients),
                        "body": message.text, "formatted_body": message.html,
                        "content": unfreeze(content), "verdict": verdict})
    except (OSError, TypeError, ValueError) as e:
        log.error("spimguard: could not queue %s for review (%s)", message.id, e)

# -- moderators: the review queue over HTTP ------------------------------------------
