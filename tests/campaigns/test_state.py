"""Campaigns state used directly (no engine): API edges, backends, reporter trust."""

import pytest

from spimguard import MessageEvent
from spimguard.campaigns import (
    Campaigns,
    CampaignSettings,
    CampaignStatus,
    DatasketchIndex,
    MinHasher,
    ReporterTrust,
)
from spimguard.core.verdicts import AccountAction, Action, Verdict
from spimguard.text import normalize

TEXT = "your parcel is on hold, pay the customs fee of 2 euro at https://parcel-fee.top/p/1"
ALLOW = Verdict("x", Action.ALLOW, 0.0, ())
BLOCK = Verdict("x", Action.BLOCK, 10.0, ())
LOCKED = Verdict("x", Action.BLOCK, 30.0, (), account_action=AccountAction.LOCK)


def feed(state: Campaigns, text: str, i: int, verdict: Verdict = ALLOW,
         now: float | None = None) -> str | None:
    msg = MessageEvent(ts=float(i), id=f"m{i}", sender=f"@u{i}:x.org", recipients=("@b:x.org",),
                       text=text)
    t = float(i) if now is None else now
    state.prepare(msg, normalize(text), t)
    return state.record(msg, verdict, t)


@pytest.mark.parametrize("index", ["bands", "datasketch"])
def test_backends_cluster_alike(index: str) -> None:
    hasher = MinHasher()
    state = Campaigns(hasher=hasher,
                      index=DatasketchIndex(hasher) if index == "datasketch" else None)
    a = feed(state, TEXT, 1)
    b = feed(state, TEXT.replace("customs", "import").replace("2 euro", "3 euro"), 2)
    c = feed(state, "totally different words about lunch plans for the weekend trip", 3)
    assert a == b != c


def test_record_without_prepare_or_twice_is_a_no_op() -> None:
    state = Campaigns()
    msg = MessageEvent(ts=1.0, id="m1", sender="@a:x.org", recipients=("@b:x.org",), text=TEXT)
    assert state.record(msg, ALLOW, 1.0) is None
    state.prepare(msg, normalize(TEXT), 1.0)
    assert state.prepare(msg, normalize(TEXT), 1.0) is None  # memoised, still no match
    cid = state.record(msg, ALLOW, 1.0)
    assert cid is not None and state.record(msg, ALLOW, 1.0) is None
    camp = state.get(cid)
    assert camp is not None and camp.messages == 1 and camp.delivered == 1


def test_snapshot_fields() -> None:
    state = Campaigns()
    for i in range(4):
        cid = feed(state, TEXT.replace("1", str(i)), i, [ALLOW, ALLOW, BLOCK, LOCKED][i])
    camp = state.get(cid or "")
    assert camp is not None
    assert (camp.messages, camp.senders, camp.recipients, camp.recipients_total) == (4, 4, 1, 4)
    assert camp.domains == ("parcel-fee.top",) and len(camp.samples) == 3
    assert camp.delivered == 2 and camp.stopped_senders == 1
    assert camp.first_seen == 0.0 and camp.last_seen == 3.0
    assert state.campaigns(CampaignStatus.CANDIDATE) == [camp]
    assert state.campaigns(CampaignStatus.CONFIRMED) == []


def test_unknown_campaign_ids_raise() -> None:
    state = Campaigns()
    for call in (lambda: state.confirm("c-0", "x"), lambda: state.clear("c-0", "x"),
                 lambda: state.retract("c-0"), lambda: state.delivered("c-0")):
        with pytest.raises(KeyError):
            call()
    assert state.get("c-0") is None and state.campaign_of("m1") is None


def test_reporter_credit_is_reversed_when_a_moderator_overrules() -> None:
    state = Campaigns(CampaignSettings(moderators=("@mod:x.org",), confirm_senders=2,
                                       confirm_reports=0))
    feed(state, TEXT, 1)
    state.report("@user:x.org", "m1", "spam", 1.5)
    feed(state, TEXT, 2)  # two senders with a link: confirmed, the reporter credited
    assert state.trust.weight("@user:x.org") == pytest.approx(2 / 3)
    state.report("@mod:x.org", "m2", "ham", 3.0)  # overruled: credit becomes a debit
    assert state.trust.weight("@user:x.org") == pytest.approx(1 / 3)
    state.confirm(state.campaign_of("m1") or "", "second look")
    assert state.trust.weight("@user:x.org") == pytest.approx(2 / 3)


def test_spam_report_on_a_cleared_campaign_costs_trust() -> None:
    state = Campaigns(CampaignSettings(moderators=("@mod:x.org",)))
    feed(state, TEXT, 1)
    state.report("@mod:x.org", "m1", "ham", 2.0)
    state.report("@user:x.org", "m1", "spam", 3.0)
    assert state.trust.weight("@user:x.org") == pytest.approx(1 / 3)
    state.report("@user2:x.org", "m1", "ham", 3.0)  # a user's "not spam" decides nothing
    assert state.get(state.campaign_of("m1") or "").status is CampaignStatus.CLEARED  # type: ignore[union-attr]


def test_reporter_trust_is_bounded() -> None:
    trust = ReporterTrust(max_reporters=3)
    for r in "abcd":
        trust.adjust(r, right=1.0)
    assert len(trust) == 3 and trust.weight("a") == 0.5
    assert trust.weight("d") == pytest.approx(2 / 3)
    trust.adjust("d", right=-5.0)
    assert trust.weight("d") == 0.5


def test_settings_change_applies_to_the_next_message() -> None:
    state = Campaigns()
    short = "cheap pills and more at pharm-x.top now"
    assert state.fingerprinter(normalize(short)).text_ok
    state.settings = CampaignSettings(min_tokens=8)
    assert not state.fingerprinter(normalize(short)).text_ok


def test_decided_campaigns_are_bounded() -> None:
    state = Campaigns(CampaignSettings(max_campaigns=8))
    for i in range(40):
        cid = feed(state, f"{TEXT} batch {'abcdefghijklmnopqrstuvwxyz'[i % 26]} q{i}x "
                          f"https://site{i}.top/", i)
        state.confirm(cid or "", "bulk")
    assert state.stats()["decided"] <= 8 // 4 + 1


def test_a_huge_campaign_keeps_bounded_sender_sets() -> None:
    state = Campaigns(CampaignSettings(confirm_senders=0))
    for i in range(1000):
        msg = MessageEvent(ts=float(i), id=f"m{i}", sender=f"@s{i}:x.org",
                           recipients=tuple(f"@r{i}-{k}:x.org" for k in range(3)), text=TEXT)
        match = state.prepare(msg, normalize(TEXT), float(i))
        cid = state.record(msg, ALLOW if i % 2 else LOCKED, float(i))
    assert match is not None and match.senders == 999 and match.recent_senders == 32
    camp = state.get(cid or "")
    assert camp is not None
    assert camp.senders == 1000 and camp.recipients == 256 and camp.recipients_total == 3000
    assert camp.stopped_senders == 256 and camp.delivered == 500
    rec = state._find(cid or "")
    assert rec is not None and len(rec.senders) == 256 and len(rec.link_senders or {}) == 256
