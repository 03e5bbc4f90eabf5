"""The campaigns detector in the real engine: clustering, confirmation, takedown, reports."""

import random
import time
from collections.abc import Iterable
from typing import Any

import pytest

from spimguard import Engine, MessageEvent, Policy, ReportEvent, Verdict
from spimguard.campaigns import (
    Campaigns,
    CampaignSettings,
    CampaignStatus,
    Match,
    campaigns_for,
)
from spimguard.core.context import MessageContext
from spimguard.core.signals import Hit, SignalSpec
from spimguard.core.verdicts import Action
from spimguard.detectors.base import DetectorBase
from spimguard.detectors.campaigns import CampaignsDetector, match_strength
from spimguard.detectors.decoys import DecoysDetector

POLICY: dict[str, Any] = {
    "forced": {"CAMPAIGN_TAKEDOWN": "block", "DECOY_HIT": "block"},
    "account": {"forced": {"DECOY_HIT": "lock"}},
}
BASE = ("Hey, is this you in this video? Everyone in the group is talking about it, "
        "have a look before it gets deleted: http://clips-share.xyz/v/8812")


class Flagged(DetectorBase):
    """Stands in for the behaviour detectors: challenges the accounts of some senders."""

    name = "flagged"
    signals = (SignalSpec("TEST_FLAGGED", 20.0, "sender flagged by a test"),)

    def __init__(self, senders: Iterable[str] = ()) -> None:
        self.senders = set(senders)

    def check(self, ctx: MessageContext) -> Iterable[Hit]:
        if ctx.message.sender in self.senders:
            yield Hit("TEST_FLAGGED", 1.0, "flagged")


class Worded(DetectorBase):
    """Stands in for the content model: holds every copy for its wording."""

    name = "worded"
    signals = (SignalSpec("TEST_WORDING", 7.0, "wording held by a test"),)

    def check(self, ctx: MessageContext) -> Iterable[Hit]:
        yield Hit("TEST_WORDING", 1.0, "spammy wording")


def make(*extra: DetectorBase, moderators: tuple[str, ...] = (),
         **settings: Any) -> tuple[Engine, Campaigns]:
    state = Campaigns(CampaignSettings(moderators=moderators, **settings))
    dets = [*extra, CampaignsDetector(state), DecoysDetector(["@decoy:x.org"], state=state)]
    return Engine(dets, Policy.from_dict(POLICY)), state


class Feed:
    """Sends messages with increasing ids and times."""

    def __init__(self, engine: Engine, t0: float = 1000.0) -> None:
        self.engine, self.t, self.n = engine, t0, 0

    def send(self, text: str | None, sender: str, recipients: tuple[str, ...] = ("@bob:x.org",),
             dt: float = 10.0, room: str | None = None) -> Verdict:
        self.n += 1
        self.t += dt
        msg = MessageEvent(ts=self.t, id=f"m{self.n}", sender=sender, recipients=recipients,
                           text=text, encrypted=text is None, room=room)
        return self.engine.check(msg)

    def report(self, reporter: str, message_id: str, label: str) -> None:
        self.t += 1
        self.engine.observe(ReportEvent(ts=self.t, reporter=reporter, message_id=message_id,
                                        label=label))  # type: ignore[arg-type]


def names(v: Verdict) -> dict[str, str]:
    return {s.name: s.detail for s in v.signals}


# -- clustering ---------------------------------------------------------------

MUTATIONS = [
    ("synonym", BASE.replace("video", "clip")),
    ("two synonyms", BASE.replace("Everyone", "Everybody").replace("deleted", "removed")),
    ("homoglyphs", BASE.replace("o", "\u043e").replace("a", "\u0430")),
    ("zero-width", BASE.replace("is", "i\u200bs").replace("video", "vi\u200ddeo")),
    ("same domain, other URL", BASE.replace("/v/8812", "/watch?id=77&ref=grp")),
    ("rotating domain", BASE.replace("clips-share.xyz", "vid-now.top")),
    ("added words", BASE + " lol omg"),
    ("dropped words", BASE.replace("in the group ", "")),
    ("leetspeak", BASE.replace("video", "v1d30").replace("look", "l00k")),
    ("swapped words", BASE.replace("have a look", "a look have")),
]


