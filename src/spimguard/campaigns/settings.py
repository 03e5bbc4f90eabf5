"""Campaign settings: one typed record, read from ``[detectors.campaigns]``.

Every field has a comment saying what it trades; 0 switches a confirmation
path off. Unknown keys are errors (a typo must not silently keep a default).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

__all__ = ["CampaignSettings"]


@dataclass(frozen=True, slots=True)
class CampaignSettings:
    #: Estimated Jaccard similarity of shingle sets from which a message joins a
    #: campaign. 0.5 survives a changed word in ten, a swapped URL and a new
    #: number; unrelated SMS pairs score 0.13 or less 99.9% of the time.
    similarity: float = 0.5
    #: Which texts are matched as near-duplicates (MinHash LSH): "links", those
    #: carrying a link that is not allow-listed; "all", every text long enough.
    #: Texts left out still match word-for-word copies (after normalisation).
    #: "links" spends the look-up where campaigns lead somewhere and saves
    #: about 30 µs and 1.5 KB on each ordinary chat message.
    near_duplicates: str = "links"
    #: Words a text needs to form a campaign by itself (at least 3; it also
    #: needs 3 different words, so "ok", "lol lol lol lol lol" never do).
    min_tokens: int = 5
    #: Seconds without a new copy after which a candidate campaign is dropped.
    expiry: float = 86_400.0
    #: The same for confirmed, taken-down and cleared campaigns: their
    #: decision should outlive a spammer's pause.
    takedown_expiry: float = 604_800.0
    #: Candidates kept, single messages included (those are dropped first,
    #: then the least recently active): about 5-6 KB each with their index
    #: entries and the ids they keep, so 10,000 take about 55 MB. Decided
    #: campaigns are bounded separately at a quarter of this.
    max_campaigns: int = 10_000
    #: Confirm when this many distinct senders sent near-identical text with
    #: the same kind of link (not allow-listed) within ``confirm_window``.
    #: Five strangers posting one unknown link with one wording within an
    #: hour is what a worm through compromised accounts looks like, and rare
    #: for people sharing a link in their own words.
    confirm_senders: int = 5
    confirm_window: float = 3_600.0
    #: Confirm when this many of the campaign's senders were stopped as
    #: accounts (challenged or locked) by *other* evidence, and they are at
    #: least ``stopped_share`` of its senders (COMPA: similar messages whose
    #: senders each break their own profile). Only account actions count,
    #: not held messages: a copy held for its wording is held for the same
    #: wording in every copy, which is one piece of evidence repeated, while
    #: the policy acts on an account only on behaviour (the text signals stay
    #: below ``account.challenge`` by design). The share keeps a popular text
    #: (a canned reply sent by thousands) from being confirmed by the few of
    #: its senders who are actioned for other reasons.
    confirm_stopped: int = 3
    stopped_share: float = 0.25
    #: The score, without the campaign's own signals, from which an account
    #: action counts (when campaign signals contributed to it); keep it at
    #: ``account.challenge``.
    stopped_min_score: float = 16.0
    #: Confirm when user spam reports, each weighted by its reporter's track
    #: record (0 to 1, 0.5 for a new reporter), add up to this, on a campaign
    #: with at least two senders.
    confirm_reports: float = 3.0
    #: Reporters whose reports decide: spam confirms, ham clears.
    moderators: tuple[str, ...] = ()

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any],
                     where: str = "detectors.campaigns") -> CampaignSettings:
        """Parse a settings table; raise ``ValueError`` naming the bad key."""
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in settings.items():
            if key not in known:
                raise ValueError(f"unknown setting {where}.{key}")
            default = getattr(cls(), key)
            if isinstance(default, str):
                if value not in ("links", "all"):
                    raise ValueError(f"{where}.{key} must be \"links\" or \"all\", "
                                     f"got {value!r}")
                values[key] = value
            elif isinstance(default, tuple):
                if not isinstance(value, list | tuple) or not all(
                        isinstance(v, str) for v in value):
                    raise ValueError(f"{where}.{key} must be a list of user ids")
                values[key] = tuple(value)
            elif isinstance(default, int):
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ValueError(f"{where}.{key} must be a non-negative integer, "
                                     f"got {value!r}")
                values[key] = value
            else:
                if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    raise ValueError(f"{where}.{key} must be a non-negative number, "
                                     f"got {value!r}")
                values[key] = float(value)
        out = cls(**values)
        if not 0.0 < out.similarity <= 1.0:
            raise ValueError(f"{where}.similarity must be in (0, 1], got {out.similarity}")
        if out.max_campaigns < 1:
            raise ValueError(f"{where}.max_campaigns must be at least 1")
        if out.min_tokens < 3:
            raise ValueError(f"{where}.min_tokens must be at least 3: shorter texts "
                             "(\"ok\", \"see you\") are everyone's, not a campaign's")
        return out
