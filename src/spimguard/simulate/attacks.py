"""Attacks: each a frozen settings record whose ``install`` schedules it in a world.

Attacks combine freely (a worm, bots and a botnet in the same run); each one
draws from its own random stream. Every attack message is labelled ``spam``.

- :class:`Worm`: phishing worm. At ``start_hours`` the attacker takes ``seeds``
  accounts: a ``truth`` event, a login from a new address and device, then a
  lure to every contact within minutes. A recipient who *receives* the lure
  clicks with ``click_prob``; after a delay the account falls and the attacker
  repeats from it. The owner goes on chatting (ham) meanwhile.
- :class:`SlowWorm`: the same mechanics, stealthy: a couple of messages an
  hour, daytime only, to the account's most frequent contacts, for days.
- :class:`StrangerBots`: accounts created minutes before they write, to people
  who never added them.
- :class:`Botnet`: throwaway accounts (registered days ahead) blasting one
  campaign, every copy mutated: alternatives, look-alike letters, invisible
  characters, links rotating over the campaign's domains.

An attacker whose account the engine locks or challenges is logged out: its
pending sends are dropped (see :meth:`World.attacker_can_send`).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import ClassVar

from spimguard.simulate.lures import (
    BOTNET,
    SLOW_WORM,
    STRANGER,
    WORM,
    DomainPool,
    homoglyphs,
    pick_template,
    spin,
    vary_lightly,
    zero_width,
)
from spimguard.simulate.world import World

__all__ = ["ATTACKS", "Botnet", "SlowWorm", "StrangerBots", "Worm"]


def _log_uniform(rng: random.Random, lo: float, hi: float) -> float:
    return math.exp(rng.uniform(math.log(max(lo, 1e-9)), math.log(max(hi, lo, 1e-9))))


@dataclass(frozen=True)
class Worm:
    kind: ClassVar[str] = "worm"
    #: Accounts the attacker holds at the start (phished elsewhere).
    seeds: int = 3
    #: When the seeds fall, in hours after the simulation starts.
    start_hours: float = 24.0
    #: Chance that a recipient who receives a lure falls for it.
    click_prob: float = 0.15
    #: From a click to the account falling (log-uniform, minutes).
    click_delay_minutes: tuple[float, float] = (2.0, 240.0)
    #: From the account falling to the attacker logging in (log-uniform, minutes).
    takeover_minutes: tuple[float, float] = (1.0, 30.0)
    #: From the attacker's login to the first lure (log-uniform, minutes); a
    #: patient attacker waits hours, so "new device, then a burst" never shows.
    dwell_minutes: tuple[float, float] = (0.1, 1.0)
    #: Between two lures from one account (uniform, seconds).
    gap_seconds: tuple[float, float] = (4.0, 30.0)
    #: Lures per account at most (its contacts, shuffled).
    max_recipients: int = 50
    #: Seeds are drawn among accounts with at least this many contacts.
    min_contacts: int = 3
    #: The owner notices and recovers this many hours after the fall; None: never.
    recover_hours: float | None = None
    #: Share of lures in another language than the account's (a kit's locales).
    other_languages: float = 0.15
    #: Phishing hosts the campaign rotates over.
    domains: int = 6
    templates: dict[str, tuple[str, ...]] = field(default_factory=lambda: WORM, compare=False)

    def install(self, world: World, rng: random.Random) -> None:
        _WormRun(self, world, rng).start()

    def targets(self, world: World, user: str, rng: random.Random) -> list[str]:
        people = world.contacts_of(user)
        rng.shuffle(people)
        return people[: self.max_recipients]

    def first_send(self, world: World, rng: random.Random) -> float:
        return world.now + 60.0 * _log_uniform(rng, *self.dwell_minutes)

    def next_send(self, world: World, rng: random.Random) -> float:
        return world.now + rng.uniform(*self.gap_seconds)


@dataclass(frozen=True)
class SlowWorm(Worm):
    kind: ClassVar[str] = "slow_worm"
    seeds: int = 2
    click_prob: float = 0.3
    click_delay_minutes: tuple[float, float] = (5.0, 600.0)
    takeover_minutes: tuple[float, float] = (10.0, 180.0)
    dwell_minutes: tuple[float, float] = (1.0, 30.0)
    #: Lures an hour from one account (exponential gaps), only in ``active_hours``.
    per_hour: float = 2.0
    #: Only the account's most frequent contacts are targeted ...
    top_contacts: int = 8
    #: ... with at least this many messages exchanged.
    min_talks: int = 2
    #: Hours of the day (UTC) when it sends, to blend in with its owner.
    active_hours: tuple[int, int] = (8, 23)
    min_contacts: int = 2
    other_languages: float = 0.0
    domains: int = 3
    templates: dict[str, tuple[str, ...]] = field(default_factory=lambda: SLOW_WORM,
                                                  compare=False)

    def targets(self, world: World, user: str, rng: random.Random) -> list[str]:
        return world.frequent_contacts(user, self.top_contacts, self.min_talks)

    def first_send(self, world: World, rng: random.Random) -> float:
        return self._daytime(super().first_send(world, rng), rng)

    def next_send(self, world: World, rng: random.Random) -> float:
        return self._daytime(world.now + rng.expovariate(self.per_hour / 3600.0), rng)

    def _daytime(self, t: float, rng: random.Random) -> float:
        """``t``, or the start of the next active period if ``t`` falls at night."""
        lo, hi = self.active_hours
        day = math.floor(t / 86_400.0) * 86_400.0
        hour = (t - day) / 3600.0
        if hour < lo:
            t = day + lo * 3600.0 + rng.uniform(0, 1800)
        elif hour >= hi:
            t = day + 86_400.0 + lo * 3600.0 + rng.uniform(0, 1800)
        return t


class _WormRun:
    """One worm's life in one world: seeding, takeovers, lures, clicks."""

    def __init__(self, cfg: Worm, world: World, rng: random.Random) -> None:
        self.cfg, self.world, self.rng = cfg, world, rng
        styles = ({"hosting": 0.6, "random": 0.3, "short": 0.1} if isinstance(cfg, SlowWorm)
                  else None)
        self.domains = DomainPool(rng, cfg.domains, styles)

    def start(self) -> None:
        w = self.world
        w.at(w.start + self.cfg.start_hours * 3600.0, self._seed)

    def _seed(self, wanted: int | None = None) -> None:
        """Take the seeds; while too few accounts have contacts, try again hourly."""
        w, cfg = self.world, self.cfg
        wanted = cfg.seeds if wanted is None else wanted
        pool = [u for u in w.existing_users()
                if len(w.contacts.get(u, ())) >= cfg.min_contacts and u not in w.ever_compromised]
        chosen = self.rng.sample(pool, min(wanted, len(pool)))
        for u in chosen:
            w.at(w.now + self.rng.uniform(0, 600), self._fall, u, True)
        if len(chosen) < wanted:
            w.at(w.now + 3600.0, self._seed, wanted - len(chosen))

    def _fall(self, user: str, seed: bool = False) -> None:
        w, cfg = self.world, self.cfg
        if not w.compromise(user, cfg.kind, seed):
            return
        if cfg.recover_hours is not None:
            w.at(w.now + cfg.recover_hours * 3600.0, w.recover, user)
        w.at(w.now + 60.0 * _log_uniform(self.rng, *cfg.takeover_minutes), self._takeover, user)

    def _takeover(self, user: str) -> None:
        w = self.world
        if not w.attacker_can_send(user):
            return
        w.attacker_login(user, self.rng)
        targets = self.cfg.targets(w, user, self.rng)
        lang, template = pick_template(self.cfg.templates, w.language(user), self.rng,
                                       self.cfg.other_languages)
        w.at(self.cfg.first_send(w, self.rng), self._send, user, targets, 0, template)

    def _send(self, user: str, targets: list[str], i: int, template: str) -> None:
        w, cfg, rng = self.world, self.cfg, self.rng
        if i >= len(targets) or not w.attacker_can_send(user):
            return
        # vary the words only: the link is filled in afterwards, intact
        text = vary_lightly(spin(template, rng), rng).replace("{link}", self.domains.url())
        delivery = w.send(user, [targets[i]], text, "spam", cfg.kind)
        p = cfg.click_prob * w.click_factor(delivery)
        for r in delivery.recipients:
            if rng.random() < p:
                delay = 60.0 * _log_uniform(rng, *cfg.click_delay_minutes)
                w.at(w.now + delay, self._fall, r)
        w.at(cfg.next_send(w, rng), self._send, user, targets, i + 1, template)


