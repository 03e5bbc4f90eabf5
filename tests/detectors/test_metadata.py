"""Metadata detectors and account escalation: a hijacked session stopped with no text at all."""

from __future__ import annotations

import pytest

from spimguard import (
    AccountAction,
    AccountEvent,
    Action,
    ContactEvent,
    Engine,
    FeedbackEvent,
    LoginEvent,
    MessageEvent,
    UnlockEvent,
    build_engine,
    parse_event,
)
from spimguard.core.errors import EventError, PolicyError
from spimguard.core.policy import Policy
from spimguard.state.sessions import Outreach, OutreachEntry, SessionBook

DAY = 86_400.0
T0 = 1_700_000_000.0
FRIENDS = [f"friend{i}" for i in range(30)]


def enc(ts: float, mid: str, sender: str, to: str, device: str | None, size: int = 300
        ) -> MessageEvent:
    return MessageEvent(ts, mid, sender, (to,), encrypted=True, device=device, size=size)


def established(eng: Engine, user: str = "alice", device: str | None = "PHONE1") -> float:
    """Three weeks of encrypted chat with four close friends from one phone; thirty contacts."""
    eng.observe(AccountEvent(T0, user, T0 - 400 * DAY))
    for f in FRIENDS:
        eng.observe(ContactEvent(T0, user, f, "add"))
        eng.observe(ContactEvent(T0, f, user, "add"))
    n = 0
    for day in range(21):
        t = T0 + day * DAY + 9 * 3600
        eng.observe(LoginEvent(t, user, ip="198.51.100.7", device="Element Android"))
        for k in range(3):
            n += 1
            eng.check(enc(t + k * 600, f"h{n}", user, FRIENDS[(day + k) % 4], device,
                          250 + 37 * (n % 7)))
    return T0 + 21 * DAY + 10 * 3600


def hijack(eng: Engine, t: float, n: int = 20, device: str | None = "EVIL1",
           login: bool = True) -> list:
    if login:
        eng.observe(LoginEvent(t, "alice", ip="203.0.113.9", device="python-requests/2.31"))
    return [eng.check(enc(t + 30 + 8 * i, f"s{i}", "alice", FRIENDS[4 + i], device, 420))
            for i in range(n)]


def first_action(verdicts: list) -> int | None:
    return next((i + 1 for i, v in enumerate(verdicts) if v.account_action is not None), None)


def test_a_hijacked_encrypted_session_is_challenged_within_three_messages() -> None:
    eng = build_engine()
    t = established(eng)
    verdicts = hijack(eng, t)
    n = first_action(verdicts)
    assert n is not None and n <= 3, [(v.action, v.score) for v in verdicts]
    acted = verdicts[n - 1]
    assert acted.account_action is AccountAction.CHALLENGE and acted.session == "EVIL1"
    names = {s.name for s in acted.signals}
    assert "NEW_SESSION" in names and "ESCALATED" in names
    assert all(v.action.stops for v in verdicts[n - 1:])
    assert "SESSION_CHALLENGED" in {s.name for s in verdicts[-1].signals}
    # the owner's phone still works: only the attacker's session is challenged
    own = eng.check(enc(t + 400, "own", "alice", FRIENDS[0], "PHONE1", 280))
    assert own.action is Action.ALLOW, own.signals
    assert eng.account_state("alice", t + 400) is None


def test_a_new_session_of_a_guarded_account_is_challenged_on_its_first_message() -> None:
    eng = build_engine()
    t = established(eng)
    hijack(eng, t)
    # the attacker still has the password: logs in again from another device
    again = eng.check(enc(t + 900, "again", "alice", FRIENDS[1], "EVIL2", 420))
    assert again.action.stops and again.account_action is AccountAction.CHALLENGE
    assert again.session == "EVIL2"
    eng.observe(UnlockEvent(t + 1000, "alice"))
    later = eng.check(enc(t + 1100, "later", "alice", FRIENDS[0], "PHONE1", 280))
    assert later.action is Action.ALLOW


def test_without_device_ids_the_account_is_challenged() -> None:
    eng = build_engine()
    t = established(eng, device=None)
    verdicts = hijack(eng, t, device=None)
    n = first_action(verdicts)
    assert n is not None and n <= 4
    assert verdicts[n - 1].session is None
    assert eng.account_state("alice", t + 400) is AccountAction.CHALLENGE


def test_ordinary_encrypted_chat_and_a_new_phone_are_not_actioned() -> None:
    eng = build_engine()
    t = established(eng)
    # a new phone: a login from a new client, then chat with the usual friends
    eng.observe(LoginEvent(t, "alice", ip="198.51.100.7", device="Element iOS"))
    verdicts = [eng.check(enc(t + 60 + 300 * i, f"n{i}", "alice", FRIENDS[i % 4], "PHONE2",
                              200 + 31 * (i % 5))) for i in range(12)]
    assert all(v.account_action is None for v in verdicts)
    assert not any(v.action.stops for v in verdicts), [v.signals for v in verdicts]
    assert "NEW_SESSION" in {s.name for s in verdicts[0].signals}


