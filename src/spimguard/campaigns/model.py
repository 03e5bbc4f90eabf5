"""Public records: a campaign's status and read-only snapshots of it.

The live state is private to :class:`spimguard.campaigns.state.Campaigns`;
callers get frozen copies, so nothing outside can bend the bounds or the
indexes by editing a campaign.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Campaign", "CampaignStatus", "Match"]


class CampaignStatus(StrEnum):
    #: Copies seen; not (yet) judged spam. Matching messages get CAMPAIGN_MATCH.
    CANDIDATE = "candidate"
    #: Judged spam (thresholds, a decoy, reports or a moderator): every later
    #: copy gets CAMPAIGN_TAKEDOWN.
    CONFIRMED = "confirmed"
    #: Confirmed, and an operator retracted the delivered copies.
    TAKEN_DOWN = "taken_down"
    #: A moderator said it is not spam: copies get no campaign strength and
    #: automatic paths never confirm it again (a moderator still can).
    CLEARED = "cleared"

    @property
    def spam(self) -> bool:
        return self in (CampaignStatus.CONFIRMED, CampaignStatus.TAKEN_DOWN)


@dataclass(frozen=True, slots=True)
class Campaign:
    """A snapshot of one campaign."""

    id: str
    status: CampaignStatus
    #: Why it was confirmed or cleared ("" for a candidate), and when.
    reason: str
    decided_at: float | None
    first_seen: float
    last_seen: float
    messages: int
    #: Distinct senders (exact up to 256, then approximate) and recipients
    #: (exact up to 256, then "at least").
    senders: int
    recipients: int
    #: Recipients over all copies, duplicates included.
    recipients_total: int
    #: Senders whose accounts were challenged or locked on other evidence.
    stopped_senders: int
    #: Weighted user spam reports.
    reports: float
    #: A few cleaned copies (at most 3, 280 characters each).
    samples: tuple[str, ...]
    #: Registrable domains linked by the copies (at most 16).
    domains: tuple[str, ...]
    #: Delivered copies not yet retracted (see ``Campaigns.delivered``).
    delivered: int


@dataclass(frozen=True, slots=True)
class Match:
    """What a message matched, as the detectors need it to explain a hit."""

    campaign: str
    status: CampaignStatus
    reason: str
    #: "exact", "text" (near-duplicate) or "link" (shared domain or short URL).
    via: str
    #: Estimated Jaccard similarity (1.0 for exact, 0.0 for a link match).
    similarity: float
    #: Copies and distinct senders before this message.
    messages: int
    senders: int
    #: Other senders with a copy within ``confirm_window`` (the campaign's pace),
    #: counted up to 32.
    recent_senders: int
    #: True when someone other than this message's sender sent a copy.
    cross_sender: bool
    #: True when this sender has not sent a copy before.
    new_sender: bool
    first_seen: float
    reports: float
    #: True when copies carry links that are not allow-listed.
    linked: bool
    #: The shared link key for a link match ("evil.example" or a short URL).
    link: str = ""
    #: True when the campaign or this message gives something to act on or
    #: reads as spam (see ``Record.payload``).
    payload: bool = True