@pytest.mark.parametrize("label,variant", MUTATIONS)
def test_near_duplicates_join_the_campaign(label: str, variant: str) -> None:
    eng, _ = make()
    feed = Feed(eng)
    feed.send(BASE, "@u1:x.org")
    second = feed.send(BASE, "@u2:x.org")
    assert second.campaign is not None
    v = feed.send(variant, "@u3:x.org")
    assert v.campaign == second.campaign, (label, names(v))
    assert "CAMPAIGN_MATCH" in names(v)


def test_mutated_campaign_stays_one_cluster() -> None:
    eng, state = make(confirm_senders=0)
    feed = Feed(eng)
    ids = {feed.send(text, f"@u{i}:x.org").campaign
           for i, (_, text) in enumerate([("base", BASE), *MUTATIONS])}
    ids.discard(None)
    assert len(ids) == 1
    camp = state.get(ids.pop() or "")
    assert camp is not None and camp.messages == len(MUTATIONS) + 1
    assert camp.senders == len(MUTATIONS) + 1 and "clips-share.xyz" in camp.domains


UNRELATED = [
    "are you coming to the party at john's place tonight?",
    "can you send me the report before the meeting tomorrow",
    "the train is late again, I'll be there in twenty minutes",
    "happy birthday!! hope you have a wonderful day with the family",
    "did you see the game last night? what a finish in the last minute",
    "mum says dinner is at seven, bring the salad please",
    "I pushed the fix to the branch, can you review it when you have time",
    "check out our new menu at https://pizzeria-luigi.example/menu this week",
    "the meeting moved to room 4 on the second floor, see you there",
    "don't forget to water the plants while we're away next week",
]


def test_unrelated_messages_do_not_cluster() -> None:
    eng, state = make()
    feed = Feed(eng)
    for i, text in enumerate(UNRELATED * 1):
        v = feed.send(text, f"@u{i}:x.org")
        assert v.campaign is None and not v.signals, text
    assert state.campaigns() == []


@pytest.mark.parametrize("text", ["ok", "lol", "thanks!", "see you at 5", "ok ok ok ok ok ok"])
def test_short_texts_never_form_campaigns(text: str) -> None:
    eng, state = make()
    feed = Feed(eng)
    for i in range(30):
        v = feed.send(text, f"@u{i}:x.org")
        assert v.campaign is None and v.action is Action.ALLOW
    assert len(state) == 0


CHAIN = "forward this to ten friends or you will have bad luck for seven years"


@pytest.mark.parametrize("near,variant,joins", [
    ("links", CHAIN.upper() + "!!!", True),  # word for word after normalisation
    ("links", CHAIN.replace("ten", "twelve"), False),  # no link: exact copies only
    ("all", CHAIN.replace("ten", "twelve"), True),
])
def test_texts_without_links_match_near_duplicates_only_if_asked(
        near: str, variant: str, joins: bool) -> None:
    eng, _ = make(near_duplicates=near)
    feed = Feed(eng)
    feed.send(CHAIN, "@u1:x.org")
    assert (feed.send(variant, "@u2:x.org").campaign is not None) is joins


def test_one_sender_repeating_is_not_a_campaign_match() -> None:
    eng, _ = make()
    feed = Feed(eng)
    for _ in range(10):
        v = feed.send(BASE, "@spammy:x.org")
        assert "CAMPAIGN_MATCH" not in names(v) and v.campaign is None


def test_shared_unknown_domain_groups_different_texts() -> None:
    eng, _ = make()
    feed = Feed(eng)
    first = feed.send("grab your free voucher today at https://promo-deals.top/a", "@u1:x.org")
    v = feed.send("lol look https://promo-deals.top/zz", "@u2:x.org")
    assert v.campaign is not None and first.campaign is None
    assert "same link (promo-deals.top)" in names(v)["CAMPAIGN_MATCH"]
    other = feed.send("lol look https://www.youtube.com/watch?v=1", "@u3:x.org")
    assert other.campaign is None  # allow-listed sites group nothing


def test_a_confirmed_campaign_takes_down_its_domain() -> None:
    eng, state = make()
    feed = Feed(eng)
    first = feed.send("grab your free voucher today at https://promo-deals.top/a", "@u1:x.org")
    state.confirm(state.campaign_of(first.id) or "", "voucher scam")
    v = feed.send("totally different words but https://promo-deals.top/b", "@u2:x.org")
    assert v.action is Action.BLOCK
    assert names(v)["CAMPAIGN_TAKEDOWN"].startswith("links to promo-deals.top like campaign c-")