def test_a_greeting_to_every_friend_from_the_own_phone_is_delivered() -> None:
    eng = build_engine()
    t = established(eng)
    verdicts = [eng.check(enc(t + 20 * i, f"g{i}", "alice", FRIENDS[i], "PHONE1", 310))
                for i in range(25)]
    assert not any(v.action.stops for v in verdicts), [
        (v.score, [s.name for s in v.signals]) for v in verdicts if v.action.stops]
    assert all(v.account_action is None for v in verdicts)


def test_blocks_from_recipients_challenge_the_session_before_it_sends_again() -> None:
    eng = build_engine(policy=None)
    t = established(eng)
    eng.observe(LoginEvent(t, "alice", ip="203.0.113.9", device="python-requests/2.31"))
    # two quiet lures, under every per-message threshold
    for i in range(2):
        v = eng.check(enc(t + 60 + 600 * i, f"q{i}", "alice", FRIENDS[5 + i], "EVIL1", 420))
        assert v.account_action is None
    eng.observe(FeedbackEvent(t + 1300, FRIENDS[5], "alice", "block"))
    assert eng.drain_notices() == []
    eng.observe(FeedbackEvent(t + 1400, FRIENDS[6], "alice", "leave"))
    notices = eng.drain_notices()
    assert len(notices) == 1 and notices[0].session == "EVIL1"
    assert notices[0].action is AccountAction.CHALLENGE
    nxt = eng.check(enc(t + 1500, "q9", "alice", FRIENDS[9], "EVIL1", 420))
    assert nxt.action.stops and "SESSION_CHALLENGED" in {s.name for s in nxt.signals}
    assert "RECIPIENT_FEEDBACK" in {s.name for s in nxt.signals}


def test_feedback_on_an_old_session_does_not_escalate() -> None:
    eng = build_engine()
    t = established(eng)
    eng.check(enc(t, "x", "alice", FRIENDS[0], "PHONE1", 280))
    for i in range(3):
        eng.observe(FeedbackEvent(t + 100 + i, FRIENDS[i], "alice", "block"))
    assert eng.drain_notices() == []
    eng.observe(FeedbackEvent(t + 200, FRIENDS[0], "alice", "unblock"))
    v = eng.check(enc(t + 300, "y", "alice", FRIENDS[3], "PHONE1", 280))
    detail = next(s.detail for s in v.signals if s.name == "RECIPIENT_FEEDBACK")
    assert "2 blocked it" in detail and v.account_action is None


def test_accounts_fanning_out_from_new_sessions_at_once_are_a_metadata_campaign() -> None:
    eng = build_engine()
    users = [f"victim{i}" for i in range(5)]
    for u in users:
        eng.observe(AccountEvent(T0, u, T0 - 300 * DAY))
        eng.observe(LoginEvent(T0, u, ip="198.51.100.1", device="phone"))
        eng.check(enc(T0 + 10, f"{u}-h", u, "pal", "OWN" + u, 200))
    t = T0 + 5 * DAY
    seen = []
    for k, u in enumerate(users):
        eng.observe(LoginEvent(t + k, u, ip="203.0.113.5", device="kit"))
        for i in range(3):
            v = eng.check(enc(t + 60 + 20 * k + i, f"{u}-{i}", u, f"{u}-c{i}", "KIT" + u, 400))
            seen.append({s.name for s in v.signals})
    assert "METADATA_CAMPAIGN" not in set().union(*seen[:6])
    assert "METADATA_CAMPAIGN" in seen[-1]


def test_stopped_messages_to_different_people_escalate_but_retries_do_not() -> None:
    eng = build_engine()
    spam = "WINNER!! claim your £1000 prize now, text CLAIM to 87121, cost 150p/msg"
    v = [eng.check(MessageEvent(T0 + i, f"r{i}", "bob", ("carol",), spam)) for i in range(4)]
    assert all(x.action.stops for x in v) and all(x.account_action is None for x in v)
    w = [eng.check(MessageEvent(T0 + 10 + i, f"d{i}", "dave", (f"p{i}",), spam))
         for i in range(3)]
    assert w[2].account_action is AccountAction.CHALLENGE
    assert "ESCALATED" in {s.name for s in w[2].signals}


def test_device_ids_that_change_on_every_message_are_capped() -> None:
    eng = build_engine()
    t = established(eng)
    verdicts = [eng.check(enc(t + 3600 * i, f"c{i}", "alice", FRIENDS[i % 4], f"D{i}", 250))
                for i in range(12)]
    last = next(s for s in verdicts[-1].signals if s.name == "NEW_SESSION")
    assert "ids churn" in last.detail and last.score <= 1.0
    assert not any(v.action.stops for v in verdicts)


