"""REPORTED_SENDER: reports about a sender's messages, weighted by the reporters' records."""

from __future__ import annotations

from spimguard import Engine, MessageEvent, Policy, ReportEvent, build_engine, parse_event
from spimguard.detectors.reputation import HALF_LIFE, ReputationDetector

T = 1_700_000_000.0


def engine(**kw: object) -> Engine:
    return Engine([ReputationDetector(**kw)], Policy())  # type: ignore[arg-type]


def send(eng: Engine, mid: str, sender: str, t: float, to: str = "bob") -> set[str]:
    v = eng.check(MessageEvent(t, mid, sender, (to,), "hello, look at this"))
    return {s.name for s in v.signals}


def report(eng: Engine, who: str, mid: str, label: str, t: float, mod: bool = False) -> None:
    eng.observe(ReportEvent(t, who, mid, label, mod))  # type: ignore[arg-type]


def test_two_reporters_flag_a_sender_and_each_counts_once() -> None:
    eng = engine()
    send(eng, "m1", "mallory", T)
    send(eng, "m2", "mallory", T + 1, to="carol")
    report(eng, "bob", "m1", "spam", T + 2)
    report(eng, "bob", "m2", "spam", T + 3)  # the same person again: no more weight
    assert "REPORTED_SENDER" not in send(eng, "m3", "mallory", T + 4)
    report(eng, "carol", "m2", "spam", T + 5)
    assert "REPORTED_SENDER" in send(eng, "m4", "mallory", T + 6)
    assert "REPORTED_SENDER" not in send(eng, "m5", "alice", T + 7)
    # reputation fades: after two half-lives 1.0 has become 0.25
    assert "REPORTED_SENDER" not in send(eng, "m6", "mallory", T + 2 * HALF_LIFE + 10)


def test_ham_reports_self_reports_and_unknown_messages_do_nothing() -> None:
    eng = engine()
    send(eng, "m1", "mallory", T)
    report(eng, "bob", "m1", "ham", T + 1)
    report(eng, "mallory", "m1", "spam", T + 1)
    report(eng, "x", "nope", "spam", T + 1)
    report(eng, "y", "nope", "spam", T + 1)
    assert "REPORTED_SENDER" not in send(eng, "m2", "mallory", T + 2)


def test_moderators_decide_and_wrong_reporters_count_less() -> None:
    eng = engine(moderators=["mod"])
    send(eng, "m1", "mallory", T)
    report(eng, "mod", "m1", "spam", T + 1)
    v = eng.check(MessageEvent(T + 2, "m2", "mallory", ("bob",), "hi"))
    hit = [s for s in v.signals if s.name == "REPORTED_SENDER"]
    assert hit and hit[0].score > 3.99  # full strength at once
    report(eng, "mod", "m2", "ham", T + 3)  # cleared
    assert "REPORTED_SENDER" not in send(eng, "m3", "mallory", T + 4)
    # two spiteful users report an innocent friend; a moderator says ham twice
    det = eng.detectors[0]
    assert isinstance(det, ReputationDetector)
    for i in range(2):
        send(eng, f"f{i}", f"friend{i}", T + 10)
        report(eng, "troll1", f"f{i}", "spam", T + 11)
        report(eng, "troll2", f"f{i}", "spam", T + 11)
        report(eng, "mod", f"f{i}", "ham", T + 12)
    assert det.trust.weight("troll1") < 0.3 and det.trust.weight("newcomer") == 0.5
    send(eng, "f9", "friend9", T + 20)
    report(eng, "troll1", "f9", "spam", T + 21)
    report(eng, "troll2", "f9", "spam", T + 21)
    assert "REPORTED_SENDER" not in send(eng, "f10", "friend9", T + 22)
    # the API's flag makes a report a moderator's without the setting
    send(eng, "z1", "zed", T + 30)
    report(eng, "admin-key", "z1", "spam", T + 31, mod=True)
    assert "REPORTED_SENDER" in send(eng, "z2", "zed", T + 32)


def test_report_events_parse_the_moderator_flag_and_default_engine_has_it() -> None:
    ev = parse_event({"type": "report", "ts": 1, "reporter": "r", "message_id": "m",
                      "label": "spam", "moderator": True})
    assert isinstance(ev, ReportEvent) and ev.moderator
    assert not parse_event({"type": "report", "ts": 1, "reporter": "r", "message_id": "m",
                            "label": "spam"}).moderator  # type: ignore[union-attr]
    assert "reputation" in {d.name for d in build_engine().detectors}


def test_memory_of_senders_is_bounded() -> None:
    eng = engine(remember=10)
    for i in range(50):
        send(eng, f"m{i}", f"u{i}", T + i)
    det = eng.detectors[0]
    assert isinstance(det, ReputationDetector) and len(det._senders) == 10  # noqa: SLF001
    report(eng, "bob", "m0", "spam", T + 60)  # too old: not attributed, no error


def test_a_report_naming_the_sender_is_attributed_without_the_message() -> None:
    eng = engine(remember=1)
    for who in ("bob", "carol"):
        eng.observe(ReportEvent(T, who, f"elsewhere-{who}", "spam", sender="mallory"))
    assert "REPORTED_SENDER" in send(eng, "m1", "mallory", T + 1)
    ev = parse_event({"type": "report", "ts": 1, "reporter": "r", "message_id": "m",
                      "label": "spam", "sender": "s"})
    assert isinstance(ev, ReportEvent) and ev.sender == "s"