# -- CAMPAIGN_MATCH strength --------------------------------------------------

def test_match_strength_grows_with_senders_and_detail_names_the_campaign() -> None:
    eng, _ = make(confirm_senders=0)
    feed = Feed(eng)
    feed.send(BASE, "@u0:x.org")
    scores = []
    for i in range(1, 12):
        v = feed.send(BASE, f"@u{i}:x.org", dt=60)
        match = next(s for s in v.signals if s.name == "CAMPAIGN_MATCH")
        scores.append(match.score)
    assert scores == sorted(scores) and scores[0] < scores[-1] <= 3.0
    assert match.detail == f"same text as 11 messages from 11 senders in 11 min ({v.campaign})"
    assert v.campaign is not None and v.campaign.startswith("c-")


def test_linkless_campaign_with_nothing_to_act_on_gets_no_strength() -> None:
    eng, state = make()
    feed = Feed(eng)
    text = "forward this to ten friends or you will have bad luck for seven years"
    for i in range(12):
        v = feed.send(text, f"@u{i}:x.org")
    assert v.action is Action.ALLOW and v.campaign is not None  # still named for moderators
    assert names_scores(v)["CAMPAIGN_MATCH"] == 0.0
    assert state.get(v.campaign).status is CampaignStatus.CANDIDATE


def test_linkless_campaign_with_a_phone_number_counts_a_quarter() -> None:
    eng, _ = make()
    feed = Feed(eng)
    text = "forward this to ten friends or call 09061701461 for seven years of luck"
    for i in range(12):
        v = feed.send(text, f"@u{i}:x.org")
    assert v.action is Action.ALLOW and v.campaign is not None
    assert 0 < names_scores(v)["CAMPAIGN_MATCH"] <= 0.75  # never confirmed without a link


class SpamWording(DetectorBase):
    """Stands in for the content model's CONTENT_SPAM."""

    name = "spam_wording"
    signals = (SignalSpec("CONTENT_SPAM", 1.0, "wording read as spam by a test"),)

    def check(self, ctx: MessageContext) -> Iterable[Hit]:
        yield Hit("CONTENT_SPAM", 1.0, "classifier p=0.99")


def test_linkless_campaign_with_spam_wording_counts() -> None:
    eng, _ = make(SpamWording())
    feed = Feed(eng)
    text = "forward this to ten friends or you will have bad luck for seven years"
    for i in range(4):
        v = feed.send(text, f"@u{i}:x.org")
    assert names_scores(v)["CAMPAIGN_MATCH"] > 0


@pytest.mark.parametrize("text", ["happy new year!", "ok see you at 6", "thanks so much!!",
                                  "congrats 🎉🎉 so happy for you", "on my way, 5 min"])
def test_ordinary_repeated_text_never_confirms(text: str) -> None:
    """Locked accounts (a decoy hit each) saying something ordinary never get the
    phrase blocked for everyone, and neither do many senders or reports."""
    eng, state = make(Flagged([f"@bad{i}:x.org" for i in range(5)]))
    feed = Feed(eng)
    for i in range(5):
        feed.send("win a prize at http://prize-now.xyz/claim today", f"@bad{i}:x.org",
                  recipients=("@decoy:x.org",))
        feed.send(text, f"@bad{i}:x.org")
    for i in range(30):
        v = feed.send(text, f"@fresh{i}:x.org")
        feed.report(f"@r{i}:x.org", v.id, "spam")
    v = feed.send(text, "@newcomer:x.org")
    assert v.action is Action.ALLOW
    assert "CAMPAIGN_TAKEDOWN" not in names_scores(v)
    assert names_scores(v).get("CAMPAIGN_MATCH", 0.0) == 0.0
    assert all(c.status is CampaignStatus.CANDIDATE for c in state.campaigns()
               if "prize" not in " ".join(c.samples))


def _m(recent: int = 0, messages: int = 1, via: str = "exact", linked: bool = True,
       reports: float = 0.0) -> Match:
    return Match(campaign="c-1", status=CampaignStatus.CANDIDATE, reason="", via=via,
                 similarity=1.0, messages=messages, senders=recent, recent_senders=recent,
                 cross_sender=True, new_sender=True, first_seen=0.0, reports=reports,
                 linked=linked)


