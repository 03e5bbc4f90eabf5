"""The Synapse module: spimguard's verdicts as Matrix answers.

Loaded by Synapse from ``homeserver.yaml`` (see the package docstring). What
each verdict means in Matrix:

* allow, warn: delivered; warn also posts an ``m.notice`` after the message
  (sent from the sender's account, marked ``org.spimguard.notice``);
* hold: refused with ``M_FORBIDDEN`` and queued for review (``held.jsonl``);
* block: refused with ``M_FORBIDDEN``; the answer carries
  ``org.spimguard.action`` and ``org.spimguard.reason`` so the client can say why;
* an account locked: its messages and invites are refused from then on, and it
  is suspended (or shadow-banned) through Synapse's admin API;
* a campaign taken down: its delivered copies are redacted.

Every callback catches everything: an exception would reach the sender as an
HTTP 500. On any failure the module logs one line and follows ``fail_mode``
(``open``: deliver; ``closed``: refuse with ``org.spimguard.action: unavailable``).
Synapse runs on Twisted, not asyncio: remote calls use Synapse's HTTP client
with a Twisted timeout.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection
from typing import Any, Literal

from synapse.logging.context import make_deferred_yieldable, run_in_background
from synapse.module_api import NOT_SPAM, ModuleApi
from synapse.module_api.errors import Codes
from synapse.spam_checker_api import RegistrationBehaviour
from twisted.internet import reactor

from spimguard.core.events import (
    AccountEvent,
    ContactEvent,
    Event,
    MessageEvent,
    ReportEvent,
    UnlockEvent,
)
from spimguard.interfaces.synapse.actions import AdminActions
from spimguard.interfaces.synapse.backends import Backend, EmbeddedBackend, RemoteBackend
from spimguard.interfaces.synapse.config import SynapseConfig, parse_config
from spimguard.interfaces.synapse.events import (
    MESSAGE_TYPES,
    login_from_request,
    message_from_event,
    recipients_of,
    sending_device,
)
from spimguard.interfaces.synapse.feedback import FeedbackHooks
from spimguard.interfaces.synapse.limits import Window
from spimguard.interfaces.synapse.review import ReviewQueue
from spimguard.interfaces.synapse.rooms import NOTICE, post_notice, queue_for_review, take_down
from spimguard.interfaces.synapse.web import (
    ACCOUNTS_PATH,
    REVIEW_PATH,
    AccountsResource,
    ReviewResource,
)

__all__ = ["SpimguardModule"]

log = logging.getLogger("spimguard.synapse")

ACTION = "org.spimguard.action"
REASON = "org.spimguard.reason"
SIGNALS = "org.spimguard.signals"
RELEASED = "org.spimguard.released"
#: Delivered events remembered (room, sender) so a campaign's copies can be redacted.
REMEMBER_EVENTS = 100_000
#: Contact pairs already told to the engine (each is told once per process).
REMEMBER_CONTACTS = 200_000
#: Room member lists are kept this many seconds (a local membership change drops them
#: at once; remote members joining a federated room are seen within this time).
MEMBERS_TTL = 30.0
REMEMBER_ROOMS = 20_000

Refusal = tuple[Codes, dict[str, Any]]
Answer = Literal["NOT_SPAM"] | Refusal


class SpimguardModule:
    def __init__(self, config: SynapseConfig, api: ModuleApi) -> None:
        self.config = config
        self.api = api
        self.backend: Backend = (EmbeddedBackend(config) if config.mode == "embedded"
                                 else RemoteBackend(config, self._post))
        self._headers = ({b"Authorization": [f"Bearer {config.api_key}".encode()]}
                         if config.api_key else None)
        self._events: OrderedDict[str, tuple[str, str]] = OrderedDict()
        self._contacts: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._rooms: OrderedDict[str, tuple[float, dict[str, str]]] = OrderedDict()
        self._taken_down: set[str] = set()
        self.admin = AdminActions(api, config, api.get_qualified_user_id(config.bot_user))
        #: Single-use marks of the events the module sends itself (notices, released
        #: messages): checked once, then forgotten, so a copy of one is checked as usual.
        self._own: set[str] = set()
        self.queue = ReviewQueue(config.data_dir)
        self.bot_id = api.get_qualified_user_id(config.bot_user)
        self._registrations = Window(3600.0)
        api.register_web_resource(REVIEW_PATH, ReviewResource(self))
        api.register_web_resource(ACCOUNTS_PATH, AccountsResource(self))
        api.register_account_validity_callbacks(on_user_registration=self.on_user_registration)
        self.feedback = FeedbackHooks(self)
        if config.poll_reports > 0:
            api.looping_background_call(self.feedback.poll_reports,
                                        config.poll_reports * 1000.0, desc="spimguard_reports")
        api.register_third_party_rules_callbacks(on_new_event=self.feedback.on_new_event)
        api.register_account_data_callbacks(
            on_account_data_updated=self.feedback.on_account_data)
        api.register_spam_checker_callbacks(
            check_event_for_spam=self.check_event_for_spam,
            check_login_for_spam=self.check_login_for_spam,
            check_registration_for_spam=self.check_registration_for_spam,
            user_may_invite=self.user_may_invite,
            user_may_join_room=self.user_may_join_room,
        )
        log.info("spimguard: %s mode, fail %s", config.mode, config.fail_mode)

    @staticmethod
    def parse_config(config: Any) -> SynapseConfig:
        return parse_config(config)

    # -- callbacks ----------------------------------------------------------------

    async def check_event_for_spam(self, event: Any) -> Answer:
        try:
            if event.type == "m.room.member":
                self._rooms.pop(event.room_id, None)  # membership changes: read it again
                return NOT_SPAM
            if (event.type not in MESSAGE_TYPES or not self.api.is_mine(event.sender)
                    or event.sender == self.bot_id or self._is_own(event.content)):
                return NOT_SPAM
            members = await self._members(event.room_id)
            await self._learn_contacts(event.sender, members)
            message = message_from_event(event.type, event.event_id, event.sender,
                                         event.room_id, event.content,
                                         getattr(event, "origin_server_ts", None),
                                         recipients_of(members, event.sender), time.time(),
                                         device=sending_device(event))
            if message is None:
                return NOT_SPAM
            verdict = await self.backend.check(message)
            return await self._enforce(message, verdict, event.content)
        except Exception as e:  # never a 500 for the sender
            return self._failed("check the message", getattr(event, "event_id", "?"), e)

    async def check_login_for_spam(self, user_id: str, device_id: str | None,
                                   initial_display_name: str | None,
                                   request_info: Collection[tuple[str | None, str]],
                                   auth_provider_id: str | None = None) -> Any:
        try:
            await self.backend.observe([login_from_request(
                user_id, device_id, initial_display_name, request_info, time.time())])
        except Exception as e:
            log.warning("spimguard: could not record the login of %s (%s: %s)", user_id,
                        type(e).__name__, e)
        return NOT_SPAM  # logins are evidence, not refused: the owner must be able to log in

    async def check_registration_for_spam(self, email_threepid: dict[str, Any] | None,
                                          username: str | None,
                                          request_info: Collection[tuple[str, str]],
                                          auth_provider_id: str | None = None
                                          ) -> RegistrationBehaviour:
        """Registration floods from one IP (throwaway accounts for a campaign) are let in
        but shadow-banned: their messages seem sent and reach no one. Nothing is recorded
        about the account here: Synapse asks before it knows the name is free, and a
        failed attempt on an existing name must not make that account look new."""
        try:
            limit = self.config.registrations_per_ip_hour
            pairs = list(request_info)
            ip = pairs[-1][1] if pairs else None
            if limit and ip and self._registrations.take(ip, time.time()) > limit:
                log.warning("spimguard: registration of %s from %s shadow-banned (over %d "
                            "registrations an hour from that address)", username, ip, limit)
                return RegistrationBehaviour.SHADOW_BAN
        except Exception as e:
            log.warning("spimguard: could not check the registration of %s (%s: %s)",
                        username, type(e).__name__, e)
        return RegistrationBehaviour.ALLOW

    async def on_user_registration(self, user_id: str) -> None:
        """The account exists: its age feeds the young-account signals."""
        try:
            now = time.time()
            await self.backend.observe([AccountEvent(ts=now, user=user_id, created_ts=now)])
        except Exception as e:
            log.warning("spimguard: could not record the registration of %s (%s: %s)",
                        user_id, type(e).__name__, e)

    async def user_may_invite(self, inviter: str, invitee: str, room_id: str) -> Answer:
        """An invite is outreach: judged like a message without text (fan-out, strangers,
        rate, a locked account), so invite spam from strangers is refused. An invite
        cannot carry a warning, so "warn" already refuses it."""
        try:
            if not self.config.check_invites or not self.api.is_mine(inviter) or \
                    self.bot_id in (inviter, invitee):
                return NOT_SPAM
            # no text to read: "encrypted" in the spec's sense (behaviour signals only)
            message = MessageEvent(ts=time.time(), id=f"invite:{room_id}:{invitee}",
                                   sender=inviter, recipients=(invitee,), room=room_id,
                                   encrypted=True)
            verdict = await self.backend.check(message)
            if verdict.get("action") in ("warn", "hold", "block"):
                return self._refusal(verdict, "invite")
            return NOT_SPAM
        except Exception as e:
            return self._failed("check the invite", f"{inviter} -> {invitee}", e)

    async def user_may_join_room(self, user_id: str, room_id: str,
                                 is_invited: bool) -> Answer:
        """Joining a direct chat makes its members contacts (the engine's contact graph)."""
        try:
            if is_invited and self.api.is_mine(user_id):
                members = await self._members(room_id)
                members[user_id] = "join"
                await self._learn_contacts(user_id, members)
        except Exception as e:
            log.warning("spimguard: could not learn contacts of %s in %s (%s: %s)", user_id,
                        room_id, type(e).__name__, e)
        return NOT_SPAM

    async def unlock(self, user: str, moderator: str) -> None:
        """A moderator's unlock: the engine forgets the lock or challenge, and a suspension
        (or shadow-ban) that the lock applied is lifted."""
        await self.backend.observe([UnlockEvent(time.time(), user)])
        await self.admin.unlock(user)
        log.warning("spimguard: %s unlocked %s", moderator, user)

    # -- verdicts as Matrix answers ----------------------------------------------------

    async def _enforce(self, message: MessageEvent, verdict: dict[str, Any],
                       content: Any = None) -> Answer:
        action = verdict.get("action")
        names = {s.get("name") for s in verdict.get("signals", [])}
        session = verdict.get("session")
        if isinstance(session, str) and verdict.get("account_action") == "challenge":
            # a hijacked session: log that device out now (inline, then refuse: deleting
            # it and delivering the event would fail Synapse's write of the event)
            try:
                await self.admin.logout(message.sender, session)
            except Exception as e:
                log.error("spimguard: could not log out device %s of %s (%s: %s)", session,
                          message.sender, type(e).__name__, e)
        if verdict.get("account_action") == "lock" or "ACCOUNT_LOCKED" in names:
            self._background("spimguard_lock", self.admin.lock, message.sender)
        else:
            self.admin.suspended.discard(message.sender)  # unlocked since: may lock again
        cid = verdict.get("campaign")
        if isinstance(cid, str) and self.config.redact_campaigns and \
                cid not in self._taken_down and \
                ("CAMPAIGN_TAKEDOWN" in names or await self.backend.campaign_is_spam(cid)):
            self._taken_down.add(cid)
            self._background("spimguard_takedown", take_down, self, cid)
        if action in ("allow", "warn"):
            self._remember(message)
            if action == "warn" and self.config.warn_notice:
                self._background("spimguard_notice", post_notice, self, message, verdict)
            return NOT_SPAM
        if action == "hold" and content is not None:
            queue_for_review(self, message, verdict, content)
        return self._refusal(verdict, "message")

    def _refusal(self, verdict: dict[str, Any], what: str) -> Refusal:
        signals = verdict.get("signals", [])
        reason = "; ".join(f"{s.get('name')}: {s.get('detail')}" for s in signals[:3])
        action = verdict.get("action", "block")
        text = "held for review" if action == "hold" else "refused"
        return (Codes.FORBIDDEN, {ACTION: action,
                                  REASON: f"spimguard: {what} {text} ({reason})"[:1000],
                                  SIGNALS: [s.get("name") for s in signals][:20]})

    def _failed(self, doing: str, what: str, e: BaseException) -> Answer:
        closed = self.config.fail_mode == "closed"
        log.error("spimguard: could not %s %s (%s: %s); %s (fail_mode=%s)", doing, what,
                  type(e).__name__, e, "refusing it" if closed else "letting it through",
                  self.config.fail_mode)
        if closed:
            return (Codes.FORBIDDEN, {ACTION: "unavailable",
                                      REASON: "spimguard: the spam check is unavailable"})
        return NOT_SPAM

    # -- room membership and contacts ----------------------------------------------------

    async def _members(self, room_id: str) -> dict[str, str]:
        """User id -> membership (a copy), from Synapse at most every ``MEMBERS_TTL`` s."""
        now = time.monotonic()
        hit = self._rooms.get(room_id)
        if hit is not None and now - hit[0] < MEMBERS_TTL:
            return dict(hit[1])
        members = await self._read_members(room_id)
        self._bounded(self._rooms, room_id, (now, members), REMEMBER_ROOMS)
        return dict(members)

    async def _read_members(self, room_id: str) -> dict[str, str]:
        state = await self.api.get_room_state(room_id, [("m.room.member", None)])
        out: dict[str, str] = {}
        for (etype, key), ev in state.items():
            if etype == "m.room.member" and key != self.bot_id:
                membership = ev.content.get("membership")
                if isinstance(membership, str):
                    out[key] = membership
        return out

    async def _learn_contacts(self, user: str, members: dict[str, str]) -> None:
        """Members of a direct chat who have both joined are contacts. Only joined: an
        invite is not accepted yet, and a spammer would otherwise become the contact of
        every stranger it invites."""
        joined = [u for u, m in members.items() if m == "join"]
        if not 2 <= len(joined) <= self.config.dm_max_members:
            return
        now = time.time()
        new: list[Event] = []
        for other in joined:
            if other == user:
                continue
            for a, b in ((user, other), (other, user)):
                if (a, b) not in self._contacts:
                    self._bounded(self._contacts, (a, b), None, REMEMBER_CONTACTS)
                    new.append(ContactEvent(ts=now, user=a, contact=b))
        if new:
            await self.backend.observe(new)

    # -- actions ------------------------------------------------------------------------

    def _remember(self, message: MessageEvent) -> None:
        if message.room is not None:
            self._bounded(self._events, message.id, (message.room, message.sender),
                          REMEMBER_EVENTS)

    def _mark(self) -> str:
        mark = secrets.token_urlsafe(16)
        self._own.add(mark)
        return mark

    def _is_own(self, content: Any) -> bool:
        """An event the module itself is sending (its mark is consumed here)."""
        for field in (NOTICE, RELEASED):
            tag = content.get(field) if hasattr(content, "get") else None
            mark = tag.get("mark") if tag is not None and hasattr(tag, "get") else None
            if isinstance(mark, str) and mark in self._own:
                self._own.discard(mark)
                return True
        return False

    async def decide(self, event_id: str, decision: str, moderator: str) -> dict[str, Any]:
        """Release (send it as it was, and teach the engine it was ham) or dismiss (spam)."""
        record = self.queue.decide(event_id, decision, moderator)
        if decision == "release":
            content = dict(record.get("content") or {"msgtype": "m.text",
                                                     "body": record.get("body") or ""})
            content[RELEASED] = {"event_id": event_id, "moderator": moderator,
                                 "mark": self._mark()}
            await self.api.create_and_send_event_into_room({
                "type": "m.room.message", "room_id": record["room_id"],
                "sender": record["sender"], "content": content})
        await self.backend.report(ReportEvent(
            ts=time.time(), reporter=moderator, message_id=event_id,
            label="ham" if decision == "release" else "spam", moderator=True,
            sender=record.get("sender")))
        log.info("spimguard: %s %sd held message %s", moderator, decision, event_id)
        return record

    # -- plumbing -------------------------------------------------------------------------

    async def _post(self, url: str, body: Any) -> Any:
        """Synapse's HTTP client with a Twisted timeout (asyncio's would not run here)."""
        d = run_in_background(self.api.http_client.post_json_get_json, url, body,
                              headers=self._headers)
        d.addTimeout(self.config.timeout, reactor)
        return await make_deferred_yieldable(d)

    def _background(self, desc: Any, func: Callable[..., Awaitable[None]], *args: Any) -> None:
        async def guarded() -> None:
            try:
                await func(*args)
            except Exception as e:
                log.error("spimguard: %s failed (%s: %s)", desc, type(e).__name__, e)

        self.api.run_as_background_process(desc, guarded, bg_start_span=False)

    @staticmethod
    def _bounded(store: OrderedDict[Any, Any], key: Any, value: Any, limit: int) -> None:
        store[key] = value
        store.move_to_end(key)
        if len(store) > limit:
            store.popitem(last=False)
