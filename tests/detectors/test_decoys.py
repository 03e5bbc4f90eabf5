"""The decoys detector in the real engine: a decoy hit confirms its campaign at once."""

from typing import Any

import pytest

from spimguard import Engine, MessageEvent, Policy, Verdict
from spimguard.campaigns import Campaigns, CampaignSettings, CampaignStatus
from spimguard.core.verdicts import AccountAction, Action
from spimguard.detectors.campaigns import CampaignsDetector
from spimguard.detectors.decoys import DecoysDetector

POLICY: dict[str, Any] = {
    "forced": {"CAMPAIGN_TAKEDOWN": "block", "DECOY_HIT": "block"},
    "account": {"forced": {"DECOY_HIT": "lock"}},
}
DECOY = "@decoy1:example.org"
BASE = ("hi! I found an old photo of you from the school trip, it's hilarious, "
        "have a look at https://photo-share.example.xyz/p/19")


def make(decoys: tuple[str, ...] = (DECOY,), **kw: Any) -> tuple[Engine, Campaigns,
                                                                   DecoysDetector]:
    state = Campaigns(CampaignSettings(confirm_senders=0))
    decoy = DecoysDetector(decoys, state=state, **kw)
    eng = Engine([CampaignsDetector(state), decoy], Policy.from_dict(POLICY))
    return eng, state, decoy


_n = 0


def send(eng: Engine, text: str | None, sender: str, *recipients: str,
         room: str | None = None) -> Verdict:
    global _n
    _n += 1
    msg = MessageEvent(ts=1000.0 + _n, id=f"m{_n}", sender=sender,
                       recipients=recipients or ("@bob:example.org",), text=text,
                       encrypted=text is None, room=room)
    return eng.check(msg)


def names(v: Verdict) -> dict[str, str]:
    return {s.name: s.detail for s in v.signals}


def test_decoy_hit_blocks_locks_and_confirms_the_campaign() -> None:
    eng, state, _ = make()
    v = send(eng, BASE, "@worm1:example.org", "@alice:example.org", DECOY)
    assert v.action is Action.BLOCK and v.account_action is AccountAction.LOCK
    assert names(v)["DECOY_HIT"] == f"sent to decoy account {DECOY}"
    nxt = send(eng, BASE.replace("19", "20").replace("hilarious", "so funny"),
               "@worm2:example.org", "@carol:example.org")
    assert nxt.action is Action.BLOCK and nxt.account_action is None
    assert nxt.campaign is not None
    assert f"a copy was sent to decoy account {DECOY}" in names(nxt)["CAMPAIGN_TAKEDOWN"]
    camp = state.get(nxt.campaign)
    assert camp is not None and camp.status is CampaignStatus.CONFIRMED
    assert state.delivered(nxt.campaign) == []


def test_decoy_joins_an_existing_candidate_and_confirms_it() -> None:
    eng, state, _ = make()
    first = send(eng, BASE, "@worm1:example.org")
    assert first.action is Action.ALLOW
    hit = send(eng, BASE, "@worm2:example.org", DECOY)
    v = send(eng, BASE, "@worm3:example.org")
    assert v.action is Action.BLOCK and hit.campaign == v.campaign is not None
    assert state.delivered(v.campaign or "") == [first.id]  # the copy to retract


def test_decoys_added_at_run_time() -> None:
    eng, _, decoy = make(decoys=())
    assert send(eng, BASE, "@worm1:example.org", "@new-decoy:example.org").action is Action.ALLOW
    decoy.add("@new-decoy:example.org")
    assert decoy.decoys == frozenset({"@new-decoy:example.org"})
    v = send(eng, BASE.replace("19", "33"), "@worm2:example.org", "@new-decoy:example.org")
    assert "DECOY_HIT" in names(v)
    decoy.remove("@new-decoy:example.org")
    with pytest.raises(ValueError):
        decoy.add("")


def test_room_messages_do_not_hit_by_default() -> None:
    eng, _, _ = make()
    v = send(eng, BASE, "@member:example.org", DECOY, "@bob:example.org", room="!r:example.org")
    assert "DECOY_HIT" not in names(v)
    eng2, _, _ = make(include_rooms=True)
    v2 = send(eng2, BASE, "@member:example.org", DECOY, room="!r:example.org")
    assert "DECOY_HIT" in names(v2)


def test_short_message_to_decoy_hits_but_seeds_no_campaign() -> None:
    eng, state, _ = make()
    assert "DECOY_HIT" in names(send(eng, "hi", "@worm1:example.org", DECOY))
    assert send(eng, "hi", "@friend:example.org").action is Action.ALLOW
    assert len(state) == 0


def test_encrypted_message_to_decoy_hits_without_a_campaign() -> None:
    eng, state, _ = make()
    v = send(eng, None, "@worm1:example.org", DECOY)
    assert "DECOY_HIT" in names(v) and v.action is Action.BLOCK
    assert len(state) == 0


def test_many_recipients_and_several_decoys() -> None:
    eng, _, _ = make(decoys=(DECOY, "@decoy2:example.org"))
    many = tuple(f"@r{i}:example.org" for i in range(100_000))
    v = send(eng, BASE, "@worm1:example.org", *many, "@decoy2:example.org", DECOY)
    assert names(v)["DECOY_HIT"] == f"sent to decoy account {DECOY} and 1 more"


def test_decoys_work_with_the_campaigns_detector_disabled() -> None:
    state = Campaigns()
    pol = Policy.from_dict({**POLICY, "detectors": {"disabled": ["campaigns"]}})
    eng = Engine([CampaignsDetector(state), DecoysDetector([DECOY], state=state)], pol)
    assert [d.name for d in eng.detectors] == ["decoys"]
    send(eng, BASE, "@worm1:example.org", DECOY)
    confirmed = state.campaigns(CampaignStatus.CONFIRMED)
    assert len(confirmed) == 1 and confirmed[0].messages == 1


@pytest.mark.parametrize("settings,needle", [
    ({"decoys": "@d:x.org"}, "list of user ids"),
    ({"decoys": [""]}, "list of user ids"),
    ({"include_rooms": "yes"}, "include_rooms"),
    ({"decoy": []}, "unknown setting detectors.decoys.decoy"),
])
def test_bad_settings(settings: dict[str, Any], needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        DecoysDetector.from_settings(settings)
