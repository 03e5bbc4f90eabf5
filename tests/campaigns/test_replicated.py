"""Campaign state replicated through a Redis stream: several workers, one campaign state.

Every test runs against a real (private) redis-server, with its own key
prefix. "Workers" are engines with their own ``RedisStore`` objects on one
prefix (in one process, or in two spawned processes); the reference is one
engine on a ``MemoryStore`` fed the same messages.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing as mp
import time
from collections.abc import Callable, Iterable, Sequence
from queue import Empty
from typing import Any

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from spimguard import Engine, MessageEvent, Policy, ReportEvent, Verdict
from spimguard.campaigns import (
    CampaignLog,
    Campaigns,
    CampaignSettings,
    CampaignStatus,
    ReplicatedCampaigns,
    campaigns_for,
)
from spimguard.core.context import MessageContext
from spimguard.core.signals import Hit, SignalSpec
from spimguard.core.verdicts import Action
from spimguard.detectors.base import DetectorBase
from spimguard.detectors.campaigns import CampaignsDetector
from spimguard.detectors.decoys import DecoysDetector
from spimguard.detectors.shared import LINK_LIMIT
from spimguard.links.extract import extract_links
from spimguard.state.base import Store
from spimguard.state.memory import MemoryStore
from spimguard.state.redis import FallbackStore, RedisStore
from spimguard.text import normalize

POLICY: dict[str, Any] = {
    "forced": {"CAMPAIGN_TAKEDOWN": "block", "DECOY_HIT": "block"},
    "account": {"forced": {"DECOY_HIT": "lock"}},
}
BASE = ("Hey, is this you in this video? Everyone in the group is talking about it, "
        "have a look before it gets deleted: http://clips-share.xyz/v/8812")
VARIANTS = [
    BASE,
    BASE.replace("video", "clip"),
    BASE.replace("Everyone", "Everybody").replace("deleted", "removed"),
    BASE.replace("o", "\u043e").replace("a", "\u0430"),
    BASE.replace("is", "i\u200bs").replace("video", "vi\u200ddeo"),
    BASE.replace("/v/8812", "/watch?id=77&ref=grp"),
    BASE + " lol omg",
    BASE.replace("in the group ", ""),
    BASE.replace("video", "v1d30").replace("look", "l00k"),
    BASE.replace("have a look", "a look have"),
]
CHATTER = [
    "are you coming to the party at john's place tonight?",
    "can you send me the report before the meeting tomorrow",
    "ok",
    "the train is late again, I'll be there in twenty minutes",
    "check out our new menu at https://pizzeria-luigi.example/menu this week",
    "lol",
    "I pushed the fix to the branch, can you review it when you have time",
    "did you see the game last night? what a finish in the last minute",
    "see you at 5",
    "don't forget to water the plants while we're away next week",
]
VOUCHER = "grab your free voucher today before it runs out at https://promo-deals.top/a"


class Flagged(DetectorBase):
    """Stands in for the behaviour detectors: challenges the accounts of some senders."""

    name = "flagged"
    signals = (SignalSpec("TEST_FLAGGED", 20.0, "sender flagged by a test"),)

    def __init__(self, senders: Iterable[str] = ()) -> None:
        self.senders = set(senders)

    def check(self, ctx: MessageContext) -> Iterable[Hit]:
        if ctx.message.sender in self.senders:
            yield Hit("TEST_FLAGGED", 1.0, "flagged")


SCENARIOS: dict[str, dict[str, Any]] = {
    "senders": {"settings": {"confirm_senders": 5}},
    "stopped": {"settings": {"confirm_senders": 0, "confirm_stopped": 3},
                "flagged": ["@u2:x.org", "@u4:x.org", "@u5:x.org"]},
    "decoy": {"settings": {"confirm_senders": 0}, "decoy_at": 3},
}


def build(store: Store, flagged: Sequence[str] = (), **settings: Any) -> Engine:
    dets: list[DetectorBase] = [Flagged(flagged)] if flagged else []
    dets += [CampaignsDetector(settings=CampaignSettings(**settings)),
             DecoysDetector(["@decoy:x.org"])]
    return Engine(dets, Policy.from_dict(POLICY), store=store)


def message(n: int, text: str, sender: str, t: float,
            recipients: tuple[str, ...] = ("@bob:x.org",)) -> MessageEvent:
    return MessageEvent(ts=t, id=f"m{n}", sender=sender, recipients=recipients, text=text)


def traffic(decoy_at: int | None = None, copies: int = len(VARIANTS)) -> list[MessageEvent]:
    """A campaign's copies from distinct senders, with ordinary chatter between them."""
    out: list[MessageEvent] = []
    t = 1000.0
    for i in range(copies):
        t += 7.0
        rcpt = ("@decoy:x.org",) if i == decoy_at else (f"@r{i}:x.org", "@bob:x.org")
        out.append(message(len(out) + 1, VARIANTS[i % len(VARIANTS)], f"@u{i}:x.org", t, rcpt))
        t += 3.0
        out.append(message(len(out) + 1, CHATTER[i % len(CHATTER)], f"@h{i}:x.org", t))
    return out