@pytest.mark.parametrize("match,low,high", [
    (_m(recent=1, messages=1), 0.25, 0.3),  # a second sender
    (_m(recent=4, messages=4), 0.6, 0.65),
    (_m(recent=9, messages=14), 0.9, 0.97),
    (_m(recent=30, messages=200), 1.0, 1.0),
    (_m(recent=0, messages=30), 0.2, 0.25),  # many copies, but not recently from others
    (_m(recent=9, messages=14, via="link"), 0.45, 0.49),
    (_m(recent=9, messages=14, linked=False), 0.22, 0.25),
    (_m(recent=1, messages=1, reports=1.5), 0.4, 0.45),
])
def test_match_strength(match: Match, low: float, high: float) -> None:
    assert low <= match_strength(match) <= high


def names_scores(v: Verdict) -> dict[str, float]:
    return {s.name: s.score for s in v.signals}


# -- confirmation by thresholds -----------------------------------------------

def test_threshold_confirmation_takes_down_the_next_copy() -> None:
    eng, state = make(confirm_senders=5, confirm_window=3600)
    feed = Feed(eng)
    verdicts = [feed.send(BASE.replace("8812", str(i)), f"@u{i}:x.org") for i in range(5)]
    assert all(v.action is Action.ALLOW for v in verdicts)
    cid = verdicts[-1].campaign
    assert cid is not None
    camp = state.get(cid)
    assert camp is not None and camp.status is CampaignStatus.CONFIRMED
    assert "5 senders sent near-identical text with a link" in camp.reason
    assert camp.decided_at == feed.t
    nxt = feed.send(BASE.replace("video", "clip"), "@u99:x.org")
    assert nxt.action is Action.BLOCK and nxt.campaign == cid
    assert cid in names(nxt)["CAMPAIGN_TAKEDOWN"] and "5 senders" in names(nxt)["CAMPAIGN_TAKEDOWN"]


def test_threshold_needs_the_senders_within_the_window() -> None:
    eng, state = make(confirm_senders=3, confirm_window=600)
    feed = Feed(eng)
    for i in range(6):
        v = feed.send(BASE, f"@u{i}:x.org", dt=700)  # one sender every ~12 min
    assert v.campaign is not None
    camp = state.get(v.campaign)
    assert camp is not None and camp.status is CampaignStatus.CANDIDATE


def test_threshold_needs_a_link() -> None:
    eng, state = make(confirm_senders=3)
    feed = Feed(eng)
    for i in range(10):
        v = feed.send("forward this to ten friends or you will have bad luck", f"@u{i}:x.org")
    assert v.campaign is not None
    assert state.get(v.campaign).status is CampaignStatus.CANDIDATE  # type: ignore[union-attr]


def test_senders_actioned_on_other_evidence_confirm() -> None:
    bad = {"@c1:x.org", "@c2:x.org", "@c3:x.org"}
    eng, state = make(Flagged(bad), confirm_senders=0, confirm_stopped=3)
    feed = Feed(eng)
    feed.send(BASE, "@ok1:x.org")
    for s in sorted(bad):
        v = feed.send(BASE, s)
        assert v.action is Action.BLOCK and v.account_action is not None
    v = feed.send(BASE, "@ok2:x.org")  # passes every other detector
    assert v.action is Action.BLOCK and "CAMPAIGN_TAKEDOWN" in names(v)
    assert "3 of its 4 senders were challenged or locked" in names(v)["CAMPAIGN_TAKEDOWN"]


def test_copies_held_for_their_wording_do_not_confirm() -> None:
    eng, state = make(Worded(), confirm_senders=0, confirm_stopped=3)
    feed = Feed(eng)
    for i in range(10):
        assert feed.send(BASE, f"@u{i}:x.org").action.stops
    camp = state.get(state.campaign_of("m1") or "")
    assert camp is not None and camp.status is CampaignStatus.CANDIDATE
    assert camp.stopped_senders == 0


def test_a_few_actioned_senders_of_a_popular_text_do_not_confirm() -> None:
    bad = {"@c1:x.org", "@c2:x.org", "@c3:x.org"}
    eng, state = make(Flagged(bad), confirm_senders=0, confirm_stopped=3, stopped_share=0.25)
    feed = Feed(eng)
    for i in range(10):
        feed.send(BASE, f"@ok{i}:x.org")
    for s in sorted(bad):
        feed.send(BASE, s)
    v = feed.send(BASE, "@ok99:x.org")
    assert v.action is Action.ALLOW and "CAMPAIGN_MATCH" in names(v)  # 3 of 13 < 25%


