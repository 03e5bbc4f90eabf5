"""Strangers and young accounts: links to people who never added the sender.

Spam bots message strangers; friends message friends. A message with a link
to recipients none of whom has the sender as a contact (or, where the
platform reports no contact lists, has ever written to the sender) is
``STRANGER_LINK``. ``YOUNG_ACCOUNT`` weighs how new the sending account is
(from its ``account`` event), fading over a week.

Blind spot: a compromised account is no stranger to its victims; that case
is fan-out's and the profile's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from spimguard.core.context import MessageContext
from spimguard.core.events import MessageEvent
from spimguard.core.signals import Abstain, Hit, SignalSpec
from spimguard.detectors.base import DetectorBase
from spimguard.detectors.shared import message_domains
from spimguard.state.profiles import contacts_key, contacts_of, profile_key, profile_of

__all__ = ["StrangerDetector"]

YOUNG = 7 * 86400.0
#: Messages after which a sender counts as established (STRANGER_LINK halves).
ESTABLISHED = 30
#: Recipients inspected per message (a 100,000-recipient message is judged on these).
MAX_CHECKED = 50


class StrangerDetector(DetectorBase):
    name = "stranger"
    signals = (
        SignalSpec("STRANGER_LINK", 4.0, "A link sent to people none of whom has the sender "
                   "as a contact (or has ever written to the sender); half strength from an "
                   "established sender (30+ messages)."),
        SignalSpec("YOUNG_ACCOUNT", 2.0, "The sending account is new: strength 1 in its first "
                   "hour, fading to 0 at 7 days (needs an account event with created_ts)."),
    )

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> StrangerDetector:
        return cls()

    def prefetch(self, message: MessageEvent) -> list[str]:
        keys = [profile_key(message.sender)]
        for r in message.recipients[:MAX_CHECKED]:
            keys += [contacts_key(r), profile_key(r)]
        return keys

    def check(self, ctx: MessageContext) -> Iterable[Hit]:
        msg = ctx.message
        hits: list[Hit] = []
        prof = profile_of(ctx.store, msg.sender, ctx.now, ctx.memo)
        if prof is not None and prof.created_ts is not None:
            age = max(ctx.now - prof.created_ts, 0.0)
            if age < YOUNG:
                strength = 1.0 if age < 3600 else 1.0 - age / YOUNG
                hits.append(Hit("YOUNG_ACCOUNT", strength,
                                f"account created {_age(age)} ago"))
        if ctx.text is None:
            if not hits:
                raise Abstain("no readable text (encrypted)")
            return hits
        if not message_domains(ctx):
            return hits
        strangers = 0
        checked = msg.recipients[:MAX_CHECKED]
        for r in checked:
            contacts = contacts_of(ctx.store, r, ctx.now)
            if contacts is not None and msg.sender in contacts:
                continue
            rp = profile_of(ctx.store, r, ctx.now, ctx.memo)
            if rp is not None and rp.last_wrote(msg.sender) is not None:
                continue  # they have written to the sender: not a stranger
            strangers += 1
        if checked and strangers == len(checked):
            # An established account meeting someone new with a link is ordinary
            # life; a fresh or silent account doing it is what bots do.
            established = prof is not None and prof.messages >= ESTABLISHED
            hits.append(Hit("STRANGER_LINK", 0.5 if established else 1.0,
                            f"link to {strangers} people who never added {msg.sender}"
                            + (" (an established sender)" if established else "")))
        return hits


def _age(seconds: float) -> str:
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.1f} days"