@dataclass(frozen=True)
class StrangerBots:
    kind: ClassVar[str] = "stranger_bots"
    bots: int = 5
    #: The first bot appears this many hours after the start ...
    start_hours: float = 6.0
    #: ... the others at random over this many hours.
    spread_hours: float = 48.0
    #: The account is created this long before its first message (uniform, minutes).
    age_minutes: tuple[float, float] = (3.0, 60.0)
    #: Messages per bot, each to a different stranger.
    messages: int = 40
    gap_seconds: tuple[float, float] = (15.0, 180.0)
    #: Share of texts with look-alike letters or invisible characters.
    mutate_share: float = 0.3
    domains: int = 4

    def install(self, world: World, rng: random.Random) -> None:
        pool = DomainPool(rng, self.domains)
        for _ in range(self.bots):
            first = world.start + (self.start_hours + rng.uniform(0, self.spread_hours)) * 3600.0
            created = first - 60.0 * rng.uniform(*self.age_minutes)
            world.at(created, self._create, world, rng, pool, first)

    def _create(self, world: World, rng: random.Random, pool: DomainPool, first: float) -> None:
        bot = world.attacker_account(world.now)
        world.attacker_login(bot, rng)
        people = world.existing_users()
        targets = rng.sample(people, min(self.messages, len(people)))
        lang = "ru" if rng.random() < 0.2 else "en"
        world.at(first, self._send, world, rng, pool, bot, targets, 0, lang)

    def _send(self, world: World, rng: random.Random, pool: DomainPool, bot: str,
              targets: list[str], i: int, lang: str) -> None:
        if i >= len(targets) or not world.attacker_can_send(bot):
            return
        _, template = pick_template(STRANGER, lang, rng)
        text = spin(template, rng, link=pool.url())
        if rng.random() < self.mutate_share:
            text = zero_width(homoglyphs(text, rng, 0.2), rng, 0.1)
        world.send(bot, [targets[i]], text, "spam", self.kind)
        world.at(world.now + rng.uniform(*self.gap_seconds), self._send, world, rng, pool, bot,
                 targets, i + 1, lang)