def worker_of(i: int) -> int:
    """Which of two workers gets message ``i`` of :func:`traffic`: copies alternate."""
    return (i // 2) % 2


def summary(v: Verdict) -> tuple[str, tuple[tuple[str, float], ...], str | None, bool]:
    """What a verdict decided, without the campaign id (ids differ from a memory store's)."""
    return (v.action.value, tuple((s.name, round(s.score, 9)) for s in v.signals),
            None if v.account_action is None else v.account_action.value, v.campaign is not None)


def first_takedown(verdicts: Sequence[Verdict]) -> int | None:
    return next((i for i, v in enumerate(verdicts)
                 if any(s.name == "CAMPAIGN_TAKEDOWN" for s in v.signals)), None)


def replicated(worker: Engine | Store) -> ReplicatedCampaigns:
    """The campaign state of an engine (found through its store, as operators do)."""
    state = campaigns_for(worker.store if isinstance(worker, Engine) else worker)
    assert isinstance(state, ReplicatedCampaigns)
    return state


def commands(client: redis.Redis) -> dict[str, int]:
    stats = client.info("commandstats")
    return {c: int(stats.get(f"cmdstat_{c}", {}).get("calls", 0)) for c in ("xadd", "xread")}


# -- wiring --------------------------------------------------------------------------


def test_a_store_on_redis_gets_replicated_campaigns(redis_url: str, redis_prefix: str) -> None:
    plain = campaigns_for(MemoryStore())
    assert type(plain) is Campaigns
    direct = RedisStore(redis_url, prefix=redis_prefix)
    wrapped = FallbackStore(RedisStore(redis_url, prefix=redis_prefix), MemoryStore())
    for store in (direct, wrapped):
        state = replicated(store)
        assert state.log.key == f"{redis_prefix}campaigns:log"
        assert campaigns_for(store) is state
        assert campaigns_for(store, CampaignSettings(confirm_senders=2)) is state
        assert state.settings.confirm_senders == 2
    assert replicated(direct).log.client is direct.client
    assert LINK_LIMIT == 50
    direct.close()
    wrapped.close()


@pytest.mark.parametrize("protocol", [2, 3])
@pytest.mark.parametrize("decode", [False, True])
def test_the_log_reads_every_protocol(redis_server: Any, redis_prefix: str, protocol: int,
                                      decode: bool) -> None:
    client = redis.Redis(port=redis_server.port, protocol=protocol, decode_responses=decode)
    log = CampaignLog(client, redis_prefix + "log", batch=2)
    first = log.append({"op": "x", "text": "caf\u00e9 \ud800"})  # a lone surrogate travels too
    client.xadd(log.key, {"f": "[1]"})
    client.xadd(log.key, {"g": "{}"})
    last, entries = log.append_and_read({"op": "y"})
    assert entries == [(first, {"op": "x", "text": "caf\u00e9 \ud800"})]
    assert log.read_new() == [(last, {"op": "y"})] and log.read_new() == []
    assert log.last_id == last and log.malformed == 2 and log.length() == 4
    client.close()


# -- 1. the same decisions as one engine -----------------------------------------------


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_two_workers_confirm_after_as_many_messages_as_one(
        scenario: str, redis_url: str, redis_prefix: str) -> None:
    conf = SCENARIOS[scenario]
    msgs = traffic(conf.get("decoy_at"))
    flagged = conf.get("flagged", ())

    one = build(MemoryStore(), flagged, **conf["settings"])
    expected = [one.check(m) for m in msgs]
    stores = [RedisStore(redis_url, prefix=redis_prefix) for _ in range(2)]
    workers = [build(s, flagged, **conf["settings"]) for s in stores]
    got = [workers[worker_of(i)].check(m) for i, m in enumerate(msgs)]

    assert [summary(v) for v in got] == [summary(v) for v in expected]
    k = first_takedown(got)
    assert k is not None and k == first_takedown(expected)
    assert {v.campaign for v in got[k:] if v.campaign} != set()
    for w in (0, 1):  # both workers take copies down
        assert any(v.action is Action.BLOCK for i, v in enumerate(got) if worker_of(i) == w)

    # one campaign, one id, on both workers; the same snapshot as one engine's
    ids = {v.campaign for v in got if v.campaign is not None}
    assert len(ids) == 1
    cid = ids.pop()
    a, b = (replicated(w) for w in workers)
    snap = a.get(cid)
    assert snap is not None and snap == b.get(cid)
    assert snap.status is CampaignStatus.CONFIRMED and snap.messages == len(VARIANTS)
    ref = campaigns_for(one.store)
    ref_id = ref.campaign_of("m1")
    assert ref_id is not None
    assert dataclasses.replace(ref.get(ref_id), id=cid) == snap  # type: ignore[arg-type]
    assert a.campaigns() == b.campaigns()
    assert a.stats() == b.stats() == ref.stats()
    assert [a.campaign_of(m.id) for m in msgs] == [b.campaign_of(m.id) for m in msgs]
    assert a.delivered(cid) == b.delivered(cid) == ref.delivered(ref_id)
    assert a.errors == b.errors == 0 and not a.degraded
    for s in stores:
        s.close()


def test_a_late_worker_replays_the_log(redis_url: str, redis_prefix: str) -> None:
    stores = [RedisStore(redis_url, prefix=redis_prefix) for _ in range(3)]
    workers = [build(s, confirm_senders=5) for s in stores[:2]]
    msgs = traffic()
    for i, m in enumerate(msgs):
        workers[worker_of(i)].check(m)
    late = build(stores[2], confirm_senders=5)
    a, c = replicated(workers[0]), replicated(late)
    assert c.campaigns() == a.campaigns() != []
    nxt = late.check(message(99, BASE, "@u99:x.org", 2000.0))
    assert nxt.action is Action.BLOCK and nxt.campaign == a.campaigns()[0].id
    assert a.get(nxt.campaign or "") == c.get(nxt.campaign or "")
    for s in stores:
        s.close()


def test_new_campaigns_get_the_same_id_on_a_worker_without_the_history(
        redis_url: str, redis_prefix: str) -> None:
    """Ids come from the log position, not from how many campaigns a worker made."""
    stores = [RedisStore(redis_url, prefix=redis_prefix) for _ in range(2)]
    a_eng = build(stores[0])
    for m in traffic(copies=4):
        a_eng.check(m)
    a = replicated(a_eng)
    # a worker that starts from the end of the log, as if the rest had been trimmed
    tail = a.log.client.xrevrange(a.log.key, count=1)[0][0].decode()
    b = ReplicatedCampaigns(CampaignLog(stores[1].client, a.log.key, last_id=tail),
                            a.settings)
    b_eng = Engine([CampaignsDetector(b), DecoysDetector(["@decoy:x.org"], state=b)],
                   Policy.from_dict(POLICY), store=stores[1])
    assert b.campaigns() == [] and len(a.campaigns()) == 1
    v1 = a_eng.check(message(50, VOUCHER, "@v1:x.org", 2000.0))
    v2 = b_eng.check(message(51, VOUCHER.replace("/a", "/b"), "@v2:x.org", 2001.0))
    assert v1.campaign is None and v2.campaign is not None
    assert a.get(v2.campaign) == b.get(v2.campaign) is not None
    for s in stores:
        s.close()


# -- 2. takedown through one worker, seen by the other ------------------------------------


def test_takedown_on_one_worker_blocks_the_next_copy_on_the_other(
        redis_url: str, redis_prefix: str) -> None:
    sa, sb = (RedisStore(redis_url, prefix=redis_prefix) for _ in range(2))
    ea, eb = build(sa, confirm_senders=0), build(sb, confirm_senders=0)
    vs = [(ea, eb)[i % 2].check(message(i + 1, VARIANTS[i], f"@u{i}:x.org", 1000.0 + i))
          for i in range(4)]
    assert [v.action for v in vs] == [Action.ALLOW] * 4
    cid = vs[-1].campaign
    assert cid is not None and {v.campaign for v in vs[1:]} == {cid}
    a, b = replicated(ea), replicated(eb)
    assert b.delivered(cid) == ["m1", "m2", "m3", "m4"]
    assert a.retract(cid) == ["m1", "m2", "m3", "m4"]  # copies delivered by both workers
    assert a.delivered(cid) == b.delivered(cid) == []
    snap = b.get(cid)
    assert snap is not None and snap.status is CampaignStatus.TAKEN_DOWN
    nxt = eb.check(message(10, BASE, "@u10:x.org", 1010.0))
    assert nxt.action is Action.BLOCK and nxt.campaign == cid
    assert any(s.name == "CAMPAIGN_TAKEDOWN" for s in nxt.signals)
    assert a.retract(cid) == []  # a second takedown has nothing left to retract
    with pytest.raises(KeyError):
        b.retract("c-nope")
    with pytest.raises(KeyError):
        b.confirm("c-nope", "no such campaign")


def test_confirm_and_clear_by_api_on_either_worker(redis_url: str, redis_prefix: str) -> None:
    sa, sb = (RedisStore(redis_url, prefix=redis_prefix) for _ in range(2))
    ea, eb = build(sa, confirm_senders=0), build(sb, confirm_senders=0)
    ea.check(message(1, VOUCHER, "@v1:x.org", 1000.0))
    a, b = replicated(ea), replicated(eb)
    cid = b.campaign_of("m1")
    assert cid is not None
    b.confirm(cid, "voucher scam, ticket 7", 1001.0)
    v = ea.check(message(2, "totally different words but https://promo-deals.top/b",
                         "@v2:x.org", 1002.0))
    assert v.action is Action.BLOCK and v.campaign == cid
    a.clear(cid, "a real shop after all")
    v = eb.check(message(3, VOUCHER, "@v3:x.org", 1003.0))
    assert v.action is Action.ALLOW and v.campaign == cid
    assert a.get(cid) == b.get(cid)
    assert b.get(cid).status is CampaignStatus.CLEARED  # type: ignore[union-attr]


# -- 3. reports --------------------------------------------------------------------------


def test_moderator_report_on_one_worker_confirms_a_campaign_seen_on_the_other(
        redis_url: str, redis_prefix: str) -> None:
    sa, sb = (RedisStore(redis_url, prefix=redis_prefix) for _ in range(2))
    settings: dict[str, Any] = {"moderators": ("@mod:x.org",), "confirm_senders": 0}
    ea, eb = build(sa, **settings), build(sb, **settings)
    first = ea.check(message(1, BASE, "@u1:x.org", 1000.0))
    assert first.action is Action.ALLOW
    # worker B has not checked a single message yet
    eb.observe(ReportEvent(ts=1001.0, reporter="@mod:x.org", message_id="m1", label="spam"))
    v = ea.check(message(2, VARIANTS[1], "@u2:x.org", 1002.0))
    assert v.action is Action.BLOCK and v.campaign is not None
    detail = next(s.detail for s in v.signals if s.name == "CAMPAIGN_TAKEDOWN")
    assert "reported as spam by moderator @mod:x.org" in detail
    assert eb.check(message(3, VARIANTS[2], "@u3:x.org", 1003.0)).action is Action.BLOCK
    assert replicated(ea).get(v.campaign) == replicated(eb).get(v.campaign)


def test_user_reports_from_both_workers_add_up(redis_url: str, redis_prefix: str) -> None:
    sa, sb = (RedisStore(redis_url, prefix=redis_prefix) for _ in range(2))
    ea, eb = (build(s, confirm_senders=0, confirm_reports=1.0) for s in (sa, sb))
    ea.check(message(1, BASE, "@u1:x.org", 1000.0))
    eb.check(message(2, BASE, "@u2:x.org", 1001.0))
    ea.observe(ReportEvent(ts=1002.0, reporter="@r1:x.org", message_id="m2", label="spam"))
    assert eb.check(message(3, BASE, "@u3:x.org", 1003.0)).action is Action.ALLOW  # 0.5 < 1
    eb.observe(ReportEvent(ts=1004.0, reporter="@r2:x.org", message_id="m1", label="spam"))
    v = ea.check(message(4, BASE, "@u4:x.org", 1005.0))
    assert v.action is Action.BLOCK
    assert "user spam reports weighing 1.0" in next(
        s.detail for s in v.signals if s.name == "CAMPAIGN_TAKEDOWN")


# -- cost, duplicates, damage ------------------------------------------------------------


def test_commands_per_message(redis_server: Any, redis_prefix: str) -> None:
    store = RedisStore(redis_server.url, prefix=redis_prefix)
    eng = build(store)
    client = redis_server.client()
    before = commands(client)
    for i, text in enumerate(["ok", "lol", "see you at 5", "thanks!"]):
        eng.check(message(i + 1, text, f"@h{i}:x.org", 1000.0 + i))
    assert commands(client) == before  # too short to cluster: no Redis command at all
    eng.check(message(10, BASE, "@u1:x.org", 1010.0))
    after = commands(client)
    # one XREAD to catch up before the look-up, one XADD + XREAD (pipelined) to record
    assert after["xadd"] - before["xadd"] == 1 and after["xread"] - before["xread"] == 2
    client.close()
    store.close()


def test_a_duplicated_fact_is_applied_once(redis_url: str, redis_prefix: str) -> None:
    """A pipeline retried after a lost reply appends the same fact twice."""
    sa, sb = (RedisStore(redis_url, prefix=redis_prefix) for _ in range(2))
    ea = build(sa)
    ea.check(message(1, BASE, "@u1:x.org", 1000.0))
    a = replicated(ea)
    entry = a.log.client.xrevrange(a.log.key, count=1)[0]
    a.log.client.xadd(a.log.key, entry[1])  # the same fields again
    a.log.client.xadd(a.log.key, {b"f": b"not json"})
    a.log.client.xadd(a.log.key, {b"f": b'{"op": "explode"}'})
    ea.check(message(2, BASE, "@u2:x.org", 1001.0))
    b = replicated(build(sb))
    cid = b.campaign_of("m1")
    assert cid is not None
    assert b.get(cid) == a.get(cid) and b.get(cid).messages == 2  # type: ignore[union-attr]
    assert b.skipped == 2 and b.log.malformed == 1  # the duplicate and the unknown op


def test_a_fact_behind_a_backlog_is_applied_in_order(redis_url: str, redis_prefix: str) -> None:
    """Reading in small batches: a worker's own fact waits for everything before it."""
    sa, sb = (RedisStore(redis_url, prefix=redis_prefix) for _ in range(2))
    ea = build(sa, confirm_senders=5)
    a = replicated(ea)
    b = ReplicatedCampaigns(CampaignLog(sb.client, a.log.key, batch=2), a.settings)
    msgs = traffic()
    mine = message(99, BASE, "@u99:x.org", 2000.0)
    text = normalize(BASE)
    links = extract_links(text.links, None, limit=LINK_LIMIT).links
    assert b.prepare(mine, text, mine.ts, links) is None  # nothing in the log yet
    for i, m in enumerate(msgs):  # meanwhile, worker A confirms the campaign
        ea.check(m)
        if i == 4:
            a.log.client.xadd(a.log.key, {b"f": b"damaged"})
    cid = b.record(mine, Verdict(id=mine.id, action=Action.ALLOW, score=0.0, signals=()),
                   mine.ts)
    assert cid is not None and cid == a.campaign_of(mine.id)
    assert b.log.malformed == 1 and b.local.stats()["pending"] == 0
    assert b.campaigns() == a.campaigns() and b.get(cid).messages == len(VARIANTS) + 1  # type: ignore[union-attr]
    assert b.delivered(cid)[-1] == mine.id


def test_recipients_beyond_the_tracked_ones_are_counted(
        redis_url: str, redis_prefix: str) -> None:
    many = tuple(f"@r{i}:x.org" for i in range(1000))
    msgs = [message(i + 1, BASE, f"@u{i}:x.org", 1000.0 + i, many) for i in range(2)]
    one = build(MemoryStore())
    for m in msgs:
        one.check(m)
    ref = campaigns_for(one.store)
    sa, sb = (RedisStore(redis_url, prefix=redis_prefix) for _ in range(2))
    workers = [build(sa), build(sb)]
    for i, m in enumerate(msgs):
        workers[i].check(m)
    b = replicated(workers[1])
    cid = b.campaign_of("m1")
    ref_id = ref.campaign_of("m1")
    assert cid is not None and ref_id is not None
    snap = b.get(cid)
    assert snap is not None and snap.recipients_total == 2000
    assert snap == dataclasses.replace(ref.get(ref_id), id=cid)  # type: ignore[arg-type]
    raw = b.log.client.xrevrange(b.log.key, count=1)[0][1][b"f"]
    assert len(raw) < 8000  # 256 recipients travel, not 1,000


# -- 4. two real processes -----------------------------------------------------------------


def _process_worker(url: str, prefix: str, settings: dict[str, Any],
                    inbox: Any, outbox: Any) -> None:
    store = RedisStore(url, prefix=prefix)
    eng = build(store, **settings)
    while True:
        item = inbox.get()
        if item is None:
            break
        kind, payload = item
        if kind == "message":
            payload["recipients"] = tuple(payload["recipients"])
            v = eng.check(MessageEvent(**payload))
            outbox.put((summary(v), v.campaign))
        else:
            snap = campaigns_for(eng.store).get(payload)
            outbox.put(None if snap is None else dataclasses.asdict(snap))
    store.close()


def test_two_processes_in_lockstep_decide_as_one_engine(
        redis_url: str, redis_prefix: str) -> None:
    settings = {"confirm_senders": 5}
    msgs = traffic()
    one = build(MemoryStore(), **settings)
    expected = [summary(one.check(m)) for m in msgs]

    ctx = mp.get_context("spawn")
    inboxes = [ctx.Queue() for _ in range(2)]
    outboxes = [ctx.Queue() for _ in range(2)]
    procs = [ctx.Process(target=_process_worker,
                         args=(redis_url, redis_prefix, settings, inboxes[i], outboxes[i]),
                         daemon=True) for i in range(2)]
    for p in procs:
        p.start()
    try:
        got = []
        for i, m in enumerate(msgs):  # lockstep: the next message waits for this verdict
            fields = {f.name: getattr(m, f.name) for f in dataclasses.fields(m)}
            inboxes[worker_of(i)].put(("message", fields))
            got.append(outboxes[worker_of(i)].get(timeout=120))
        assert [g[0] for g in got] == expected
        ids = {g[1] for g in got if g[1] is not None}
        assert len(ids) == 1
        cid = ids.pop()
        snaps = []
        for i in range(2):
            inboxes[i].put(("get", cid))
            snaps.append(outboxes[i].get(timeout=60))
        assert snaps[0] == snaps[1] and snaps[0]["status"] == "confirmed"
        assert snaps[0]["messages"] == len(VARIANTS)
    except Empty:
        pytest.fail("a worker process did not answer")
    finally:
        for q in inboxes:
            q.put(None)
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
    assert all(p.exitcode == 0 for p in procs)


# -- 5. Redis goes away ---------------------------------------------------------------------


def campaign_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "spimguard.campaigns" and r.levelno >= logging.WARNING]


