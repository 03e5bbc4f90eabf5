"""Campaign state replicated across worker processes: one log of facts, applied in order.

Behaviour state is shared through the store, but campaign state
(:class:`~spimguard.campaigns.state.Campaigns`: the LSH index, the records,
the thresholds) is an in-memory state machine. With several workers, each
clustering only its own messages, a campaign spread over two workers would be
confirmed later than with one. :class:`ReplicatedCampaigns` keeps one local
:class:`Campaigns` per worker and makes every worker apply the same
*facts* in the same order (state-machine replication over a Redis stream,
:class:`CampaignLog`), so all states are identical, campaign ids included:
a takedown asked of one worker names the campaign every worker knows.

* Before every read, and before looking up a message (``prepare``), the
  worker *catches up*: it applies every fact appended since the last one it
  applied (one ``XREAD``).
* A mutation (a message recorded with its verdict, a report, a confirmation,
  a clearance, a retraction) is never applied directly: it is appended as a
  fact (``XADD``, pipelined with the catch-up ``XREAD``) and applied when the
  worker reads it back, in stream order, like everyone else's.
* A ``record`` fact carries what redoing it needs on any worker: the message
  (spec form: the analysed text, html, sender, the first 256 recipients and
  their count), the verdict's action, score, signal names and scores and
  account action, whether a decoy was hit, and ``now``. Applying it
  normalises the text, extracts links as the detectors do, then ``prepare``
  and ``record`` on the local state: the worker that saw the message redoes
  it too, so every worker computes the same thing.
* The lookup a detector makes at check time (``prepare``) changes nothing
  shared: expired campaigns it meets are skipped, not dropped (dropping is
  left to the facts, which every worker applies at the same point).
* Campaign ids derive from the stream position of the fact that created the
  campaign (and the message id), not from how many campaigns this worker
  created, so a worker that joined after the log was trimmed, or one that ran
  alone during an outage, still names new campaigns as the others do.
* Duplicates (a pipeline retried after a lost reply) are skipped: each fact
  carries its worker's id and a per-worker number, applied at most once.

Messages that cannot join any campaign (fewer than ``min_tokens`` words and
no link key: "ok", "see you at 5") cost no Redis command: ``prepare``
answers them locally, as ``Campaigns`` would (no match), and ``record`` has
nothing to add. Every other message costs one ``XREAD`` round trip at check
time and one ``XADD`` + ``XREAD`` round trip (pipelined) at verdict time.

Redis unreachable: mutations are applied locally (one warning for the whole
outage) and Redis is tried again at most once every ``retry_after`` seconds;
the first call that succeeds ends the outage (a "recovered" warning) and the
worker catches up with what the others appended meanwhile. Nothing raises
into the engine. What an outage costs: facts applied locally are not
replayed to the log (the others would apply them out of order), so
campaigns seen only during the outage stay known to this worker alone until
they expire, and the states differ that much.

Limits:

* Every worker applies every worker's facts: the clustering work is done
  once per worker, not shared out (it is what keeps the states identical).
* The log is trimmed to about ``maxlen`` facts (``XADD MAXLEN ~``, about
  0.6 KB each). A worker that starts replays the whole retained log before
  its first answer (hundreds of µs a fact: minutes for a full default log),
  and one that starts after facts were trimmed misses the campaigns only
  they described (it names later campaigns like the others, but a copy of a
  campaign it never saw starts a new one there). A snapshot of the state
  with the stream id it reflects would lift both; there is none yet.
* A worker reading more than ``maxlen`` facts behind the others loses the
  ones trimmed meanwhile, silently.
* All workers must run the same :class:`CampaignSettings` (settings are not
  in the log), and the detectors' link extraction: a library caller's own
  ``links`` are used at check time only, facts are redone with
  ``extract_links(text.links, html, limit=LINK_LIMIT)``.
* Ordering holds as long as the stream does: a Redis failover to a replica
  that had not received the last facts loses them for workers that had not
  read them yet, and the states part.
* ``trust`` can be read; adjusting it by hand is local to the worker.

Not thread-safe, like :class:`Campaigns`: one instance per engine.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeAlias

import redis

from spimguard.campaigns.fingerprint import Fingerprint, Fingerprinter
from spimguard.campaigns.index import NearDuplicateIndex
from spimguard.campaigns.minhash import MinHasher
from spimguard.campaigns.model import Campaign, CampaignStatus, Match
from spimguard.campaigns.record import MAX_TRACKED, Record
from spimguard.campaigns.reporters import ReporterTrust
from spimguard.campaigns.settings import CampaignSettings
from spimguard.campaigns.sqlite_log import SqliteCampaignLog
from spimguard.campaigns.state import Campaigns
from spimguard.core.events import MessageEvent, parse_event
from spimguard.core.signals import Signal
from spimguard.core.verdicts import AccountAction, Action, Verdict
from spimguard.links.extract import Link, extract_links
from spimguard.state.outage import Outage, OutageStatus
from spimguard.text.normalize import NormalizedText, normalize

__all__ = ["DEFAULT_MAXLEN", "CampaignLog", "CampaignState", "ReplicatedCampaigns"]

logger = logging.getLogger("spimguard.campaigns")

#: Facts kept in the stream (approximately: ``XADD MAXLEN ~``). About 0.5-1 KB
#: each for a chat message, so the default is some hundreds of MB at most.
DEFAULT_MAXLEN = 1_000_000
#: Facts read per ``XREAD`` (a worker that starts reads the log in such batches).
READ_BATCH = 1000
#: Messages prepared at check time and awaiting their verdict (as ``Campaigns``).
_MAX_PREPARED = 1024
#: Workers whose latest fact number is remembered (for duplicate facts).
_MAX_ORIGINS = 4096
#: Facts that could not be applied, logged (each later one is only counted).
_MAX_BAD_LOGGED = 20
#: Errors that mean "the log is not there" (Redis, sockets, or a SQLite log file).
_LOG_ERRORS = (redis.RedisError, OSError, sqlite3.Error)


class CampaignLog:
    """An append-only log of campaign facts in one Redis stream.

    Each entry has one field, ``f``: the fact as compact JSON. :attr:`last_id`
    is the id of the last entry returned by :meth:`read_new` (``"0-0"`` at
    first: a new reader starts from the oldest retained fact). Errors are
    redis-py's (``redis.RedisError``); :class:`ReplicatedCampaigns` handles them.
    """

    FIELD = b"f"

    def __init__(self, client: redis.Redis, key: str, *, maxlen: int = DEFAULT_MAXLEN,
                 last_id: str = "0-0", batch: int = READ_BATCH) -> None:
        if maxlen < 1 or batch < 1:
            raise ValueError("maxlen and batch must be at least 1")
        self.client = client
        self.key = key
        self.maxlen = maxlen
        self.batch = batch
        self.last_id = last_id
        #: Entries that were not a JSON object under ``f`` (skipped).
        self.malformed = 0
        #: True when the last read returned a full batch: there may be more to read.
        self.more = False

    def __repr__(self) -> str:
        return f"CampaignLog({self.key!r}, last_id={self.last_id!r})"

    def append(self, fact: dict[str, Any]) -> str:
        """Append ``fact``; its stream id."""
        return _text(self.client.xadd(self.key, {self.FIELD: _encode(fact)},
                                      maxlen=self.maxlen, approximate=True))

    def append_and_read(self, fact: dict[str, Any]) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
        """Append ``fact`` and read what follows :attr:`last_id` (itself included, if it
        fits in one batch) in one round trip."""
        pipe = self.client.pipeline(transaction=False)
        pipe.xadd(self.key, {self.FIELD: _encode(fact)}, maxlen=self.maxlen, approximate=True)
        pipe.xread({self.key: self.last_id}, count=self.batch)
        added, reply = pipe.execute()
        return _text(added), self._entries(reply)

    def read_new(self, block_ms: int = 0) -> list[tuple[str, dict[str, Any]]]:
        """The facts after :attr:`last_id`, oldest first, at most ``batch`` of them.

        ``block_ms`` > 0 waits that long for a first fact when there is none
        (``0``, the default, never waits: it is *not* Redis' "block forever").
        """
        if block_ms > 0:
            reply = self.client.xread({self.key: self.last_id}, count=self.batch, block=block_ms)
        else:
            reply = self.client.xread({self.key: self.last_id}, count=self.batch)
        return self._entries(reply)

    def length(self) -> int:
        """Facts currently retained."""
        return int(self.client.xlen(self.key))

    def _entries(self, reply: Any) -> list[tuple[str, dict[str, Any]]]:
        out: list[tuple[str, dict[str, Any]]] = []
        seen = 0
        for raw_id, fields in _stream_entries(reply):
            seen += 1
            eid = _text(raw_id)
            self.last_id = eid
            fact = _decode(fields.get(self.FIELD, fields.get("f")))
            if fact is None:
                self.malformed += 1
                continue
            out.append((eid, fact))
        self.more = seen >= self.batch
        return out


class _Replica(Campaigns):
    """The local state machine: :class:`Campaigns` with three hooks for replication.

    ``peeking``: a check-time lookup skips expired campaigns without dropping
    them. ``stream_seq``: the stream position of the fact being applied, from
    which a new campaign's id is derived. ``extra_recipients``: recipients of
    the message beyond those the fact carries (only the first ``MAX_TRACKED``
    are ever kept, the rest are counted).
    """

    def __init__(self, settings: CampaignSettings | None = None) -> None:
        super().__init__(settings)
        self.peeking = False
        self.stream_seq: int | None = None
        self.extra_recipients = 0

    def peek(self, message: MessageEvent, text: NormalizedText, now: float,
             links: Sequence[Link] | None) -> Match | None:
        self.peeking = True
        try:
            return self.prepare(message, text, now, links)
        finally:
            self.peeking = False

    def _live(self, cid: str, now: float) -> Record | None:
        if not self.peeking:
            return super()._live(cid, now)
        rec = self._find(cid)
        if rec is None:
            return None
        ttl = (self._settings.expiry if rec.status is CampaignStatus.CANDIDATE
               else self._settings.takedown_expiry)
        return None if now - rec.last_seen > ttl else rec

    def _create(self, message_id: str, now: float) -> Record:
        if self.stream_seq is not None:
            self._seq = self.stream_seq
        return super()._create(message_id, now)

    def _add_copy(self, rec: Record, message: MessageEvent, verdict: Verdict, fp: Fingerprint,
                  by_text: bool, now: float) -> None:
        super()._add_copy(rec, message, verdict, fp, by_text, now)
        rec.recipients_total += self.extra_recipients


@dataclass(slots=True)
class _Prepared:
    message: MessageEvent
    text: NormalizedText
    links: bool
    match: Match | None
    decoy: str | None = None


class ReplicatedCampaigns(OutageStatus):
    """:class:`Campaigns`' public surface, replicated through a :class:`CampaignLog`.

    See the module docstring. ``retry_after``: seconds (``clock``, monotonic)
    between attempts to reach Redis while it fails.
    """

    def __init__(self, log: CampaignLog | SqliteCampaignLog,
                 settings: CampaignSettings | None = None, *,
                 retry_after: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.log = log
        self._local = _Replica(settings)
        self._outage = Outage(retry_after, clock)
        #: This worker's name in the facts it appends (unique per instance).
        self.origin = uuid.uuid4().hex[:16]
        self._n = 0
        self._seen: OrderedDict[str, int] = OrderedDict()
        self._prepared: OrderedDict[str, _Prepared] = OrderedDict()
        #: Facts applied (read from the log, or locally while Redis failed).
        self.applied = 0
        #: Facts skipped: duplicates, and ones that could not be applied.
        self.skipped = 0
        self._local_facts = 0
        self._bad_logged = 0

    @classmethod
    def on_redis(cls, client: redis.Redis, key: str,
                 settings: CampaignSettings | None = None, *, maxlen: int = DEFAULT_MAXLEN,
                 retry_after: float = 1.0) -> ReplicatedCampaigns:
        """Replicated through the stream ``key`` of ``client``."""
        return cls(CampaignLog(client, key, maxlen=maxlen), settings, retry_after=retry_after)

    @property
    def retry_after(self) -> float:
        return self._outage.retry_after

    @retry_after.setter
    def retry_after(self, seconds: float) -> None:
        self._outage.retry_after = seconds

    def __repr__(self) -> str:
        return f"ReplicatedCampaigns({self.log!r}, origin={self.origin!r})"

    # -- settings and local parts ---------------------------------------------------

    @property
    def settings(self) -> CampaignSettings:
        return self._local.settings

    @settings.setter
    def settings(self, value: CampaignSettings) -> None:
        """Local: every worker must be given the same settings."""
        self._local.settings = value

    @property
    def local(self) -> Campaigns:
        """The local state (for tests and monitoring; change it through this object)."""
        return self._local

    @property
    def trust(self) -> ReporterTrust:
        """Reporters' track records (read them; adjusting them is not replicated)."""
        return self._local.trust

    @property
    def fingerprinter(self) -> Fingerprinter:
        return self._local.fingerprinter

    @property
    def hasher(self) -> MinHasher:
        return self._local.hasher

    @property
    def index(self) -> NearDuplicateIndex:
        return self._local.index

    # -- per message ----------------------------------------------------------------

    def prepare(self, message: MessageEvent, text: NormalizedText, now: float,
                links: Sequence[Link] | None = None) -> Match | None:
        """Catch up, then fingerprint and look up a message (changes nothing shared)."""
        entry = self._prepared.get(message.id)
        if entry is not None and entry.message is message:
            return entry.match
        if not self._local.fingerprinter(text, message.html, links).usable:
            return None  # joins nothing, records nothing: no need to ask Redis
        self.sync()
        match = self._local.peek(message, text, now, links)
        if len(self._prepared) >= _MAX_PREPARED:
            self._prepared.popitem(last=False)
        self._prepared[message.id] = _Prepared(message, text, links is not None, match)
        return match

    def mark_decoy(self, message: MessageEvent, text: NormalizedText, decoy: str,
                   now: float, links: Sequence[Link] | None = None) -> Match | None:
        """As :meth:`Campaigns.mark_decoy`: the decoy goes into the message's record fact."""
        match = self.prepare(message, text, now, links)
        entry = self._prepared.get(message.id)
        if entry is not None and entry.message is message:
            entry.decoy = decoy
        return match

    def record(self, message: MessageEvent, verdict: Verdict, now: float) -> str | None:
        """Append the prepared message with its verdict, catch up; its campaign id."""
        entry = self._prepared.get(message.id)
        if entry is None or entry.message is not message:
            return None
        del self._prepared[message.id]
        n = len(message.recipients)
        fact: dict[str, Any] = {
            "op": "record",
            "msg": {"ts": message.ts, "id": message.id, "sender": message.sender,
                    "recipients": list(message.recipients[:MAX_TRACKED]),
                    "room": message.room, "text": entry.text.original, "html": message.html,
                    "encrypted": False},
            "n_recipients": n,
            "links": entry.links,
            "decoy": entry.decoy,
            "verdict": {"action": verdict.action.value, "score": verdict.score,
                        "signals": [[s.name, s.score] for s in verdict.signals],
                        "account_action": (verdict.account_action.value
                                           if verdict.account_action else None)},
            "now": now,
        }
        result = self._submit(fact)
        return result if isinstance(result, str) else None

    # -- moderation and operators -------------------------------------------------

    def confirm(self, campaign_id: str, reason: str, now: float | None = None) -> None:
        self._known(campaign_id)
        self._submit({"op": "confirm", "cid": campaign_id, "reason": reason, "now": now})

    def clear(self, campaign_id: str, reason: str, now: float | None = None) -> None:
        self._known(campaign_id)
        self._submit({"op": "clear", "cid": campaign_id, "reason": reason, "now": now})

    def retract(self, campaign_id: str) -> list[str]:
        """The delivered ids (from every worker) as of this retraction, in log order."""
        self._known(campaign_id)
        result = self._submit({"op": "retract", "cid": campaign_id})
        return result if isinstance(result, list) else []

    def report(self, reporter: str, message_id: str, label: str, now: float) -> str | None:
        result = self._submit({"op": "report", "reporter": reporter, "message_id": message_id,
                               "label": label, "now": now})
        return result if isinstance(result, str) else None

    # -- reading (each catches up first) -------------------------------------------

    def get(self, campaign_id: str) -> Campaign | None:
        self.sync()
        return self._local.get(campaign_id)

    def campaigns(self, status: CampaignStatus | None = None) -> list[Campaign]:
        self.sync()
        return self._local.campaigns(status)

    def campaign_of(self, message_id: str) -> str | None:
        self.sync()
        return self._local.campaign_of(message_id)

    def delivered(self, campaign_id: str) -> list[str]:
        self.sync()
        return self._local.delivered(campaign_id)

    def stats(self) -> dict[str, int]:
        self.sync()
        return self._local.stats()

    def __len__(self) -> int:
        self.sync()
        return len(self._local)

    # -- replication ------------------------------------------------------------------

    def sync(self) -> None:
        """Apply every fact appended since the last one applied (no-op while Redis is
        failing and not yet due for a retry)."""
        if self._redis_due():
            try:
                self._apply_all(self.log.read_new())
            except _LOG_ERRORS as e:
                self._failed(e)
            else:
                self._recovered()

    def _submit(self, fact: dict[str, Any]) -> Any:
        """Append a fact and apply the log up to it; its result (locally while Redis fails)."""
        self._n += 1
        n = fact["n"] = self._n
        fact["src"] = self.origin
        if self._redis_due():
            try:
                _, entries = self.log.append_and_read(fact)
                found, result = self._apply_all(entries, n)
            except _LOG_ERRORS as e:
                self._failed(e)
            else:
                self._recovered()
                if found:
                    return result
                # Appended but not read back (trimmed away at once?): applied here.
        # The fact may have reached the log anyway (a reply lost): mark it applied,
        # so that this worker skips it when it reads it back.
        if self._seen.get(self.origin, 0) < n:
            self._seen[self.origin] = n
        self._local_facts += 1
        return self._apply(fact, None)

    def _apply_all(self, entries: list[tuple[str, dict[str, Any]]],
                   want: int | None = None) -> tuple[bool, Any]:
        """Apply ``entries`` and every batch after them (reading on while batches are
        full); whether this worker's fact ``want`` was among them, and its result."""
        found, result = False, None
        while True:
            for eid, fact in entries:
                src, n = fact.get("src"), fact.get("n")
                if isinstance(src, str) and isinstance(n, int):
                    if n <= self._seen.get(src, 0):
                        self.skipped += 1  # a duplicate (or applied locally already)
                        continue
                    self._seen[src] = n
                    self._seen.move_to_end(src)
                    if len(self._seen) > _MAX_ORIGINS:
                        self._seen.popitem(last=False)
                out = self._apply(fact, eid)
                if want is not None and src == self.origin and n == want:
                    found, result = True, out
            if not self.log.more or (want is not None and found):
                return found, result
            entries = self.log.read_new()

    def _apply(self, fact: dict[str, Any], eid: str | None) -> Any:
        """Apply one fact to the local state; never raises."""
        self.applied += 1
        local = self._local
        op = fact.get("op")
        try:
            if op == "record":
                return self._apply_record(fact, eid)
            if op == "report":
                return local.report(fact["reporter"], fact["message_id"], fact["label"],
                                    fact["now"])
            if op == "confirm":
                local.confirm(fact["cid"], fact["reason"], fact["now"])
            elif op == "clear":
                local.clear(fact["cid"], fact["reason"], fact["now"])
            elif op == "retract":
                return local.retract(fact["cid"])
            else:
                self._bad(fact, eid, f"unknown op {op!r}")
        except KeyError as e:  # the campaign expired meanwhile (or a field is missing)
            if not (e.args and str(e.args[0]).startswith("unknown campaign")):
                self._bad(fact, eid, f"missing field {e}")
        except Exception as e:  # a damaged fact must not stop the others
            self._bad(fact, eid, f"{type(e).__name__}: {e}")
        return None

    def _apply_record(self, fact: dict[str, Any], eid: str | None) -> str | None:
        from spimguard.detectors.shared import LINK_LIMIT  # (detectors import this package)

        m = fact["msg"]
        message = parse_event({"type": "message", **m})
        if not isinstance(message, MessageEvent):
            raise ValueError("not a message")
        recipients = tuple(m["recipients"])
        if recipients != message.recipients:  # parse_event drops repeats; keep them as sent
            message = replace(message, recipients=recipients)
        text = normalize(m["text"])
        links = (extract_links(text.links, message.html, limit=LINK_LIMIT).links
                 if fact["links"] else None)
        v = fact["verdict"]
        acct = v["account_action"]
        verdict = Verdict(id=message.id, action=Action(v["action"]), score=float(v["score"]),
                          signals=tuple(Signal(str(name), float(score), "")
                                        for name, score in v["signals"]),
                          account_action=AccountAction(acct) if acct else None)
        local = self._local
        local.extra_recipients = max(0, int(fact["n_recipients"]) - len(recipients))
        local.stream_seq = _stream_seq(eid) if eid is not None else None
        now = float(fact["now"])
        try:
            decoy = fact.get("decoy")
            if isinstance(decoy, str):
                local.mark_decoy(message, text, decoy, now, links)
            else:
                local.prepare(message, text, now, links)
            return local.record(message, verdict, now)
        finally:
            local.extra_recipients = 0
            local.stream_seq = None

    def _known(self, campaign_id: str) -> None:
        self.sync()
        if self._local.get(campaign_id) is None:
            raise KeyError(f"unknown campaign {campaign_id!r}")

    # -- failures --------------------------------------------------------------------

    def _redis_due(self) -> bool:
        return self._outage.due()

    def _failed(self, e: BaseException) -> None:
        if not self._outage.failed():
            return
        self._local_facts = 0
        logger.warning("campaign log %s failed (%s: %s); campaign facts are applied locally "
                       "until it recovers", self.log.key, type(e).__name__, e)

    def _recovered(self) -> None:
        failed = self._outage.recovered()
        if failed is None:
            return
        logger.warning("campaign log %s recovered after %d failed calls; %d facts applied "
                       "locally meanwhile stay local to this worker", self.log.key,
                       failed, self._local_facts)

    def _bad(self, fact: dict[str, Any], eid: str | None, why: str) -> None:
        self.skipped += 1
        if self._bad_logged < _MAX_BAD_LOGGED:
            self._bad_logged += 1
            logger.warning("campaign fact %s (op %r) not applied: %s", eid or "(local)",
                           fact.get("op"), why)


#: What the detectors and operators hold: a local or a replicated campaign state.
CampaignState: TypeAlias = Campaigns | ReplicatedCampaigns


def _stream_seq(eid: str) -> int:
    """A stream id ("<ms>-<n>") as one increasing int."""
    ms, _, n = eid.partition("-")
    return (int(ms) << 20) + int(n or 0)


def _stream_entries(reply: Any) -> Iterator[tuple[Any, dict[Any, Any]]]:
    """The ``(id, fields)`` entries of an XREAD reply, in order, whatever the protocol.

    RESP2: ``[[key, [(id, {field: value}), ...]]]``; RESP3:
    ``{key: [[(id, {field: value}), ...]]}``.
    """
    if isinstance(reply, dict):
        reply = list(reply.values())
    if not isinstance(reply, list | tuple):
        return
    if len(reply) == 2 and isinstance(reply[0], bytes | str) and isinstance(reply[1], dict):
        yield reply[0], reply[1]
        return
    for item in reply:
        yield from _stream_entries(item)


def _encode(fact: dict[str, Any]) -> bytes:
    return json.dumps(fact, separators=(",", ":")).encode()


def _decode(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, bytes | str):
        return None
    try:
        fact = json.loads(raw)
    except ValueError:
        return None
    return fact if isinstance(fact, dict) else None


def _text(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)