def test_copies_stopped_only_by_the_campaign_do_not_count_as_stopped() -> None:
    eng, state = make(confirm_senders=0, confirm_stopped=2)
    pol = Policy.from_dict({**POLICY, "weights": {"CAMPAIGN_MATCH": 20.0}})
    eng = Engine(eng.detectors, pol)
    feed = Feed(eng)
    for i in range(6):
        v = feed.send(BASE, f"@u{i}:x.org")
    assert v.action is Action.BLOCK and "CAMPAIGN_MATCH" in names(v)
    camp = state.get(v.campaign or "")
    assert camp is not None and camp.status is CampaignStatus.CANDIDATE
    assert camp.stopped_senders == 0


# -- delivered copies and retraction -----------------------------------------

def test_delivered_copies_are_listed_for_retraction() -> None:
    eng, state = make(confirm_senders=3)
    feed = Feed(eng)
    vs = [feed.send(BASE, f"@u{i}:x.org") for i in range(5)]
    cid = vs[-1].campaign
    assert cid is not None
    assert [v.action for v in vs] == [Action.ALLOW] * 3 + [Action.BLOCK] * 2
    assert state.delivered(cid) == ["m1", "m2", "m3"]
    assert state.retract(cid) == ["m1", "m2", "m3"]
    assert state.delivered(cid) == []
    camp = state.get(cid)
    assert camp is not None and camp.status is CampaignStatus.TAKEN_DOWN
    assert feed.send(BASE, "@u9:x.org").action is Action.BLOCK
    with pytest.raises(KeyError):
        state.delivered("c-nope")


# -- moderators and reports ---------------------------------------------------

def test_moderator_spam_report_confirms() -> None:
    eng, state = make(moderators=("@mod:x.org",), confirm_senders=0)
    feed = Feed(eng)
    feed.send(BASE, "@u1:x.org")
    feed.report("@mod:x.org", "m1", "spam")
    v = feed.send(BASE.replace("video", "clip"), "@u2:x.org")
    assert v.action is Action.BLOCK and v.campaign is not None
    assert "reported as spam by moderator @mod:x.org" in names(v)["CAMPAIGN_TAKEDOWN"]


def test_moderator_confirm_by_api() -> None:
    eng, state = make(confirm_senders=0)
    feed = Feed(eng)
    feed.send(BASE, "@u1:x.org")
    cid = state.campaign_of("m1")
    assert cid is not None
    state.confirm(cid, "ticket 42")
    v = feed.send(BASE, "@u2:x.org")
    assert v.action is Action.BLOCK and "ticket 42" in names(v)["CAMPAIGN_TAKEDOWN"]


def test_moderator_ham_report_clears() -> None:
    eng, state = make(moderators=("@mod:x.org",), confirm_senders=3)
    feed = Feed(eng)
    feed.send(BASE, "@u1:x.org")
    feed.send(BASE, "@u2:x.org")
    feed.report("@mod:x.org", "m2", "ham")
    for i in range(3, 10):
        v = feed.send(BASE, f"@u{i}:x.org")
        assert v.action is Action.ALLOW
        assert names_scores(v) == {"CAMPAIGN_MATCH": 0.0}
        assert "cleared: marked not spam by moderator" in names(v)["CAMPAIGN_MATCH"]
    camp = state.get(v.campaign or "")
    assert camp is not None and camp.status is CampaignStatus.CLEARED


def test_moderator_ham_report_overrides_a_threshold_confirmation() -> None:
    eng, _ = make(moderators=("@mod:x.org",), confirm_senders=2)
    feed = Feed(eng)
    feed.send(BASE, "@u1:x.org")
    feed.send(BASE, "@u2:x.org")
    assert feed.send(BASE, "@u3:x.org").action is Action.BLOCK
    feed.report("@mod:x.org", "m1", "ham")
    assert feed.send(BASE, "@u4:x.org").action is Action.ALLOW


def _reported_weight(history: list[tuple[str, str]]) -> float:
    """Weight of a reporter's spam report after a history of (campaign text, moderator label)."""
    eng, state = make(moderators=("@mod:x.org",), confirm_senders=0, confirm_reports=0)
    feed = Feed(eng)
    for k, (text, label) in enumerate(history):
        feed.send(f"{text} number {k} is here for you", f"@a{k}:x.org")
        feed.send(f"{text} number {k} is here for you", f"@b{k}:x.org")
        feed.report("@user:x.org", f"m{feed.n}", "spam")
        feed.report("@mod:x.org", f"m{feed.n}", label)
    feed.send(BASE, "@z1:x.org")
    feed.send(BASE, "@z2:x.org")
    feed.report("@user:x.org", f"m{feed.n}", "spam")
    camp = state.get(state.campaign_of(f"m{feed.n}") or "")
    assert camp is not None
    return camp.reports


