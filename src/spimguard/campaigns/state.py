"""Campaign state shared by the ``campaigns`` and ``decoys`` detectors.

A message goes through two steps, matching the engine's order:

1. :meth:`Campaigns.prepare` (from a detector's ``check``) fingerprints it and
   looks it up, adding nothing (expired campaigns it meets are dropped): an
   exact duplicate of the reduced text, else a near-duplicate through the
   MinHash LSH index (each candidate checked against its stored signature),
   else a shared link key.
2. :meth:`Campaigns.record` (from ``on_verdict``) adds it, with its verdict:
   a new campaign or one more copy; delivered copies (allow, warn) are kept
   for retraction; senders whose accounts other evidence stopped are counted;
   then the confirmation thresholds are checked, so the *next* copy is taken
   down. Recording is idempotent per message: both detectors may call it.

Every message that can cluster becomes a record (a candidate of one), since
the second copy must find the first. Memory is bounded: at most
``max_campaigns`` candidates (single messages dropped first, then the least
recently active; any idle for ``expiry`` seconds), a quarter of that many
decided campaigns, 2 x ``max_campaigns`` message ids for reports, and
bounded records (see :mod:`spimguard.campaigns.record`). The single messages
are the memory of ordinary traffic: at 100 distinct messages a second the
10,000 default cover under two minutes, so a campaign whose first copies are
further apart than that forms only through a shared link key or once two
copies meet; a campaign with two copies stays until it idles out. A shared
backend (Redis) would lift this.

Not thread-safe: one engine per worker, as elsewhere in spimguard.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from hashlib import blake2b

import numpy as np

from spimguard.campaigns.fingerprint import Fingerprint, Fingerprinter, HostPredicate
from spimguard.campaigns.index import BandIndex, NearDuplicateIndex
from spimguard.campaigns.minhash import MinHasher, Signature
from spimguard.campaigns.model import Campaign, CampaignStatus, Match
from spimguard.campaigns.record import (
    MAX_DELIVERED,
    MAX_DOMAINS,
    MAX_EXEMPLARS,
    MAX_KEYS,
    MAX_SAMPLES,
    MAX_TRACKED,
    Record,
)
from spimguard.campaigns.reporters import ReporterTrust
from spimguard.campaigns.settings import CampaignSettings
from spimguard.core.events import MessageEvent
from spimguard.core.verdicts import Action, Verdict
from spimguard.links.extract import Link
from spimguard.text.normalize import NormalizedText

__all__ = ["OWN_SIGNALS", "Campaigns"]

#: Signals that campaign state itself causes; copies stopped by them alone are
#: not "stopped by other evidence".
OWN_SIGNALS = frozenset({"CAMPAIGN_MATCH", "CAMPAIGN_TAKEDOWN", "DECOY_HIT"})
_ACCOUNT_SIGNALS = frozenset({"ACCOUNT_LOCKED", "ACCOUNT_CHALLENGED"})
#: A copy with one of these reads as spam: its campaign carries a payload.
_SPAM_WORDING = frozenset({"CONTENT_SPAM"})
#: A joining copy this far from every stored signature adds its own.
_DRIFT = 0.8
_MAX_PENDING = 1024
#: Recent senders are counted up to this (CAMPAIGN_MATCH is full at 10).
_RECENT_CAP = 32


@dataclass(slots=True)
class _Pending:
    message: MessageEvent
    fp: Fingerprint
    sig: Signature | None
    match: Match | None
    decoy: str | None = None


class Campaigns:
    """Campaigns across senders: clustering, confirmation, takedown, retraction."""

    def __init__(
        self,
        settings: CampaignSettings | None = None,
        *,
        hasher: MinHasher | None = None,
        index: NearDuplicateIndex | None = None,
        allow: HostPredicate | None = None,
        per_url: HostPredicate | None = None,
    ) -> None:
        self._settings = settings or CampaignSettings()
        self.hasher = hasher or MinHasher()
        self.index: NearDuplicateIndex = index if index is not None else BandIndex(self.hasher)
        self.fingerprinter = Fingerprinter(
            self._settings.min_tokens, allow=allow, per_url=per_url,
            near_all=self._settings.near_duplicates == "all")
        self.trust = ReporterTrust()
        # Three LRU tiers (least recently active first): candidates seen once,
        # candidates with copies, and decided campaigns. Bounds evict from the
        # first tier before the second, so a burst of ordinary messages never
        # pushes out a campaign in the making.
        self._singles: OrderedDict[str, Record] = OrderedDict()
        self._candidates: OrderedDict[str, Record] = OrderedDict()
        self._decided: OrderedDict[str, Record] = OrderedDict()
        self._exact: dict[bytes, str] = {}
        self._links: dict[str, str] = {}
        self._sigs: dict[int, tuple[str, bytes]] = {}
        self._messages: OrderedDict[str, str] = OrderedDict()
        self._pending: OrderedDict[str, _Pending] = OrderedDict()
        self._next_key = 0
        self._seq = 0

    # -- settings --------------------------------------------------------------

    @property
    def settings(self) -> CampaignSettings:
        return self._settings

    @settings.setter
    def settings(self, value: CampaignSettings) -> None:
        """Takes effect from the next message; bounds apply at the next record."""
        near_all = value.near_duplicates == "all"
        f = self.fingerprinter
        if value.min_tokens != f.min_tokens or near_all != f.near_all:
            self.fingerprinter = Fingerprinter(value.min_tokens, allow=f.allow, per_url=f.per_url,
                                               near_all=near_all)
        self._settings = value

    # -- per message -----------------------------------------------------------

    def prepare(self, message: MessageEvent, text: NormalizedText, now: float,
                links: Sequence[Link] | None = None) -> Match | None:
        """Fingerprint and look up a message (read-only); remembered for :meth:`record`."""
        pend = self._pending.get(message.id)
        if pend is not None and pend.message is message:
            return pend.match
        fp = self.fingerprinter(text, message.html, links)
        match: Match | None = None
        sig: Signature | None = None
        if fp.usable:
            match, sig = self._lookup(fp, message.sender, now)
        if len(self._pending) >= _MAX_PENDING:
            self._pending.popitem(last=False)
        self._pending[message.id] = _Pending(message, fp, sig, match)
        return match

    def mark_decoy(self, message: MessageEvent, text: NormalizedText, decoy: str,
                   now: float, links: Sequence[Link] | None = None) -> Match | None:
        """The message went to a decoy: recording it confirms its campaign.

        Returns the campaign it matched, if any (a new one gets its id only
        when recorded, after the verdict).
        """
        match = self.prepare(message, text, now, links)
        self._pending[message.id].decoy = decoy
        return match

    def record(self, message: MessageEvent, verdict: Verdict, now: float) -> str | None:
        """Add a prepared message with its verdict; the campaign id, if it has one."""
        pend = self._pending.get(message.id)
        if pend is None or pend.message is not message:
            return None
        del self._pending[message.id]
        self._expire(now)
        fp = pend.fp
        if not fp.usable:
            return None
        rec = self._live(pend.match.campaign, now) if pend.match is not None else None
        by_text = fp.text_ok and (pend.match is None or pend.match.via != "link")
        if rec is None:
            rec = self._create(message.id, now)
        self._index(rec, fp, pend, now)
        self._add_copy(rec, message, verdict, fp, by_text, now)
        self._remember(message.id, rec.id)
        if pend.decoy is not None and rec.payload:
            self._decide(rec, CampaignStatus.CONFIRMED,
                         f"a copy was sent to decoy account {pend.decoy}", now)
        elif rec.status is CampaignStatus.CANDIDATE:
            self._check_thresholds(rec, now)
        return rec.id

    # -- moderation and operators ----------------------------------------------

    def confirm(self, campaign_id: str, reason: str, now: float | None = None) -> None:
        """Confirm a campaign (also a cleared one): later copies are taken down."""
        rec = self._get(campaign_id)
        if not rec.status.spam:
            self._decide(rec, CampaignStatus.CONFIRMED, reason,
                         rec.last_seen if now is None else now, manual=True)

    def clear(self, campaign_id: str, reason: str, now: float | None = None) -> None:
        """Declare a campaign not spam: no more campaign strength, no automatic confirmation."""
        rec = self._get(campaign_id)
        self._decide(rec, CampaignStatus.CLEARED, reason,
                     rec.last_seen if now is None else now, manual=True)

    def delivered(self, campaign_id: str) -> list[str]:
        """Ids of the campaign's copies that were delivered (allow or warn), oldest first."""
        return list(self._get(campaign_id).delivered)

    def retract(self, campaign_id: str) -> list[str]:
        """Hand over the delivered ids for retraction and mark the campaign taken down."""
        rec = self._get(campaign_id)
        ids = list(rec.delivered)
        rec.delivered = {}
        if rec.status is not CampaignStatus.TAKEN_DOWN:
            reason = rec.reason if rec.status is CampaignStatus.CONFIRMED else "retracted"
            self._decide(rec, CampaignStatus.TAKEN_DOWN, reason, rec.last_seen, manual=True)
        return ids

    def report(self, reporter: str, message_id: str, label: str, now: float) -> str | None:
        """Apply a user's or moderator's report; the campaign it concerned, if known."""
        cid = self._messages.get(message_id)
        rec = self._live(cid, now) if cid is not None else None
        if rec is None:
            return None
        if reporter in self._settings.moderators:
            if label == "spam":
                if not rec.status.spam:
                    self._decide(rec, CampaignStatus.CONFIRMED,
                                 f"reported as spam by moderator {reporter}", now, manual=True)
            else:
                self._decide(rec, CampaignStatus.CLEARED,
                             f"marked not spam by moderator {reporter}", now, manual=True)
            return rec.id
        if label != "spam":
            return rec.id  # a user's "not spam" decides nothing
        if rec.status is CampaignStatus.CLEARED:
            self.trust.adjust(reporter, wrong=1.0)
        elif rec.status is CampaignStatus.CANDIDATE:
            reporters = rec.reporters if rec.reporters is not None else {}
            rec.reporters = reporters
            if reporter not in reporters and len(reporters) < MAX_TRACKED:
                reporters[reporter] = None
                rec.reports += self.trust.weight(reporter)
                self._check_thresholds(rec, now)
        return rec.id

    # -- reading ---------------------------------------------------------------

    def get(self, campaign_id: str) -> Campaign | None:
        rec = self._find(campaign_id)
        return rec.snapshot() if rec is not None else None

    def campaigns(self, status: CampaignStatus | None = None) -> list[Campaign]:
        """Snapshots of campaigns with at least two copies (or decided), newest activity last."""
        out = [r.snapshot() for tier in (self._candidates, self._decided)
               for r in tier.values() if r.messages > 1 or r.status is not CampaignStatus.CANDIDATE]
        if status is not None:
            out = [c for c in out if c.status is status]
        return sorted(out, key=lambda c: c.last_seen)

    def campaign_of(self, message_id: str) -> str | None:
        """The campaign a recent message was recorded in."""
        cid = self._messages.get(message_id)
        return cid if cid is not None and self._find(cid) is not None else None

    def stats(self) -> dict[str, int]:
        """Sizes of every bounded structure (for monitoring and tests)."""
        return {"singles": len(self._singles), "candidates": len(self._candidates),
                "decided": len(self._decided),
                "signatures": len(self._sigs), "index": len(self.index),
                "exact_keys": len(self._exact), "link_keys": len(self._links),
                "messages": len(self._messages), "pending": len(self._pending)}

    def __len__(self) -> int:
        return len(self._singles) + len(self._candidates) + len(self._decided)

    # -- internals: lookup -----------------------------------------------------

    def _lookup(self, fp: Fingerprint, sender: str,
                now: float) -> tuple[Match | None, Signature | None]:
        sig: Signature | None = None
        if fp.exact is not None:
            cid = self._exact.get(fp.exact)
            rec = self._live(cid, now) if cid is not None else None
            if rec is not None:
                return self._match(rec, sender, now, "exact", 1.0, payload=fp.payload), None
        if fp.near:
            sig = self.hasher.signature(fp.shingles)
            best: tuple[float, str] | None = None
            for key in self.index.query(sig):
                entry = self._sigs.get(key)
                if entry is None:
                    continue
                sim = MinHasher.similarity(sig, np.frombuffer(entry[1], dtype=np.uint32))
                if sim >= self._settings.similarity and (best is None or sim > best[0]):
                    best = (sim, entry[0])
            if best is not None:
                rec = self._live(best[1], now)
                if rec is not None:
                    return self._match(rec, sender, now, "text", best[0],
                                       payload=fp.payload), sig
        for lk in fp.link_keys:
            cid = self._links.get(lk)
            rec = self._live(cid, now) if cid is not None else None
            if rec is not None:
                return self._match(rec, sender, now, "link", 0.0, lk[2:], payload=True), sig
        return None, sig

    def _match(self, rec: Record, sender: str, now: float, via: str, similarity: float,
               link: str = "", payload: bool = False) -> Match:
        n = rec.sender_count
        known = sender in rec.senders
        recent = _count_since(rec.senders, now - self._settings.confirm_window, _RECENT_CAP,
                              skip=sender)
        return Match(
            campaign=rec.id, status=rec.status, reason=rec.reason, via=via,
            similarity=similarity, messages=rec.messages, senders=n,
            recent_senders=recent, cross_sender=n > 1 or (n == 1 and not known),
            new_sender=not known, first_seen=rec.first_seen, reports=rec.reports,
            linked=rec.linked, link=link, payload=payload or rec.payload,
        )

    def _find(self, cid: str) -> Record | None:
        return self._singles.get(cid) or self._candidates.get(cid) or self._decided.get(cid)

    def _tier(self, rec: Record) -> OrderedDict[str, Record]:
        if rec.status is not CampaignStatus.CANDIDATE:
            return self._decided
        return self._candidates if rec.id in self._candidates else self._singles

    def _live(self, cid: str, now: float) -> Record | None:
        rec = self._find(cid)
        if rec is None:
            return None
        ttl = (self._settings.expiry if rec.status is CampaignStatus.CANDIDATE
               else self._settings.takedown_expiry)
        if now - rec.last_seen > ttl:
            self._drop(rec)
            return None
        return rec

    def _get(self, cid: str) -> Record:
        rec = self._find(cid)
        if rec is None:
            raise KeyError(f"unknown campaign {cid!r}")
        return rec

    # -- internals: recording --------------------------------------------------

    def _create(self, message_id: str, now: float) -> Record:
        while True:
            self._seq += 1
            digest = blake2b(f"{self._seq}:{message_id}".encode(), digest_size=4).hexdigest()
            cid = f"c-{digest}"
            if self._find(cid) is None:
                break
        rec = Record(cid, now, now)
        self._singles[cid] = rec
        while len(self._singles) + len(self._candidates) > self._settings.max_campaigns:
            tier = self._singles or self._candidates
            self._drop(next(iter(tier.values())))
        return rec

    def _index(self, rec: Record, fp: Fingerprint, pend: _Pending, now: float) -> None:
        """Register the copy's keys and signature under ``rec`` (bounded per campaign)."""
        if fp.exact is not None and fp.exact not in self._exact and len(rec.exact_keys) < MAX_KEYS:
            self._exact[fp.exact] = rec.id
            rec.exact_keys += (fp.exact,)
        if fp.near and len(rec.exemplars) < MAX_EXEMPLARS and (
                pend.match is None or pend.match.via == "link"
                or pend.match.similarity < _DRIFT):
            sig = pend.sig if pend.sig is not None else self.hasher.signature(fp.shingles)
            key = self._next_key
            self._next_key += 1
            self.index.insert(key, sig)
            self._sigs[key] = (rec.id, self.hasher.to_bytes(sig))
            rec.exemplars += (key,)
        for lk in fp.link_keys:
            if len(rec.link_keys) >= MAX_KEYS:
                break
            owner = self._links.get(lk)
            if owner != rec.id and (owner is None or self._live(owner, now) is None):
                self._links[lk] = rec.id
                rec.link_keys += (lk,)

    def _add_copy(self, rec: Record, message: MessageEvent, verdict: Verdict, fp: Fingerprint,
                  by_text: bool, now: float) -> None:
        rec.messages += 1
        rec.last_seen = max(rec.last_seen, now)  # events may arrive slightly out of order
        tier = self._tier(rec)
        if tier is self._singles and rec.messages > 1:
            del self._singles[rec.id]
            self._candidates[rec.id] = rec
        else:
            tier.move_to_end(rec.id)
        sender = message.sender
        if _touch(rec.senders, sender, now):
            rec.sender_count += 1
        room = MAX_TRACKED - len(rec.recipients)
        if room > 0:
            rec.recipients.update(dict.fromkeys(message.recipients[:room]))
        rec.recipients_total += len(message.recipients)
        if fp.payload or any(s.name in _SPAM_WORDING for s in verdict.signals):
            rec.payload = True
        if fp.link_keys:
            rec.linked = True
            if by_text:
                ls = rec.link_senders if rec.link_senders is not None else {}
                rec.link_senders = ls
                _touch(ls, sender, now)
        if len(rec.samples) < MAX_SAMPLES and fp.sample and fp.sample not in rec.samples:
            rec.samples += (fp.sample,)
        for d in fp.domains:
            if len(rec.domains) >= MAX_DOMAINS:
                break
            if d not in rec.domains:
                rec.domains += (d,)
        if verdict.action in (Action.ALLOW, Action.WARN):
            if len(rec.delivered) < MAX_DELIVERED:
                rec.delivered[message.id] = None
            else:
                rec.delivered_dropped += 1
        if self._actioned_by_others(verdict):
            stopped = rec.stopped if rec.stopped is not None else {}
            rec.stopped = stopped
            if len(stopped) < MAX_TRACKED:
                stopped[sender] = None

    def _actioned_by_others(self, verdict: Verdict) -> bool:
        """The sender's account was challenged or locked (now or before), not by us."""
        own = 0.0
        for s in verdict.signals:
            if s.name in _ACCOUNT_SIGNALS:
                return True
            if s.name in OWN_SIGNALS:
                own += s.score
        if verdict.account_action is None:
            return False
        return own <= 0.0 or verdict.score - own >= self._settings.stopped_min_score

    def _remember(self, message_id: str, cid: str) -> None:
        self._messages[message_id] = cid
        self._messages.move_to_end(message_id)
        if len(self._messages) > 2 * self._settings.max_campaigns:
            self._messages.popitem(last=False)

    # -- internals: decisions --------------------------------------------------

    def _check_thresholds(self, rec: Record, now: float) -> None:
        """Automatic confirmation, only for campaigns that carry a payload: many
        people sending "happy new year!" (or locked accounts sending "ok") is
        no reason to block the phrase for everyone."""
        s = self._settings
        reason = ""
        if not rec.payload:
            return
        if s.confirm_senders and rec.link_senders:
            n = _count_since(rec.link_senders, now - s.confirm_window, s.confirm_senders)
            if n >= s.confirm_senders:
                reason = (f"{n} senders sent near-identical text with a link within "
                          f"{_duration(s.confirm_window)}")
        if not reason and s.confirm_stopped and rec.stopped \
                and len(rec.stopped) >= s.confirm_stopped \
                and len(rec.stopped) >= s.stopped_share * rec.sender_count:
            reason = (f"{len(rec.stopped)} of its {rec.sender_count} senders were challenged "
                      "or locked on other evidence")
        if not reason and s.confirm_reports and rec.reports >= s.confirm_reports \
                and rec.sender_count >= 2:
            reason = f"user spam reports weighing {rec.reports:.1f}"
        if reason:
            self._decide(rec, CampaignStatus.CONFIRMED, reason, now)

    def _decide(self, rec: Record, status: CampaignStatus, reason: str, now: float,
                manual: bool = False) -> None:
        """Change a campaign's status; automatic decisions never override a moderator's clear."""
        if rec.status is CampaignStatus.CLEARED and not manual:
            return
        tier = self._tier(rec)
        rec.status = status
        rec.reason = reason
        rec.decided_at = now
        if tier is not self._decided:
            del tier[rec.id]
            self._decided[rec.id] = rec
            while len(self._decided) > self._settings.max_campaigns // 4 + 1:
                self._drop(next(iter(self._decided.values())))
        self._resolve_reporters(rec, +1 if status.spam else -1)

    def _resolve_reporters(self, rec: Record, outcome: int) -> None:
        if not rec.reporters or rec.resolved == outcome:
            return
        undo = rec.resolved != 0
        for r in rec.reporters:
            if outcome > 0:
                self.trust.adjust(r, right=1.0, wrong=-1.0 if undo else 0.0)
            else:
                self.trust.adjust(r, wrong=1.0, right=-1.0 if undo else 0.0)
        rec.resolved = outcome

    # -- internals: bounds -----------------------------------------------------

    def _expire(self, now: float) -> None:
        for tier, ttl in ((self._singles, self._settings.expiry),
                          (self._candidates, self._settings.expiry),
                          (self._decided, self._settings.takedown_expiry)):
            while tier:
                oldest = next(iter(tier.values()))
                if now - oldest.last_seen <= ttl:
                    break
                self._drop(oldest)

    def _drop(self, rec: Record) -> None:
        self._tier(rec).pop(rec.id, None)
        for key in rec.exemplars:
            entry = self._sigs.pop(key, None)
            if entry is not None:
                self.index.remove(key, np.frombuffer(entry[1], dtype=np.uint32))
        for ek in rec.exact_keys:
            if self._exact.get(ek) == rec.id:
                del self._exact[ek]
        for lk in rec.link_keys:
            if self._links.get(lk) == rec.id:
                del self._links[lk]


def _touch(times: dict[str, float], key: str, now: float) -> bool:
    """Move ``key`` to the end (most recent) at ``now``, dropping the oldest past
    ``MAX_TRACKED``; True when the key was not there."""
    new = times.pop(key, None) is None
    times[key] = now
    if len(times) > MAX_TRACKED:
        del times[next(iter(times))]
    return new


def _count_since(times: dict[str, float], since: float, cap: int, skip: str = "") -> int:
    """Keys touched at or after ``since``, counted from the newest, up to ``cap``."""
    n = 0
    for key, t in reversed(times.items()):
        if t < since or n >= cap:
            break
        if key != skip:
            n += 1
    return n


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 172_800:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86_400:.0f} d"