@dataclass(frozen=True)
class Botnet:
    kind: ClassVar[str] = "botnet"
    accounts: int = 20
    start_hours: float = 36.0
    #: The campaign's messages fall uniformly in this many hours.
    duration_hours: float = 6.0
    #: Messages per account, each to one user drawn from everybody.
    messages: int = 30
    #: Accounts were registered this long before the campaign (uniform, days).
    age_days: tuple[float, float] = (1.0, 30.0)
    #: Share of copies with look-alike letters and/or invisible characters.
    mutate_share: float = 0.7
    homoglyph_rate: float = 0.25
    zero_width_rate: float = 0.15
    #: Hosts the campaign's links rotate over.
    domains: int = 8

    def install(self, world: World, rng: random.Random) -> None:
        pool = DomainPool(rng, self.domains)
        #: one campaign: a template per language, shared by every account
        campaign = {lang: rng.choice(texts) for lang, texts in sorted(BOTNET.items())}
        t0 = world.start + self.start_hours * 3600.0
        for _ in range(self.accounts):
            created = t0 - rng.uniform(*self.age_days) * 86_400.0
            world.at(max(world.start, created), self._create, world, rng, pool, campaign,
                     created, t0)

    def _create(self, world: World, rng: random.Random, pool: DomainPool,
                campaign: dict[str, str], created: float, t0: float) -> None:
        bot = world.attacker_account(created)
        times = sorted(t0 + rng.uniform(0, self.duration_hours * 3600.0)
                       for _ in range(self.messages))
        if times:
            world.at(times[0] - rng.uniform(30, 600), world.attacker_login, bot, rng)
        lang = "ru" if rng.random() < 0.2 else "en"
        for t in times:
            world.at(t, self._send, world, rng, pool, bot, campaign[lang])

    def _send(self, world: World, rng: random.Random, pool: DomainPool, bot: str,
              template: str) -> None:
        if not world.attacker_can_send(bot):
            return
        people = world.existing_users()
        if not people:
            return
        target = people[rng.randrange(len(people))]
        text = spin(template, rng, link=pool.url())
        if rng.random() < self.mutate_share:
            if rng.random() < 0.7:
                text = homoglyphs(text, rng, self.homoglyph_rate)
            if rng.random() < 0.5:
                text = zero_width(text, rng, self.zero_width_rate)
        world.send(bot, [target], text, "spam", self.kind)


#: Attack name -> settings class, for command lines and config files.
ATTACKS: dict[str, type[Worm] | type[StrangerBots] | type[Botnet]] = {
    "worm": Worm,
    "slow_worm": SlowWorm,
    "stranger_bots": StrangerBots,
    "botnet": Botnet,
}