TOPICS = ["free crypto giveaway claim", "your parcel is waiting pay fee", "hot singles near you",
          "account suspended verify now", "win an iphone answer survey"]


@pytest.mark.parametrize("labels,low,high", [
    ([], 0.49, 0.51),  # a new reporter counts 0.5
    (["spam"] * 4, 0.8, 0.9),  # right four times: (4+1)/(4+2)
    (["ham"] * 4, 0.1, 0.2),  # wrong four times: 1/6
])
def test_reporter_weight_follows_their_record(labels: list[str], low: float, high: float) -> None:
    w = _reported_weight(list(zip(TOPICS, labels, strict=False)))
    assert low <= w <= high


def test_unreliable_reporters_need_more_reports() -> None:
    eng, state = make(confirm_senders=0, confirm_reports=2.0)
    for r in ("@liar1:x.org", "@liar2:x.org", "@liar3:x.org", "@liar4:x.org"):
        state.trust.adjust(r, wrong=5.0)
    feed = Feed(eng)
    feed.send(BASE, "@u1:x.org")
    feed.send(BASE, "@u2:x.org")
    for r in ("@liar1:x.org", "@liar2:x.org", "@liar3:x.org", "@liar4:x.org"):
        feed.report(r, "m2", "spam")
    assert feed.send(BASE, "@u3:x.org").action is Action.ALLOW  # 4 x 1/7 < 2
    feed.report("@new1:x.org", "m2", "spam")
    feed.report("@new2:x.org", "m2", "spam")
    feed.report("@new2:x.org", "m2", "spam")  # counted once
    assert feed.send(BASE, "@u4:x.org").action is Action.ALLOW  # 0.57 + 1.0 < 2
    feed.report("@new3:x.org", "m1", "spam")
    v = feed.send(BASE, "@u5:x.org")
    assert v.action is Action.BLOCK and "user spam reports weighing 2.1" in names(v)[
        "CAMPAIGN_TAKEDOWN"]


def test_reports_on_unknown_messages_are_ignored() -> None:
    eng, state = make(moderators=("@mod:x.org",))
    feed = Feed(eng)
    feed.report("@mod:x.org", "never-seen", "spam")
    feed.send("ok", "@u1:x.org")
    feed.report("@mod:x.org", "m1", "spam")  # too short to be in any campaign
    assert len(state) == 0


# -- state: expiry and bounds -------------------------------------------------

def test_expiry_drops_old_candidates() -> None:
    eng, state = make(expiry=3600)
    feed = Feed(eng)
    feed.send(BASE, "@u1:x.org")
    assert len(state) == 1
    v = feed.send(BASE, "@u2:x.org", dt=3601)
    assert v.campaign is None  # the first copy was forgotten
    assert len(state) == 1 and state.campaign_of("m1") is None


def test_confirmed_campaigns_outlive_candidates() -> None:
    eng, state = make(expiry=3600, takedown_expiry=86_400, confirm_senders=2)
    feed = Feed(eng)
    feed.send(BASE, "@u1:x.org")
    feed.send(BASE, "@u2:x.org")
    assert feed.send(BASE, "@u3:x.org", dt=20_000).action is Action.BLOCK
    assert feed.send(BASE, "@u4:x.org", dt=90_000).action is Action.ALLOW


def test_memory_stays_bounded_on_distinct_traffic() -> None:
    rng = random.Random(3)
    vocab = [f"w{i}" for i in range(5000)]
    eng, state = make(max_campaigns=1000)
    feed = Feed(eng)
    for i in range(10_000):
        words = " ".join(rng.choice(vocab) for _ in range(12))
        link = f" https://site{i}.example/x" if i % 3 == 0 else ""
        feed.send(words + link, f"@u{i}:x.org", dt=0.1)
    st = state.stats()
    assert st["singles"] + st["candidates"] <= 1000 and st["decided"] <= 251
    assert st["signatures"] == st["index"] <= 4 * 1251
    assert st["exact_keys"] <= 16 * 1251 and st["link_keys"] <= 16 * 1251
    assert st["messages"] <= 4000 and st["pending"] == 0
    assert len(state.fingerprinter._cache) <= 4096


