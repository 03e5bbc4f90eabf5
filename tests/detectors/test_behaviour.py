"""Behaviour detectors in the real engine: profile, fan-out, new-device bursts, strangers."""

import pytest

from spimguard import (
    AccountEvent,
    Action,
    ContactEvent,
    Engine,
    LoginEvent,
    MessageEvent,
    Policy,
    build_engine,
)
from spimguard.detectors.fanout import FanoutDetector
from spimguard.detectors.profile import ProfileDetector, profile_of
from spimguard.detectors.stranger import StrangerDetector
from spimguard.state.memory import MemoryStore
from spimguard.state.packed import hash32
from spimguard.state.profiles import AccountProfile

DAY = 86400.0
T0 = 1_700_000_000.0
FRIENDS = [f"friend{i}" for i in range(10)]
HAM = ["see you at lunch?", "haha yes", "running late sorry", "did you get my email",
       "ok thanks!", "what time is the match", "call me later pls", "happy birthday!!"]


def established(eng: Engine, user: str = "alice") -> float:
    """Three weeks of ordinary life: contacts, usual logins, chat with friends at day time."""
    eng.observe(AccountEvent(T0, user, T0 - 400 * DAY))
    for f in FRIENDS:
        eng.observe(ContactEvent(T0, user, f, "add"))
        eng.observe(ContactEvent(T0, f, user, "add"))
    n = 0
    for day in range(21):
        t = T0 + day * DAY + 9 * 3600
        eng.observe(LoginEvent(t, user, ip="198.51.100.7", device="alice-phone"))
        for k in range(3):
            n += 1
            eng.check(MessageEvent(t + k * 600, f"h{n}", user, (FRIENDS[(day + k) % 4],),
                                   HAM[n % len(HAM)]))
    return T0 + 21 * DAY + 10 * 3600


def behaviour_engine() -> Engine:
    return Engine([ProfileDetector(), FanoutDetector(), StrangerDetector()], Policy())


def test_profile_is_learned_and_bounded() -> None:
    eng = behaviour_engine()
    established(eng)
    prof = profile_of(eng.store, "alice", T0 + 21 * DAY)
    assert prof is not None and prof.messages == 63
    assert all(prof.last_wrote(f) is not None for f in FRIENDS[:len(prof.recipients)])
    assert len(prof.recipients) <= 32 and prof.last_wrote("stranger") is None
    assert hash32("198.51.100.7") in prof.ips and prof.new_login_ts is None
    raw = eng.store.get("profile:alice", T0 + 21 * DAY)
    assert isinstance(raw, bytes) and len(raw) <= 700
    assert AccountProfile.from_bytes(raw) == prof


def test_profile_bytes_round_trip_and_reject_damage() -> None:
    prof = AccountProfile()
    prof.learn_login(100.0, "192.0.2.1", "phone")
    prof.learn_login(200.0, "192.0.2.9", "laptop \u00e9" * 20)
    for i in range(100):
        prof.learn_message(1000.0 + i, (f"@f{i}:x.org",), 10 + i, [f"d{i}.com"],
                           {"LATIN", "CYRILLIC", "GREEK", "ARABIC", "HAN"})
    raw = prof.to_bytes()
    back = AccountProfile.from_bytes(raw)
    assert back.recipients == prof.recipients and back.new_login_ts == 200.0
    assert back.new_login_detail.startswith("device laptop") and back.messages == 100
    assert len(raw) <= 700 and len(back.scripts) == 4
    assert back.last_wrote("@f99:x.org") == 1099.0 and back.last_wrote("@f0:x.org") is None
    for bad in (b"", b"\x00" * 10, raw[:50], b"\x07" + raw[1:]):
        with pytest.raises(ValueError):
            AccountProfile.from_bytes(bad)
    store = MemoryStore()
    store.set("profile:x", b"garbage", 0.0)
    assert profile_of(store, "x", 1.0) is None


def test_compromised_account_is_caught_within_three_messages() -> None:
    eng = build_engine()
    t = established(eng)
    eng.observe(LoginEvent(t, "alice", ip="203.0.113.99", device="python-requests"))
    verdicts = []
    for i, f in enumerate(FRIENDS[4:10]):
        verdicts.append(eng.check(MessageEvent(
            t + 60 + i * 20, f"w{i}", "alice", (f,),
            f"lol is this you?? https://photos-share{i % 2}.example-album.xyz/view")))
    stopped = [v.action.stops for v in verdicts]
    assert stopped[2], [v.to_dict() for v in verdicts[:3]]
    names = {s.name for v in verdicts[:3] for s in v.signals}
    assert {"NEW_DEVICE_BURST", "FANOUT_BURST"} <= names
    assert any(v.account_action is not None for v in verdicts[:4]), [
        (v.score, v.account_action) for v in verdicts]