def test_redis_down_keeps_answering_on_local_state_and_recovers(
        redis_server_factory: Callable[..., Any], redis_prefix: str,
        caplog: pytest.LogCaptureFixture) -> None:
    server = redis_server_factory()
    sa = FallbackStore(RedisStore(server.url, prefix=redis_prefix), MemoryStore(),
                       retry_after=0.3)
    ea = build(sa, confirm_senders=3)
    a = replicated(ea)
    a.retry_after = 0.3
    t = 1000.0
    with caplog.at_level(logging.INFO):
        assert ea.check(message(1, BASE, "@u1:x.org", t)).action is Action.ALLOW
        server.kill()
        vs = [ea.check(message(i, VARIANTS[i], f"@u{i}:x.org", t + i)) for i in range(2, 6)]
        for v in vs:
            assert {e.detector: e.status for e in v.trace}["campaigns"] == "ran"
        # copies 1 (before the outage), 2, 3 confirm on local state; 4 and 5 are taken down
        assert [v.action for v in vs] == [Action.ALLOW, Action.ALLOW, Action.BLOCK,
                                          Action.BLOCK]
        assert a.degraded and a.errors >= 1
        cid = vs[-1].campaign
        assert cid is not None and a.get(cid).status is CampaignStatus.CONFIRMED  # type: ignore[union-attr]
        assert a.retract(cid) == ["m1", "m2", "m3"]  # operators still work, locally
        time.sleep(0.35)
        ea.check(message(7, VARIANTS[7], "@u7:x.org", t + 7))  # retried, failed again
        assert len(campaign_warnings(caplog)) == 1, campaign_warnings(caplog)
        assert "failed" in campaign_warnings(caplog)[0]
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

        server = redis_server_factory(port=server.port)  # back, and empty
        time.sleep(0.35)
        sb = FallbackStore(RedisStore(server.url, prefix=redis_prefix), MemoryStore())
        eb = build(sb, confirm_senders=3)
        v1 = ea.check(message(20, VOUCHER, "@v1:x.org", t + 20))
        assert not a.degraded
        logged = campaign_warnings(caplog)
        assert len(logged) == 2 and "recovered" in logged[1]
        v2 = eb.check(message(21, VOUCHER.replace("/a", "/b"), "@v2:x.org", t + 21))
        assert v1.campaign is None and v2.campaign is not None  # B learned A's message
        assert a.get(v2.campaign) == replicated(eb).get(v2.campaign)
        assert a.get(cid) is not None and replicated(eb).get(cid) is None  # stays local
    sa.close()
    sb.close()


def test_a_campaign_log_on_a_dead_port_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    client = redis.Redis(port=1, socket_timeout=0.2, socket_connect_timeout=0.2,
                         retry=Retry(NoBackoff(), 0))
    state = ReplicatedCampaigns(CampaignLog(client, "x:campaigns:log"),
                                CampaignSettings(confirm_senders=0,
                                                 moderators=("@mod:x.org",)))
    eng = Engine([CampaignsDetector(state), DecoysDetector(["@decoy:x.org"], state=state)],
                 Policy.from_dict(POLICY))
    with caplog.at_level(logging.WARNING, logger="spimguard.campaigns"):
        eng.check(message(1, BASE, "@u1:x.org", 1000.0))
        eng.observe(ReportEvent(ts=1001.0, reporter="@mod:x.org", message_id="m1",
                                label="spam"))
        v = eng.check(message(2, BASE, "@u2:x.org", 1002.0, ("@decoy:x.org",)))
    assert v.action is Action.BLOCK and any(s.name == "CAMPAIGN_TAKEDOWN" for s in v.signals)
    assert state.degraded and len(campaign_warnings(caplog)) == 1
    assert len(state.campaigns()) == 1 and state.stats()["pending"] == 0
