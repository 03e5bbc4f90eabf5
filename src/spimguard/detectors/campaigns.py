"""Campaigns: the same message from many senders at once.

Spam through compromised accounts reads like each sender's ordinary chat, one
message to each contact; what gives it away is the *crowd*: near-identical
text, or the same unknown link, from many accounts within minutes. Clustering
and state live in :mod:`spimguard.campaigns`; this detector explains a
message's match.

* ``CAMPAIGN_MATCH``: the message joins a candidate campaign that someone
  else already sent. Strength grows with the distinct senders of the last
  ``confirm_window`` (the pace: 3/4 of it, full at 10 with this one) and the
  copies (1/4, full at 50), plus 0.1 per unit of weighted user reports (up
  to 0.25); halved when only a link ties the message to the campaign (people
  share links in their own words), and a quarter when the campaign carries
  no link that is not allow-listed: canned replies and greetings are the
  crowd's too ("Sorry, I'll call later" is 30 of the 4,827 SMS Spam
  Collection hams, word for word), and spim exists to make people click. A
  cleared campaign's copies get strength 0: the verdict still names the
  campaign.
  Ordinary repeated text gets strength 0 (the verdict still names the
  campaign): a campaign none of whose copies gives anything to act on (no
  unknown link, phone number, handle or e-mail address) or reads as spam
  (CONTENT_SPAM) is a crowd, not spam.
* ``CAMPAIGN_TAKEDOWN``: the campaign is confirmed (thresholds, a decoy hit,
  reports or a moderator; see :class:`spimguard.campaigns.CampaignSettings`),
  so every later copy is stopped platform-wide; the detail says why.

Moderator and user reports arrive as ``report`` events through ``observe``;
the first copy of a campaign is never flagged by this detector (there is no
crowd yet), and a sender repeating themselves is the behaviour detectors'
business. Encrypted messages: abstains (no text to compare).

Blind spots: a campaign whose every copy is reworded beyond ~50% shared
shingles and carries a fresh domain each time (only other detectors see it);
spintax that rewords *and* rotates through a pool of domains forms several
campaigns, one per wording family, since campaigns are never merged (each
still grows and confirms on its own); copies further apart than the state's
memory at high volume (see :mod:`spimguard.campaigns.state`); a spam text
that links a legitimate but unpopular site ties that site to the campaign
(a moderator's "not spam" report clears it); a single compromised account
repeating itself (the behaviour detectors' case).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from spimguard.campaigns.model import CampaignStatus, Match
from spimguard.campaigns.settings import CampaignSettings
from spimguard.campaigns.shared import CampaignState, campaigns_for
from spimguard.core.context import MessageContext
from spimguard.core.events import Event, MessageEvent, ReportEvent
from spimguard.core.signals import Abstain, Hit, SignalSpec
from spimguard.core.verdicts import Verdict
from spimguard.detectors.base import DetectorBase
from spimguard.detectors.shared import message_links

__all__ = ["CampaignsDetector", "explain", "match_strength"]

#: Distinct senders and copies at which each part of CAMPAIGN_MATCH is full.
FULL_SENDERS = 10
FULL_MESSAGES = 50


class CampaignsDetector(DetectorBase):
    name = "campaigns"
    signals = (
        SignalSpec("CAMPAIGN_MATCH", 3.0, "The message is a copy of text (or a link) that other "
                   "senders sent recently; strength grows with the senders and copies."),
        SignalSpec("CAMPAIGN_TAKEDOWN", 9.0, "The message is a copy of a confirmed spam "
                   "campaign (by thresholds, a decoy hit, reports or a moderator)."),
    )

    def __init__(self, state: CampaignState | None = None,
                 settings: CampaignSettings | None = None) -> None:
        """``state``: a shared :class:`~spimguard.campaigns.Campaigns` (library use);
        ``None`` binds to the engine's store on first use
        (:func:`spimguard.campaigns.campaigns_for`)."""
        self._settings = settings
        self._state = state
        self._fixed = state is not None
        self._store: object | None = None
        if state is not None and settings is not None:
            state.settings = settings

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> CampaignsDetector:
        return cls(settings=CampaignSettings.from_mapping(settings))

    @property
    def state(self) -> CampaignState | None:
        """The campaign state (``None`` until the first message when bound lazily)."""
        return self._state

    def check(self, ctx: MessageContext) -> Iterable[Hit]:
        if ctx.text is None:
            raise Abstain("no readable text (encrypted)")
        state = self._bind(ctx.store)
        ex = message_links(ctx)
        match = state.prepare(ctx.message, ctx.text, ctx.now, ex.links if ex else None)
        if match is None:
            return ()
        hit = explain(match, ctx.now)
        return () if hit is None else (hit,)

    def observe(self, event: Event, now: float) -> None:
        if not isinstance(event, ReportEvent):
            return
        state = self._state
        if state is None and self.store is not None:
            # a worker may get the report of a message another worker checked
            state = self._bind(self.store)
        if state is not None:
            state.report(event.reporter, event.message_id, event.label, now)

    def on_verdict(self, message: MessageEvent, verdict: Verdict, now: float) -> None:
        if self._state is not None:
            self._state.record(message, verdict, now)

    def _bind(self, store: object) -> CampaignState:
        if self._state is None or (not self._fixed and self._store is not store):
            self._state = campaigns_for(store, self._settings or CampaignSettings())
            self._store = store
        return self._state


def match_strength(match: Match) -> float:
    """CAMPAIGN_MATCH strength for a candidate campaign (see the module docstring)."""
    senders = match.recent_senders + 1
    s_senders = min(1.0, math.log(senders) / math.log(FULL_SENDERS))
    s_messages = min(1.0, math.log(match.messages + 1) / math.log(FULL_MESSAGES))
    strength = 0.75 * s_senders + 0.25 * s_messages + min(0.25, 0.1 * match.reports)
    if match.via == "link":
        strength *= 0.5
    if not match.linked:
        strength *= 0.25
    return min(1.0, strength)


def explain(match: Match, now: float) -> Hit | None:
    """The hit for a matched message, or None (no one else sent it)."""
    cid = match.campaign
    crowd = (f"{match.messages} message{'s' if match.messages != 1 else ''} from "
             f"{match.senders} sender{'s' if match.senders != 1 else ''}")
    if match.status.spam:
        what = f"links to {match.link} like campaign" if match.via == "link" else "copy of campaign"
        return Hit("CAMPAIGN_TAKEDOWN", 1.0,
                   f"{what} {cid} ({crowd}), taken down: {match.reason}", campaign=cid)
    if match.via == "link":
        what = f"same link ({match.link}) as"
    elif match.via == "text":
        what = f"near-identical text (similarity {match.similarity:.2f}) to"
    else:
        what = "same text as"
    detail = f"{what} {crowd} in {_since(now - match.first_seen)} ({cid})"
    if match.status is CampaignStatus.CLEARED:
        return Hit("CAMPAIGN_MATCH", 0.0, f"{detail}; cleared: {match.reason}", campaign=cid)
    if not match.cross_sender:
        return None
    if not match.payload:
        return Hit("CAMPAIGN_MATCH", 0.0, f"{detail}; ordinary repeated text (no unknown link, "
                   "number, handle or spam wording): not counted", campaign=cid)
    if match.reports:
        detail += f"; user reports weigh {match.reports:.1f}"
    return Hit("CAMPAIGN_MATCH", match_strength(match), detail, campaign=cid)


def _since(seconds: float) -> str:
    if seconds < 90:
        return f"{max(seconds, 0.0):.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
