"""The one input boundary: every bad input gets a clear error, the same everywhere."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spimguard.core.boundary import MAX_DEPTH, InputError, check, json_lines, loads
from spimguard.core.errors import EventError, UnknownEventType
from spimguard.core.events import parse_event

#: Each broke something in issue 20: a 500 from /v1/events, a dead writer, a crashed replay.
HOSTILE = [
    b'{"type": "message", "id": "\\ud800", "sender": "a", "recipients": ["b"], "text": "x"}',
    b'{"type": "message", "id": "m", "sender": "\\ud800", "recipients": ["b"], "text": "x"}',
    b'{"type": "message", "id": "m", "sender": "a", "recipients": ["b"], "text": "x\\udc00"}',
    b'{"\\ud800": 1, "type": "message"}',
    b"[" * 1000 + b"]" * 1000,
    b'{"a": ' * 1000 + b"1" + b"}" * 1000,
    b'{"type": "message", "ts": ' + b"9" * 4301 + b"}",
    b'{"type": "message", "ts": 1e999}',
    b'{"type": "message", "ts": NaN}',
    b'{"type": "message", "ts": -Infinity}',
    b"\xff\xfe{}",
    b'{"type": "message", "id": "m", "sender": "a", "recipients": ["b"], "text": "' + b"x" * 150_000
    + b'"}',
]


@pytest.mark.parametrize("raw", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_items_get_a_clear_error(raw: bytes) -> None:
    with pytest.raises((InputError, EventError)) as err:
        parse_event(loads(raw))
    assert len(str(err.value)) < 200  # says why, without echoing the input


def test_depth_limit_is_exact() -> None:
    ok = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    loads(ok)
    with pytest.raises(InputError, match="nested"):
        loads("[" + ok + "]")


def test_json_lines_split_on_newlines_only() -> None:
    """A raw U+2028 is legal inside a JSON string; it must not split the item."""
    raw = ('{"type": "unlock", "ts": 1, "user": "a\u2028b"}\n\n'
           '{"type": "unlock", "ts": 2, "user": "c"}\r\nnot json\n').encode()
    out = list(json_lines(raw))
    assert [n for n, _ in out] == [1, 3, 4]
    assert out[0][1]["user"] == "a\u2028b" and isinstance(out[2][1], InputError)


def test_check_reports_the_field() -> None:
    with pytest.raises(InputError, match="'sender'"):
        check({"sender": "\ud800"})


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_decode_or_fail_cleanly(raw: bytes) -> None:
    try:
        obj = loads(raw)
    except InputError:
        return
    try:
        parse_event(obj)
    except (EventError, UnknownEventType):
        pass


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children,
                                                                      max_size=4),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({"type": st.sampled_from(
    ["message", "login", "contact", "report", "unlock", "account", "truth", "other"])},
    optional={"ts": json_values, "id": json_values, "sender": json_values,
              "recipients": json_values, "text": json_values, "user": json_values,
              "encrypted": json_values, "label": json_values, "op": json_values}))
def test_any_event_shaped_object_parses_or_fails_cleanly(obj: dict[str, object]) -> None:
    try:
        event = parse_event(loads(json.dumps(obj)))
    except (InputError, EventError, UnknownEventType):
        return
    assert event is not None
