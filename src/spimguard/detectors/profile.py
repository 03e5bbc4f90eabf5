"""Profile deviation: a message unlike everything its sender usually sends.

This detector also *owns* the behaviour state: in ``observe`` it learns each
account's profile (``spimguard.state.profiles``) from messages, logins and
account events, and each user's contact list from contact events. The other
behaviour detectors only read that state, through the store.

Scoring follows COMPA (Egele et al., NDSS 2013): each feature that breaks the
sender's habit adds to the strength, and the detail names them. Accounts with
too little history are not judged (no profile yet is not a deviation).
A login from a new device is the session detector's (``NEW_SESSION``).
Blind spot: an attacker who writes at the owner's usual hour, to the owner's
usual friends, without links, in the same language, looks like the owner.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from spimguard.core.context import MessageContext
from spimguard.core.events import AccountEvent, ContactEvent, Event, LoginEvent, MessageEvent
from spimguard.core.signals import Abstain, Hit, SignalSpec
from spimguard.detectors.base import DetectorBase
from spimguard.detectors.shared import message_domains
from spimguard.state.base import Store
from spimguard.state.profiles import (
    PROFILE_TTL,
    AccountProfile,
    ContactList,
    contacts_key,
    contacts_of,
    profile_key,
    profile_of,
)

__all__ = ["ProfileDetector", "contacts_of", "profile_of"]

#: Messages an account must have sent before deviations count.
MIN_HISTORY = 15
#: A recipient not messaged for this long counts as dormant (seconds).
DORMANT = 30 * 86400.0
#: Contact lists longer than this are truncated (platform limits are similar).
MAX_CONTACTS = 5000


_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_ASCII_LETTER = re.compile(r"[A-Za-z]")


def _scripts(text: str) -> set[str]:
    """Scripts of the letters in the text's head; regex scans keep ASCII text ~1 µs."""
    head = text[:400]
    out = {"LATIN"} if _ASCII_LETTER.search(head) else set()
    if head.isascii():
        return out
    for ch in set(_NON_ASCII.findall(head)):
        if ch.isalpha():
            out.add(unicodedata.name(ch, "OTHER ?").split(" ", 1)[0])
    return out


class ProfileDetector(DetectorBase):
    name = "profile"
    signals = (
        SignalSpec("PROFILE_DEVIATION", 4.0, "The message breaks its sender's own habits "
                   "(hour, recipients, links and domains, length, script); "
                   "0.25 per deviating feature, up to 1. Only for accounts with history."),
    )

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> ProfileDetector:
        return cls()

    def __init__(self) -> None:
        #: (message id, domains, scripts) computed in check, learned in observe.
        #: (message id, domains, scripts, the sender's profile as read in check),
        #: learned in observe without decoding the profile a second time.
        self._pending: tuple[str, tuple[str, ...], set[str], AccountProfile | None] | None = None

    def prefetch(self, message: MessageEvent) -> list[str]:
        return [profile_key(message.sender)]

    def check(self, ctx: MessageContext) -> Iterable[Hit]:
        msg = ctx.message
        domains = message_domains(ctx)
        scripts = _scripts(ctx.text.clean) if ctx.text is not None else set()
        prof = profile_of(ctx.store, msg.sender, ctx.now, ctx.memo)
        self._pending = (msg.id, domains, scripts, prof)
        if prof is None or prof.messages < MIN_HISTORY:
            raise Abstain("not enough history")
        odd: list[str] = []
        if prof.hour_share(ctx.now) < 0.01:
            odd.append(f"unusual hour ({int(ctx.now // 3600) % 24}h UTC)")
        dormant = [r for r in msg.recipients[:200]
                   if ctx.now - (prof.last_wrote(r) or -1e18) > DORMANT]
        if dormant and len(dormant) * 2 >= len(msg.recipients[:200]):
            odd.append("recipients it rarely writes to")
        if domains and prof.link_rate < 0.1:
            odd.append("a link, which it seldom sends")
        elif domains and not any(prof.knows_domain(d) for d in domains):
            odd.append(f"a new domain ({domains[0]})")
        if ctx.text is not None:
            if prof.length_z(len(ctx.text.clean)) > 3.0:
                odd.append("much longer than usual")
            new_scripts = prof.new_scripts(scripts)
            if new_scripts:
                odd.append(f"a new script ({', '.join(new_scripts).lower()})")
        if len(odd) < 2:
            return ()
        return (Hit("PROFILE_DEVIATION", min(1.0, 0.25 * len(odd)),
                    f"{msg.sender}: " + "; ".join(odd)),)

    # -- learning --------------------------------------------------------------

    def observe(self, event: Event, now: float) -> None:
        store = self.store
        if store is None:
            return
        if isinstance(event, MessageEvent):
            self._learn_message(store, event, now)
        elif isinstance(event, LoginEvent) and event.ok:
            prof = self._profile(store, event.user, now)
            prof.learn_login(now, event.ip, event.device)
            store.set(profile_key(event.user), prof.to_bytes(), now, PROFILE_TTL)
        elif isinstance(event, AccountEvent):
            prof = self._profile(store, event.user, now)
            prof.created_ts = event.created_ts if event.created_ts is not None else now
            store.set(profile_key(event.user), prof.to_bytes(), now, PROFILE_TTL)
        elif isinstance(event, ContactEvent):
            contacts = contacts_of(store, event.user, now) or ContactList()
            if event.op == "add" and len(contacts) < MAX_CONTACTS:
                contacts.add(event.contact)
            elif event.op == "remove":
                contacts.discard(event.contact)
            store.set(contacts_key(event.user), contacts.to_bytes(), now, PROFILE_TTL)

    def _profile(self, store: Store, user: str, now: float) -> AccountProfile:
        return profile_of(store, user, now) or AccountProfile()

    def _learn_message(self, store: Store, msg: MessageEvent, now: float) -> None:
        text = msg.text or ""
        pending = self._pending
        if pending is not None and pending[0] == msg.id:
            _, domains, scripts, prof = pending
            if prof is None:
                prof = AccountProfile()
        else:  # a message this engine did not check: learn what is cheap to learn
            domains, scripts = (), _scripts(text)
            prof = self._profile(store, msg.sender, now)
        self._pending = None
        prof.learn_message(now, msg.recipients, len(text), domains, scripts)
        store.set(profile_key(msg.sender), prof.to_bytes(), now, PROFILE_TTL)