def test_owner_chatting_normally_is_not_flagged() -> None:
    eng = build_engine()
    t = established(eng)
    v = eng.check(MessageEvent(t, "n1", "alice", (FRIENDS[0],), "see you at lunch?"))
    assert v.action is Action.ALLOW and v.account_action is None


def test_stranger_bot_on_a_young_account() -> None:
    eng = behaviour_engine()
    eng.observe(AccountEvent(T0, "bot7", T0 - 600))
    v = eng.check(MessageEvent(T0 + 1, "b1", "bot7", ("u1", "u2"),
                               "hot singles near you https://meet-now.example.top/x"))
    names = {s.name: s.detail for s in v.signals}
    assert "STRANGER_LINK" in names and "YOUNG_ACCOUNT" in names
    assert "min ago" in names["YOUNG_ACCOUNT"]


def test_contacts_are_not_strangers() -> None:
    eng = behaviour_engine()
    eng.observe(ContactEvent(T0, "u1", "carol", "add"))
    v = eng.check(MessageEvent(T0 + 1, "c1", "carol", ("u1",), "look https://example.org/x"))
    assert "STRANGER_LINK" not in {s.name for s in v.signals}


def test_huge_recipient_list_and_odd_order_are_bounded() -> None:
    eng = build_engine()
    many = tuple(f"r{i}" for i in range(100_000))
    v = eng.check(MessageEvent(T0, "big", "spammer", many, "buy now https://deal.example.xyz/"))
    assert "FANOUT_BURST" in {s.name for s in v.signals}
    # events out of time order, unknown users, a clock jump backwards: no crash
    eng.observe(LoginEvent(T0 - 10 * DAY, "nobody", ip="1.2.3.4"))
    v2 = eng.check(MessageEvent(T0 - 5 * DAY, "old", "ghost", ("x",), "hi"))
    assert v2.action is Action.ALLOW


def test_encrypted_messages_still_feed_behaviour() -> None:
    eng = behaviour_engine()
    eng.observe(AccountEvent(T0, "new1", T0 - 60))
    v = eng.check(MessageEvent(T0, "e1", "new1", ("x",), None, encrypted=True))
    assert "YOUNG_ACCOUNT" in {s.name for s in v.signals}


def test_duplicated_message_ids_and_clock_jumps_are_defined() -> None:
    """Each delivery of a repeated id is judged on its own; time going backwards is tolerated."""
    eng = build_engine()
    text = "free prize https://claim-now.example.xyz/login"
    first = eng.check(MessageEvent(T0, "dup", "z", ("a",), text))
    again = eng.check(MessageEvent(T0 + 1, "dup", "z", ("b",), text))
    back = eng.check(MessageEvent(T0 - 3600, "dup", "z", ("c",), text))
    assert first.id == again.id == back.id == "dup"
    assert again.score >= first.score  # the second copy adds fan-out evidence, never less
    assert {t.status for t in back.trace} <= {"ran", "abstained"}


@pytest.mark.parametrize(("url", "well_known"), [
    ("https://www.youtube.com/watch?v=abc123", True),
    ("https://photos-share.example-album.xyz/view", False),
])
def test_new_device_link_to_a_well_known_site_counts_half(url: str, well_known: bool) -> None:
    eng = build_engine()
    t = established(eng)
    eng.observe(LoginEvent(t, "alice", ip="203.0.113.99", device="new-phone"))
    first = eng.check(MessageEvent(t + 60, "nd0", "alice", (FRIENDS[1],), f"look {url}"))
    # one link to one person from a new phone is sharing, not a burst
    assert "NEW_DEVICE_BURST" not in {s.name for s in first.signals}
    v = eng.check(MessageEvent(t + 70, "nd1", "alice", (FRIENDS[0],), f"look {url}"))
    burst = [s for s in v.signals if s.name == "NEW_DEVICE_BURST"]
    assert burst, v.to_dict()
    assert burst[0].score == pytest.approx(8.0 * (0.25 if well_known else 0.5))
    assert ("URL_ALLOWLISTED" in {s.name for s in v.signals}) == well_known


