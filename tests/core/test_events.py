import pytest

from spimguard.core.errors import EventError, UnknownEventType
from spimguard.core.events import (
    ContactEvent,
    LoginEvent,
    MessageEvent,
    ReportEvent,
    TruthEvent,
    UnlockEvent,
    parse_event,
)


def test_message_parses_all_fields() -> None:
    e = parse_event({"type": "message", "ts": 10, "id": "m1", "sender": "a",
                     "recipients": ["b", "c", "b"], "room": "r", "text": "hi", "label": "HAM"})
    assert isinstance(e, MessageEvent)
    assert e.recipients == ("b", "c")  # duplicates collapse, order kept
    assert e.ts == 10.0 and e.room == "r" and e.label == "ham"


def test_encrypted_message_has_no_text() -> None:
    e = parse_event({"type": "message", "ts": 1, "id": "m", "sender": "a",
                     "recipients": ["b"], "encrypted": True})
    assert isinstance(e, MessageEvent) and e.text is None and e.encrypted


@pytest.mark.parametrize("obj", [
    {"type": "contact", "ts": 1, "user": "a", "contact": "b", "op": "add"},
    {"type": "login", "ts": 1, "user": "a", "ip": "1.2.3.4", "device": "d", "ok": False},
    {"type": "report", "ts": 1, "reporter": "a", "message_id": "m", "label": "spam"},
    {"type": "unlock", "ts": 1, "user": "a"},
    {"type": "truth", "ts": 1, "user": "a", "compromised": True},
    {"type": "account", "ts": 1, "user": "a", "created_ts": 0},
])
def test_other_event_types(obj: dict[str, object]) -> None:
    e = parse_event(obj)
    assert e.type == obj["type"]
    assert isinstance(e, ContactEvent | LoginEvent | ReportEvent | UnlockEvent | TruthEvent) or (
        e.type == "account")


@pytest.mark.parametrize("obj,needle", [
    ([], "JSON object"),
    ({"ts": 1}, "type"),
    ({"type": "message", "ts": "yesterday", "id": "m", "sender": "a", "recipients": []}, "'ts'"),
    ({"type": "message", "ts": 1, "id": "m", "sender": "a", "recipients": "b", "text": "x"},
     "recipients"),
    ({"type": "message", "ts": 1, "id": "m", "sender": "a", "recipients": ["b"]}, "text"),
    ({"type": "message", "ts": 1, "id": 5, "sender": "a", "recipients": ["b"], "text": "x"},
     "'id'"),
    ({"type": "message", "ts": 1, "id": "m", "sender": "a", "recipients": ["b"], "text": 3},
     "'text'"),
    ({"type": "message", "ts": float("nan"), "id": "m", "sender": "a", "recipients": ["b"],
      "text": "x"}, "finite"),
    ({"type": "report", "ts": 1, "reporter": "a", "message_id": "m", "label": "maybe"}, "label"),
    ({"type": "contact", "ts": 1, "user": "a", "contact": "b", "op": "poke"}, "op"),
    ({"type": "login", "ts": 1, "user": "a", "ok": "yes"}, "ok"),
])
def test_malformed_events_name_the_field(obj: object, needle: str) -> None:
    with pytest.raises(EventError, match=needle):
        parse_event(obj)


def test_unknown_type_is_its_own_error() -> None:
    with pytest.raises(UnknownEventType):
        parse_event({"type": "typing", "ts": 1})