def test_a_campaign_in_the_making_survives_a_flood_of_ordinary_messages() -> None:
    eng, state = make(max_campaigns=50, confirm_senders=3)
    feed = Feed(eng)
    feed.send(BASE, "@u1:x.org")
    feed.send(BASE, "@u2:x.org")
    rng = random.Random(1)
    vocab = [f"word{chr(97 + i % 26)}{chr(97 + i // 26)}" for i in range(600)]
    for i in range(500):
        feed.send(" ".join(rng.choice(vocab) for _ in range(12)), f"@h{i}:x.org", dt=1)
    assert len(state) == 50 and state.stats()["singles"] == 49
    feed.send(BASE, "@u3:x.org")
    assert feed.send(BASE, "@u4:x.org").action is Action.BLOCK


# -- bad input ----------------------------------------------------------------

@pytest.mark.parametrize("text,recipients", [
    ("", ("@bob:x.org",)),
    ("x" * 1_000_000, ("@bob:x.org",)),
    (BASE + " " + "spam " * 200_000, ("@bob:x.org",)),
    (BASE, tuple(f"@r{i}:x.org" for i in range(100_000))),
])
def test_bad_input_is_bounded(text: str, recipients: tuple[str, ...]) -> None:
    eng, state = make()
    feed = Feed(eng)
    for i in range(3):
        t0 = time.perf_counter()
        v = feed.send(text, f"@u{i}:x.org", recipients=recipients)
        assert time.perf_counter() - t0 < 1.0
        assert {t.detector: t.status for t in v.trace}["campaigns"] == "ran"
    for camp in state.campaigns():
        assert camp.recipients <= 256 and all(len(s) <= 280 for s in camp.samples)
        assert camp.recipients_total == 3 * len(recipients)


def test_encrypted_message_abstains() -> None:
    eng, state = make()
    v = Feed(eng).send(None, "@u1:x.org")
    trace = {t.detector: (t.status, t.note) for t in v.trace}
    assert trace["campaigns"] == ("abstained", "no readable text (encrypted)")
    assert len(state) == 0


# -- wiring: registry factories share one state per engine ---------------------

def test_registry_built_detectors_share_state_through_the_store() -> None:
    pol = Policy.from_dict({**POLICY, "detectors": {
        "campaigns": {"confirm_senders": 2}, "decoys": {"decoys": ["@decoy:x.org"]}}})
    def build() -> Engine:
        return Engine([DecoysDetector.from_settings(pol.detector_settings["decoys"]),
                       CampaignsDetector.from_settings(pol.detector_settings["campaigns"])], pol)
    a, b = build(), build()
    fa, fb = Feed(a), Feed(b)
    fa.send(BASE, "@u1:x.org", recipients=("@decoy:x.org",))
    assert fa.send(BASE, "@u2:x.org").action is Action.BLOCK
    assert fb.send(BASE, "@u2:x.org").action is Action.ALLOW  # another engine, other state
    state = campaigns_for(a.store)
    assert state.settings.confirm_senders == 2 and len(state.campaigns()) == 1
    assert campaigns_for(b.store) is not state


@pytest.mark.parametrize("settings,needle", [
    ({"similarity": 0}, "similarity"),
    ({"similarity": 1.5}, "similarity"),
    ({"min_tokens": -1}, "min_tokens"),
    ({"min_tokens": 2}, "min_tokens must be at least 3"),
    ({"min_tokens": 2.5}, "min_tokens"),
    ({"max_campaigns": 0}, "max_campaigns"),
    ({"moderators": "@mod:x.org"}, "moderators"),
    ({"confirm_window": "1h"}, "confirm_window"),
    ({"confirm_sender": 3}, "unknown setting detectors.campaigns.confirm_sender"),
    ({"near_duplicates": "some"}, "near_duplicates must be"),
])
def test_bad_settings_are_rejected(settings: dict[str, Any], needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        CampaignsDetector.from_settings(settings)


def test_settings_parse() -> None:
    s = CampaignSettings.from_mapping({"similarity": 0.6, "moderators": ["@m:x.org"],
                                       "expiry": 60, "confirm_stopped": 0})
    assert s == CampaignSettings(similarity=0.6, moderators=("@m:x.org",), expiry=60.0,
                                 confirm_stopped=0)