def test_slow_spread_after_a_new_login_adds_up_beyond_the_window() -> None:
    """One link every 40 minutes never fills the 15-minute window, yet counts up."""
    eng = build_engine()
    t = established(eng)
    eng.observe(LoginEvent(t, "alice", ip="203.0.113.99", device="stolen-session"))
    scores = []
    for i, f in enumerate(FRIENDS[:4]):
        v = eng.check(MessageEvent(t + 600 + i * 2400, f"s{i}", "alice", (f,),
                                   f"can you check this doc for me? https://doc-{i}.example-files.top/d"))
        burst = [s for s in v.signals if s.name == "NEW_DEVICE_BURST"]
        if i == 0:  # a first link to a first person is not a burst yet
            assert not burst, v.to_dict()
            continue
        assert burst, v.to_dict()
        scores.append(burst[0].score)
        assert f"links to {i + 1} people" in burst[0].detail
    assert scores[0] < scores[1]  # grows although each message is alone ...
    assert scores[2] > 0  # ... and still counts past the first two hours (at 0.6)
    prof = profile_of(eng.store, "alice", t + 10_000)
    assert prof is not None and prof.login_links == 4
    assert AccountProfile.from_bytes(prof.to_bytes()).login_links == 4
    # the same friend again is not a new person; a new login starts counting afresh
    eng.check(MessageEvent(t + 10_000, "s9", "alice", (FRIENDS[0],), "and https://x.example.top/"))
    assert profile_of(eng.store, "alice", t + 10_001).login_links == 4  # type: ignore[union-attr]
    eng.observe(LoginEvent(t + 11_000, "alice", ip="203.0.113.100", device="stolen-session"))
    assert profile_of(eng.store, "alice", t + 11_001).login_links == 0  # type: ignore[union-attr]


@pytest.mark.parametrize(("text", "fans_out"), [
    ("happy new year!! hope 2027 is a great one for you", False),
    ("my new number is 07700 900123, save it pls", False),
    ("text WIN to 87121 to claim your reward today", True),
])
def test_text_without_a_link_fans_out_only_with_a_paid_number(text: str, fans_out: bool) -> None:
    eng = behaviour_engine()
    t = established(eng)
    v = None
    for i, f in enumerate(FRIENDS[:8]):
        v = eng.check(MessageEvent(t + i * 20, f"g{i}", "alice", (f,), text))
    assert v is not None
    assert any(s.name == "FANOUT_BURST" for s in v.signals) is fans_out


def test_a_reply_to_people_who_wrote_first_is_not_fan_out() -> None:
    eng = behaviour_engine()
    t = established(eng)
    for i, f in enumerate(FRIENDS[:8]):  # everyone asks for the holiday photos
        eng.check(MessageEvent(t + i, f"q{i}", f, ("alice",), "send me the photos!"))
    v = None
    for i, f in enumerate(FRIENDS[:8]):
        v = eng.check(MessageEvent(t + 60 + i * 20, f"a{i}", "alice", (f,),
                                   "here they are http://photos-share.example-album.xyz/a/77"))
    assert v is not None and not any(s.name == "FANOUT_BURST" for s in v.signals)
    # the same link to people who did not ask is fan-out
    for i, f in enumerate(FRIENDS[:8]):
        v = eng.check(MessageEvent(t + 7200 + i * 20, f"b{i}", "alice", (f,),
                                   "look http://photos-share.example-album.xyz/a/78"))
    assert any(s.name == "FANOUT_BURST" for s in v.signals)


def test_a_link_to_everyone_after_chats_the_sender_started_is_still_fan_out() -> None:
    """The worm writes into conversations the owner started (friends answered the owner);
    only conversations the recipient opened are replies."""
    eng = behaviour_engine()
    t = established(eng)
    for i, f in enumerate(FRIENDS[:8]):
        eng.check(MessageEvent(t + i, f"o{i}", "alice", (f,), "hey, are you around later?"))
        eng.check(MessageEvent(t + 5 + i, f"r{i}", f, ("alice",), "sure, what's up"))
    v = None
    for i, f in enumerate(FRIENDS[:8]):
        v = eng.check(MessageEvent(t + 60 + i * 20, f"w{i}", "alice", (f,),
                                   "look http://photos-share.example-album.xyz/a/79"))
    assert v is not None and any(s.name == "FANOUT_BURST" for s in v.signals)