def test_bad_metadata_is_defined() -> None:
    eng = build_engine()
    # unknown users and rooms, a session that sends nothing, skewed clocks
    eng.observe(LoginEvent(T0, "ghost", ip="192.0.2.1", device="x"))
    v = eng.check(enc(T0 - 10 * DAY, "skew", "nobody", "unknown", "DEV", 300))
    assert v.action is Action.ALLOW
    v = eng.check(enc(T0, "later", "nobody", "unknown", "DEV", 300))
    assert v.action is Action.ALLOW
    eng.observe(FeedbackEvent(T0, "someone", "never-wrote", "leave", room="!r:x"))
    eng.observe(FeedbackEvent(T0, "self", "self", "block"))
    assert eng.drain_notices() == []
    with pytest.raises(EventError, match="size"):
        parse_event({"type": "message", "ts": 1, "id": "m", "sender": "a",
                     "recipients": ["b"], "encrypted": True, "size": -5})
    with pytest.raises(EventError, match="op"):
        parse_event({"type": "feedback", "ts": 1, "user": "b", "sender": "a", "op": "hate"})
    long = parse_event({"type": "login", "ts": 1, "user": "a", "device": "d" * 5000,
                        "client": "c" * 5000})
    assert isinstance(long, LoginEvent) and len(long.device or "") == 512
    # damaged state is no state
    eng.store.set("sessions:alice", b"\x07garbage", T0)
    eng.store.set("outreach:alice", b"odd", T0)
    eng.store.set("account:alice:escalation", b"xx", T0)
    assert eng.check(enc(T0 + 1, "ok", "alice", "bob", "DEV", 100)).action is Action.ALLOW


def test_state_records_round_trip() -> None:
    book = SessionBook()
    a = book.see(1, T0)
    b = book.see(2, T0 + 5)
    assert not a.new and b.new
    for k in range(3, 20):
        book.see(k, T0 + k)
    assert len(book.sessions) == 8
    assert SessionBook.from_bytes(book.to_bytes()) == book
    out = Outreach([OutreachEntry(T0, 5, 300, 9, 3)])
    assert Outreach.from_bytes(out.to_bytes()).entries == out.entries
    with pytest.raises(ValueError):
        SessionBook.from_bytes(b"\x02\x00")


def test_escalation_settings_are_checked() -> None:
    pol = Policy.from_dict({"account": {"escalation": {"stopped": 5}}})
    assert pol.escalation.stopped == 5 and pol.as_dict()["account"]["escalation"]["stopped"] == 5
    with pytest.raises(PolicyError, match="unknown key account.escalation.nope"):
        Policy.from_dict({"account": {"escalation": {"nope": 1}}})
    with pytest.raises(PolicyError, match="positive"):
        Policy.from_dict({"account": {"escalation": {"session_score": -1}}})


def test_a_patient_session_from_a_new_place_must_step_up_but_plaintext_is_left_to_text() -> None:
    eng = build_engine()
    t = established(eng)
    eng.observe(LoginEvent(t, "alice", ip="203.0.113.9", device="python-requests/2.31"))
    # two messages an hour to the usual friends: nothing but the session is odd
    verdicts = [eng.check(enc(t + 60 + 1800 * i, f"p{i}", "alice", FRIENDS[i % 8], "EVIL1", 300))
                for i in range(8)]
    n = first_action(verdicts)
    assert n == 6, [(v.action, [s.name for s in v.signals]) for v in verdicts]
    assert verdicts[n - 1].session == "EVIL1" and verdicts[n - 1].action.stops
    assert "SESSION_REACH" in {s.name for s in verdicts[n - 1].signals}
    # an unlock: the owner vouched for the session, which is no longer new
    eng.observe(UnlockEvent(t + 20_000, "alice"))
    later = eng.check(enc(t + 20_100, "p9", "alice", FRIENDS[9], "EVIL1", 300))
    assert later.account_action is None and "NEW_SESSION" not in {s.name for s in later.signals}
    # the same pace in plaintext from a fresh session: judged by the words
    eng2 = build_engine()
    t2 = established(eng2)
    eng2.observe(LoginEvent(t2, "alice", ip="203.0.113.9", device="laptop"))
    plain = [eng2.check(MessageEvent(t2 + 60 + 1800 * i, f"q{i}", "alice", (FRIENDS[i % 8],),
                                     "are we still on for dinner tonight?", device="LAPTOP"))
             for i in range(8)]
    assert all(v.account_action is None for v in plain)
    assert not any("SESSION_REACH" in {s.name for s in v.signals} for v in plain)
