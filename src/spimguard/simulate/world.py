"""The simulated network: users, contact lists, logins, ham traffic, and a clock.

Everything that happens is a task in one priority queue, ordered by (time,
insertion number), so the same seed always gives the same stream. Ham comes
from the backbone graph one edge at a time; attacks schedule their own tasks
(:mod:`spimguard.simulate.attacks`). Each event is passed, the moment it is
emitted, to an optional ``judge`` (the engine): whether a message is delivered
is known before anything that depends on it is scheduled, which is what makes
the loop closed. A message the enforced verdict holds or blocks reaches no one.

Contact lists grow from who talks to whom: the sender adds the recipient
before a first message, and the recipient adds the sender back once the
message was delivered (a stopped message introduces nobody). Pairs that talked
before the window start with both lists filled.

Identity is kept honest: message ids are hashes, attacker accounts get ids in
the graph's own style, and nothing but the ``label`` field and ``truth``
events tells ham from spam.
"""

from __future__ import annotations

import hashlib
import heapq
import random
import string
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from spimguard.core.verdicts import Action, Verdict
from spimguard.simulate.graph import Edge
from spimguard.simulate.identity import Identities, megolm_size
from spimguard.simulate.metrics import CompromiseRecord, KindStats
from spimguard.simulate.texts import HamPool

__all__ = ["Attack", "Delivery", "World", "WorldOptions"]

JsonEvent = dict[str, Any]
Judge = Callable[[JsonEvent], Verdict | None]

_BENIGN_LINKS = (
    "https://www.youtube.com/watch?v={id}", "https://youtu.be/{id}",
    "https://www.instagram.com/p/{id}/", "https://github.com/{id}/{id}",
    "https://en.wikipedia.org/wiki/{id}", "https://docs.google.com/document/d/{id}/edit",
    "https://open.spotify.com/track/{id}", "https://www.reddit.com/r/{id}/comments/{id}",
    "https://maps.google.com/?q={id}", "https://t.me/{id}",
)


@dataclass(frozen=True, slots=True)
class WorldOptions:
    """How ordinary users behave (attacks have their own settings)."""

    #: Share of users who chat in Russian (the rest in English).
    ru_share: float = 0.1
    #: Share of ham messages that carry an ordinary link (YouTube, Docs, ...).
    ham_link_share: float = 0.03
    #: An owner logs in again before a send when the last login is this old.
    relogin_hours: float = 20.0
    #: After an enforced account action on a real user's account, the owner
    #: re-authenticates (ending any compromise) and an ``unlock`` follows this
    #: many hours later; None: never.
    unlock_after_hours: float | None = 2.0
    #: Click probability multiplier for a message delivered with a warning.
    warn_click_factor: float = 1.0
    #: Share of conversations (pairs of users) that are end-to-end encrypted: their
    #: messages carry no text, only metadata (``--encrypted SHARE``).
    encrypted: float = 0.0
    #: Messages name the device id of the session that sent them (as Synapse does).
    devices: bool = True
    #: Share of an owner's logins from a new phone or browser (about one a month for
    #: someone who logs in every day or so), and from a network never used before.
    new_device_share: float = 0.01
    new_network_share: float = 0.05
    #: An owner asked to re-authenticate (a challenge of the account, or of the
    #: owner's own session) does so within this many minutes, and the challenge is
    #: lifted; a thief cannot, and stays out. Locks wait for ``unlock_after_hours``.
    challenge_pass_minutes: float = 5.0
    #: Chance that a recipient blocks the sender some minutes after receiving a
    #: message: spam (the lure of a friend, mostly not blocked) and ham.
    block_spam: float = 0.03
    block_ham: float = 0.0005


class Delivery(NamedTuple):
    recipients: tuple[str, ...]
    warned: bool


class Attack(Protocol):
    """An attack's settings; ``install`` schedules its first tasks in the world."""

    @property
    def kind(self) -> str:
        """The attack's name, as in ``ATTACKS`` and in the per-kind figures."""

    def install(self, world: World, rng: random.Random) -> None: ...


