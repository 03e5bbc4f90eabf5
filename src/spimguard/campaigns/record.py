"""The live, mutable record of one campaign (private to the state).

Every collection is bounded (``MAX_TRACKED`` senders, recipients, stopped
senders and reporters; a few samples, domains, keys and signatures;
``MAX_DELIVERED`` delivered ids), so a campaign's size never depends on its
volume. Containers that most campaigns never use start as ``None``: most
records are single messages that never become campaigns.

Collections are dicts of strings and numbers (insertion-ordered sets) or
tuples, never lists or sets: CPython's cyclic garbage collector skips those,
so each record adds one tracked object, not ten (measured on the SMS
corpus: with lists and sets here and in the index, a message cost about a
third more, spent in collections).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from spimguard.campaigns.model import Campaign, CampaignStatus

__all__ = ["MAX_DELIVERED", "MAX_TRACKED", "Record"]

#: Senders (the most recent), recipients, stopped senders and reporters tracked.
MAX_TRACKED = 256
#: Delivered ids kept per campaign for retraction (older ones beyond this are counted).
MAX_DELIVERED = 10_000
MAX_SAMPLES = 3
MAX_DOMAINS = 16
MAX_KEYS = 16
MAX_EXEMPLARS = 4


@dataclass(slots=True, eq=False)
class Record:
    id: str
    first_seen: float
    last_seen: float
    status: CampaignStatus = CampaignStatus.CANDIDATE
    reason: str = ""
    decided_at: float | None = None
    messages: int = 0
    recipients_total: int = 0
    #: True when a copy carried a link that is not allow-listed.
    linked: bool = False
    #: True when a copy gave something to act on (an unknown link, a phone
    #: number, a handle, an address) or read as spam (CONTENT_SPAM). Without
    #: it a campaign is ordinary repeated text: never confirmed automatically,
    #: never a signal.
    payload: bool = False
    #: sender -> time of their latest copy, most recent last; the oldest are
    #: dropped past MAX_TRACKED.
    senders: dict[str, float] = field(default_factory=dict)
    #: Distinct senders: exact up to MAX_TRACKED, then a sender dropped and
    #: back again counts twice.
    sender_count: int = 0
    recipients: dict[str, None] = field(default_factory=dict)
    samples: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    #: Index entries owned by this campaign (exact hashes, link keys, signature keys).
    exact_keys: tuple[bytes, ...] = ()
    link_keys: tuple[str, ...] = ()
    exemplars: tuple[int, ...] = ()
    #: Delivered message ids, oldest first.
    delivered: dict[str, None] = field(default_factory=dict)
    delivered_dropped: int = 0
    #: sender -> time of their latest near-identical copy with a link (threshold
    #: path), most recent last.
    link_senders: dict[str, float] | None = None
    #: Senders whose accounts were challenged or locked on other evidence.
    stopped: dict[str, None] | None = None
    reports: float = 0.0
    #: Users whose spam reports await the campaign's decision.
    reporters: dict[str, None] | None = None
    #: +1 once those reporters were credited (confirmed), -1 once debited (cleared).
    resolved: int = 0

    def snapshot(self) -> Campaign:
        return Campaign(
            id=self.id, status=self.status, reason=self.reason, decided_at=self.decided_at,
            first_seen=self.first_seen, last_seen=self.last_seen, messages=self.messages,
            senders=self.sender_count, recipients=len(self.recipients),
            recipients_total=self.recipients_total,
            stopped_senders=len(self.stopped or ()), reports=self.reports,
            samples=self.samples, domains=self.domains,
            delivered=len(self.delivered),
        )