class World:
    def __init__(
        self,
        edges: Sequence[Edge],
        start: float,
        end: float,
        seed: int,
        ham: HamPool,
        options: WorldOptions | None = None,
        young_after: float | None = None,
        judge: Judge | None = None,
        enforce: bool = False,
        account_actioned: Callable[[str, float], bool] | None = None,
    ) -> None:
        """``edges`` before ``start`` are history (they only fill contact lists).

        ``young_after``: a user first seen after this time had just created the
        account (minutes to two days before); others are years old.
        ``account_actioned(user, now)`` says whether the engine has locked or
        challenged the account (the attacker is then logged out).
        """
        self.start, self.end, self.seed = start, end, seed
        self.ham = ham
        self.opt = options or WorldOptions()
        self._judge = judge
        self.enforce = enforce and judge is not None
        self._actioned = account_actioned
        self.now = start
        self._queue: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self._seq = 0
        self._out: list[JsonEvent] = []
        self._rng = random.Random(f"{seed}:world")
        self.contacts: dict[str, set[str]] = {}
        self.talks: dict[tuple[str, str], int] = {}
        self.compromised: dict[str, CompromiseRecord] = {}  # currently compromised
        self.records: list[CompromiseRecord] = []
        self.ever_compromised: set[str] = set()
        self.attacker_owned: set[str] = set()
        self.stats: dict[str, KindStats] = {}
        self._last_login: dict[str, float] = {}
        self.ids = Identities(seed, self.opt.new_device_share, self.opt.new_network_share,
                              self.opt.encrypted)
        #: Attackers logged out by a session-targeted action (until the unlock).
        self._logged_out: set[str] = set()
        self._unlock_pending: set[str] = set()
        self._counters: dict[str, int] = {}
        self._lang: dict[str, str] = {}
        self._edges = [e for e in edges if start <= e[2] < end]
        first_seen: dict[str, float] = {}
        for a, b, t in edges:
            if t >= end:
                break
            first_seen.setdefault(a, t)
            first_seen.setdefault(b, t)
            if t < start:
                self._history(a, b)
        self.users = sorted(first_seen, key=_user_order)
        self._created = {u: self._creation(u, t, young_after) for u, t in first_seen.items()}
        self._id_style_numeric = bool(self.users) and all(u.isdigit() for u in self.users)
        self._next_id = len(self.users)

    # -- the clock -----------------------------------------------------------

    def at(self, t: float, fn: Callable[..., None], *args: Any) -> None:
        """Run ``fn(*args)`` at time ``t`` (not before now); dropped past the end."""
        t = max(t, self.now)
        if t >= self.end:
            return
        self._seq += 1
        heapq.heappush(self._queue, (t, self._seq, fn, args))

    def run(self) -> Iterator[JsonEvent]:
        """Yield every event in time order, judging each as it is emitted."""
        self._begin()
        yield from self._flush()
        while self._queue:
            t, _, fn, args = heapq.heappop(self._queue)
            self.now = t
            fn(*args)
            yield from self._flush()

    def _flush(self) -> Iterator[JsonEvent]:
        out, self._out = self._out, []
        return iter(out)

    # -- users ---------------------------------------------------------------

    @property
    def real_users(self) -> list[str]:
        """Every user of the graph (history and window), in id order."""
        return self.users

    def existing_users(self) -> list[str]:
        """The graph's users whose accounts exist by now (attackers cannot reach the others)."""
        return [u for u in self.users if self._created[u] <= self.now]

    def language(self, user: str) -> str:
        lang = self._lang.get(user)
        if lang is None:
            r = random.Random(f"{self.seed}:lang:{user}").random()
            lang = self._lang[user] = "ru" if r < self.opt.ru_share else "en"
        return lang

    def contacts_of(self, user: str) -> list[str]:
        return sorted(self.contacts.get(user, ()), key=_user_order)

    def frequent_contacts(self, user: str, top: int, min_talks: int = 1) -> list[str]:
        """The contacts ``user`` exchanged the most messages with (at least ``min_talks``)."""
        scored = [(self.talks.get(_pair(user, c), 0), c) for c in self.contacts_of(user)]
        scored = [x for x in scored if x[0] >= min_talks]
        scored.sort(key=lambda x: -x[0])
        return [c for _, c in scored[:top]]

    def new_account_id(self) -> str:
        """A fresh id in the style of the graph's own ids (so names tell nothing)."""
        while True:
            self._next_id += 1
            n = self._next_id
            user = str(n) if self._id_style_numeric else f"u{n:04d}"
            if user not in self._created and user not in self.attacker_owned:
                return user

    def _creation(self, user: str, first: float, young_after: float | None) -> float:
        r = random.Random(f"{self.seed}:created:{user}")
        if young_after is not None and first > young_after:
            return first - r.uniform(600.0, 2 * 86_400.0)
        return first - r.uniform(30, 1500) * 86_400.0

    # -- emitting events -----------------------------------------------------

    def _emit(self, event: JsonEvent) -> Verdict | None:
        verdict = self._judge(event) if self._judge is not None else None
        self._out.append(event)
        return verdict

    def emit_account(self, user: str, created_ts: float) -> None:
        self._emit({"type": "account", "ts": _t(self.now), "user": user,
                    "created_ts": _t(created_ts)})

    def attacker_account(self, created_ts: float) -> str:
        """A new account the attacker registered at ``created_ts``; returns its id.

        It is in the attacker's hands from birth, so a ``truth`` event says so
        at once (spec section 2), and an account action on it is never counted
        as a false positive. It does not count in the reach of a worm.
        """
        user = self.new_account_id()
        self.attacker_owned.add(user)
        self.emit_account(user, created_ts)
        self._emit({"type": "truth", "ts": _t(self.now), "user": user, "compromised": True})
        return user

    def owner_login(self, user: str) -> None:
        first = user not in self._last_login
        ip, client = self.ids.owner_login(user, self._rng, first)
        self._last_login[user] = self.now
        self._emit({"type": "login", "ts": _t(self.now), "user": user, "ip": ip,
                    "device": client})

    def attacker_login(self, user: str, rng: random.Random) -> None:
        """A login from an address and device the owner has never used."""
        ip, client = self.ids.attacker_login(user, rng)
        self._emit({"type": "login", "ts": _t(self.now), "user": user, "ip": ip,
                    "device": client})

    def add_contact(self, user: str, contact: str) -> None:
        """``user``'s buddy list gains ``contact`` (lists are directed), once."""
        if contact not in self.contacts.setdefault(user, set()):
            self.contacts[user].add(contact)
            self._emit({"type": "contact", "ts": _t(self.now), "user": user,
                        "contact": contact, "op": "add"})

    def send(self, sender: str, recipients: Sequence[str], text: str, label: str,
             kind: str) -> Delivery:
        """Emit a message; return who received it (nobody if the defence stopped it)."""
        n = self._counters.get(kind, 0)
        self._counters[kind] = n + 1
        digest = hashlib.blake2b(f"{self.seed}:{kind}:{n}".encode(), digest_size=8).hexdigest()
        event: JsonEvent = {"type": "message", "ts": _t(self.now), "id": f"m{digest}",
                            "sender": sender, "recipients": list(recipients), "text": text,
                            "label": label}
        device = self.ids.device(sender, attacker=label == "spam") if self.opt.devices \
            else None
        if device is not None:
            event["device"] = device
        if recipients and self.ids.is_encrypted(sender, recipients[0]):
            del event["text"]
            event["encrypted"] = True
            event["size"] = megolm_size(text)
        verdict = self._emit(event)
        st = self.stats.setdefault(kind, KindStats())
        st.sent += 1
        stopped = verdict is not None and verdict.action.stops
        warned = verdict is not None and verdict.action is Action.WARN
        st.stopped += stopped
        st.warned += warned
        rec = self.compromised.get(sender)
        if rec is not None and label == "spam":
            rec.spam_sent += 1
            if rec.first_action_ts is None:
                rec.spam_before_action += 1
        if verdict is not None and verdict.account_action is not None:
            self.on_account_action(sender, verdict.session, verdict.account_action.value)
        if stopped and self.enforce:
            return Delivery((), False)
        st.delivered += 1
        st.recipients += len(recipients)
        block = self.opt.block_spam if label == "spam" else self.opt.block_ham
        for r in recipients:
            if self._rng.random() < block:
                self.at(self.now + self._rng.uniform(60.0, 1800.0), self._block, r, sender)
        return Delivery(tuple(recipients), warned and self.enforce)

    def _block(self, user: str, sender: str) -> None:
        self._emit({"type": "feedback", "ts": _t(self.now), "user": user, "sender": sender,
                    "op": "block"})

    def click_factor(self, delivery: Delivery) -> float:
        return self.opt.warn_click_factor if delivery.warned else 1.0

    # -- compromise ----------------------------------------------------------

    def compromise(self, user: str, kind: str, seed: bool = False) -> bool:
        """The account falls (once in a simulation); False if it cannot."""
        if user in self.attacker_owned or user in self.ever_compromised:
            return False
        rec = CompromiseRecord(user, kind, self.now, seed)
        self.compromised[user] = rec
        self.ever_compromised.add(user)
        self.records.append(rec)
        self._emit({"type": "truth", "ts": _t(self.now), "user": user, "compromised": True})
        return True

    def recover(self, user: str) -> None:
        """The owner takes the account back; the attacker is out for good."""
        rec = self.compromised.pop(user, None)
        if rec is None:
            return
        rec.recovered_ts = self.now
        self._emit({"type": "truth", "ts": _t(self.now), "user": user, "compromised": False})

    def attacker_can_send(self, user: str) -> bool:
        """In the attacker's hands, and not locked or challenged by an enforcing engine."""
        if user not in self.compromised and user not in self.attacker_owned:
            return False
        if self.enforce and self._actioned is not None and self._actioned(user, self.now):
            return False
        return not (self.enforce and user in self._logged_out)

    def on_account_action(self, user: str, session: str | None = None,
                          action: str = "lock") -> None:
        """The engine acted on ``user``'s account (or only on ``session``)."""
        # a challenge of the owner's own session leaves the attacker in (until the owner
        # re-authenticates and the account is unlocked, below)
        if self.enforce and (session is None or session == self.ids.attacker_device(user)):
            self._logged_out.add(user)
        rec = self.compromised.get(user)
        if rec is not None and rec.first_action_ts is None:
            rec.first_action_ts = self.now
        if not self.enforce or user in self.attacker_owned or user in self._unlock_pending:
            return
        thief = user in self.compromised and (
            session is None or session == self.ids.attacker_device(user))
        if action == "challenge" and not thief:
            # the owner is there and re-authenticates: the challenge is lifted
            self._unlock_pending.add(user)
            self.at(self.now + self.opt.challenge_pass_minutes * 60.0, self._restore, user)
        elif self.opt.unlock_after_hours is not None:
            self._unlock_pending.add(user)
            self.at(self.now + self.opt.unlock_after_hours * 3600.0, self._restore, user)

    def _restore(self, user: str) -> None:
        self._unlock_pending.discard(user)
        self._logged_out.discard(user)
        self.recover(user)
        self._emit({"type": "unlock", "ts": _t(self.now), "user": user})

    # -- ham -----------------------------------------------------------------

    def _begin(self) -> None:
        later: list[str] = []
        for u in self.users:
            if self._created[u] <= self.start:
                self.emit_account(u, self._created[u])
            else:
                later.append(u)
        for u in self.users:
            for v in sorted(self.contacts.get(u, ()), key=_user_order):
                self._emit({"type": "contact", "ts": _t(self.now), "user": u, "contact": v,
                            "op": "add"})
        for u in self.users:
            if self._created[u] <= self.start:
                self.owner_login(u)
        for u in later:
            self.at(self._created[u], self._new_user, u)
        if self._edges:
            self.at(self._edges[0][2], self._ham, 0)

    def _new_user(self, user: str) -> None:
        self.emit_account(user, self.now)
        self.owner_login(user)

    def _ham(self, i: int) -> None:
        a, b, _ = self._edges[i]
        if self.now - self._last_login.get(a, -1e18) > self.opt.relogin_hours * 3600.0:
            self.owner_login(a)
        # You add someone to write to them; they add you back once they got it.
        self.add_contact(a, b)
        r = self._rng
        text = self.ham.draw(self.language(a), r)
        if r.random() < self.opt.ham_link_share:
            text = f"{text} {r.choice(_BENIGN_LINKS).replace('{id}', _token(r, 8))}"
        if self.send(a, [b], text, "ham", "ham").recipients:
            self.add_contact(b, a)
            self._talk(a, b)
        if i + 1 < len(self._edges):
            self.at(self._edges[i + 1][2], self._ham, i + 1)

    def _talk(self, a: str, b: str) -> None:
        key = _pair(a, b)
        self.talks[key] = self.talks.get(key, 0) + 1

    def _history(self, a: str, b: str) -> None:
        """Before the window: the pair talked, so both lists hold the other."""
        self._talk(a, b)
        self.contacts.setdefault(a, set()).add(b)
        self.contacts.setdefault(b, set()).add(a)


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def _user_order(u: str) -> tuple[int, int | str]:
    return (0, int(u)) if u.isdigit() else (1, u)


def _t(ts: float) -> float:
    return round(ts, 3)


def _token(r: random.Random, n: int) -> str:
    return "".join(r.choice(string.ascii_lowercase + string.digits) for _ in range(n))

