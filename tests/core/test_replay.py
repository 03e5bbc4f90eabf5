"""Reading event streams and replaying them (shared/spec/formats.md, sections 2 and 3)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from spimguard import Engine, build_engine
from spimguard.core import replay as replay_mod
from spimguard.core.context import MessageContext
from spimguard.core.events import MessageEvent
from spimguard.core.replay import ReplayStats, iter_events, replay
from spimguard.core.signals import Hit, SignalSpec
from spimguard.detectors.base import DetectorBase

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SMALL = FIXTURES / "events-small.jsonl"
BAD = FIXTURES / "events-bad.jsonl"

VERDICT_KEYS = {"id", "action", "score", "signals", "account_action", "campaign"}
ACTIONS = {"allow", "warn", "hold", "block"}

# events-bad.jsonl, line by line (the file is committed as bytes; see its lines):
#   1 account | 2 truncated JSON | 3 message b2 | 4 invalid UTF-8 | 5 unknown type "typing"
#   6 recipients is a string | 7 empty | 8 ts is a string | 9 blank (spaces)
#   10 message b6 | 11 unlock | 12 message b7
BAD_LINES = [2, 4, 6, 8]
BAD_VALID_MESSAGES = ["b2", "b6", "b7"]


def _json_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text("utf-8").splitlines() if x.strip()]


def _replay_bytes(data: bytes, engine: Engine | None = None) -> tuple[list[dict[str, Any]],
                                                                      ReplayStats]:
    stats = ReplayStats()
    eng = engine or build_engine()
    out = [v.to_dict() for _, v in replay(eng, io.BytesIO(data), stats)]
    return out, stats


def _replay_file(path: Path) -> tuple[list[dict[str, Any]], ReplayStats]:
    return _replay_bytes(path.read_bytes())


# -- the fixtures themselves ---------------------------------------------------


def test_small_fixture_covers_every_event_type() -> None:
    events = _json_lines(SMALL)
    assert 25 <= len(events) <= 40
    kinds = {e["type"] for e in events}
    assert kinds == {"account", "contact", "login", "message", "report", "unlock", "truth"}
    msgs = [e for e in events if e["type"] == "message"]
    assert all(m.get("label") in ("spam", "ham") for m in msgs)
    assert any(m.get("encrypted") is True and "text" not in m for m in msgs)
    assert any("room" in m and len(m["recipients"]) > 1 for m in msgs)
    assert {e["compromised"] for e in events if e["type"] == "truth"} == {True, False}
    assert {e["op"] for e in events if e["type"] == "contact"} == {"add", "remove"}


def test_bad_fixture_lines_are_what_the_tests_assume() -> None:
    raw = BAD.read_bytes().split(b"\n")
    assert raw[-1] == b""  # file ends with a newline
    lines = raw[:-1]
    assert len(lines) == 12
    with pytest.raises(json.JSONDecodeError):
        json.loads(lines[1])
    with pytest.raises(UnicodeDecodeError):
        lines[3].decode("utf-8")
    assert json.loads(lines[4])["type"] == "typing"
    assert isinstance(json.loads(lines[5])["recipients"], str)
    assert lines[6] == b"" and lines[8].strip() == b""
    assert isinstance(json.loads(lines[7])["ts"], str)


# -- replay on the fixtures ------------------------------------------------------


def test_one_verdict_per_message_in_order() -> None:
    expected_ids = [e["id"] for e in _json_lines(SMALL) if e["type"] == "message"]
    verdicts, stats = _replay_file(SMALL)
    assert [v["id"] for v in verdicts] == expected_ids
    assert stats.messages == len(expected_ids)
    assert stats.events == len(_json_lines(SMALL))
    assert stats.errors == [] and not stats.unknown_types


def test_verdict_dict_has_exactly_the_spec_keys() -> None:
    verdicts, _ = _replay_file(SMALL)
    assert verdicts
    for v in verdicts:
        assert set(v) == VERDICT_KEYS
        assert v["action"] in ACTIONS
        assert isinstance(v["score"], int | float)
        assert v["account_action"] in (None, "challenge", "lock")
        assert v["campaign"] is None or isinstance(v["campaign"], str)
        for s in v["signals"]:
            assert set(s) == {"name", "score", "detail"}
            assert isinstance(s["name"], str) and isinstance(s["detail"], str)
        json.dumps(v)  # serialisable as is


def test_verdict_lines_are_valid_json_round_trip() -> None:
    verdicts, _ = _replay_file(SMALL)
    assert [json.loads(json.dumps(v)) for v in verdicts] == verdicts


def test_obvious_spam_in_stream_is_flagged_by_content() -> None:
    events = {e["id"]: e for e in _json_lines(SMALL) if e["type"] == "message"}
    verdicts = {v["id"]: v for v in _replay_file(SMALL)[0]}
    winner = next(i for i, e in events.items() if "WINNER" in (e.get("text") or ""))
    assert "CONTENT_SPAM" in [s["name"] for s in verdicts[winner]["signals"]]
    assert verdicts[winner]["action"] in ("hold", "block")
    charger = next(i for i, e in events.items() if "charger" in (e.get("text") or ""))
    assert verdicts[charger]["action"] == "allow"


def test_encrypted_message_gets_no_content_signal() -> None:
    enc = [e["id"] for e in _json_lines(SMALL) if e["type"] == "message" and e.get("encrypted")]
    assert enc
    verdicts = {v["id"]: v for v in _replay_file(SMALL)[0]}
    for i in enc:
        names = {s["name"] for s in verdicts[i]["signals"]}
        assert not {n for n in names if n.startswith(("CONTENT_", "OBFUSCATED_"))}


def test_bad_lines_reported_with_line_numbers_and_processing_goes_on() -> None:
    verdicts, stats = _replay_file(BAD)
    assert [n for n, _ in stats.errors] == BAD_LINES
    reasons = dict(stats.errors)
    assert "JSON" in reasons[2]
    assert "UTF-8" in reasons[4]
    assert "recipients" in reasons[6]
    assert "'ts'" in reasons[8]
    # the valid lines between and after the bad ones are all used
    assert [v["id"] for v in verdicts] == BAD_VALID_MESSAGES
    assert stats.messages == len(BAD_VALID_MESSAGES)
    assert stats.events == 5  # lines 1, 3, 10, 11, 12


def test_unknown_types_are_counted_not_errors() -> None:
    _, stats = _replay_file(BAD)
    assert dict(stats.unknown_types) == {"typing": 1}
    assert 5 not in [n for n, _ in stats.errors]


def test_empty_and_blank_lines_are_not_errors() -> None:
    _, stats = _replay_file(BAD)
    assert 7 not in [n for n, _ in stats.errors]
    assert 9 not in [n for n, _ in stats.errors]


def test_iter_events_yields_line_numbers() -> None:
    stats = ReplayStats()
    with BAD.open("rb") as fh:
        got = [(n, e.type) for n, e in iter_events(fh, stats)]
    assert got == [(1, "account"), (3, "message"), (10, "message"), (11, "unlock"),
                   (12, "message")]


def test_crlf_line_endings_and_no_final_newline() -> None:
    data = (b'{"type": "account", "ts": 1, "user": "a"}\r\n'
            b'{"type": "message", "ts": 2, "id": "m1", "sender": "a", "recipients": ["b"], '
            b'"text": "hi"}\r\n'
            b'not json\r\n'
            b'{"type": "message", "ts": 3, "id": "m2", "sender": "a", "recipients": ["b"], '
            b'"text": "bye"}')
    verdicts, stats = _replay_bytes(data)
    assert [v["id"] for v in verdicts] == ["m1", "m2"]
    assert [n for n, _ in stats.errors] == [3]


@pytest.mark.parametrize("line", [
    b"[1, 2, 3]",
    b'"just a string"',
    b"null",
    b'{"ts": 1, "user": "a"}',
    b'{"type": "message", "ts": 1, "id": "m", "sender": "a", "recipients": ["b"]}',
    b'{"type": "truth", "ts": 1, "user": "a", "compromised": "yes"}',
])
def test_other_malformed_lines_are_reported(line: bytes) -> None:
    ok = b'{"type": "message", "ts": 9, "id": "ok", "sender": "a", "recipients": ["b"], ' \
         b'"text": "hi"}'
    verdicts, stats = _replay_bytes(b"\n".join([ok, line, ok]) + b"\n")
    assert [n for n, _ in stats.errors] == [2]
    assert [v["id"] for v in verdicts] == ["ok", "ok"]


def test_overlong_line_is_reported_not_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(replay_mod, "MAX_LINE_BYTES", 200)
    big = json.dumps({"type": "message", "ts": 1, "id": "big", "sender": "a",
                      "recipients": ["b"], "text": "x " * 200}).encode()
    small = b'{"type": "message", "ts": 2, "id": "s", "sender": "a", "recipients": ["b"], ' \
            b'"text": "hi"}'
    verdicts, stats = _replay_bytes(small + b"\n" + big + b"\n" + small + b"\n")
    assert [n for n, _ in stats.errors] == [2]
    assert "200" in stats.errors[0][1]
    assert [v["id"] for v in verdicts] == ["s", "s"]


def test_unknown_type_without_ts_is_still_counted() -> None:
    data = b'{"type": "typing", "user": "a"}\n{"type": "presence", "ts": "soon"}\n'
    _, stats = _replay_bytes(data)
    assert stats.errors == []
    assert dict(stats.unknown_types) == {"typing": 1, "presence": 1}


def test_json_error_column_points_into_the_line() -> None:
    line = b'{"type": "message", "ts": 2, "id": "b1"'
    _, stats = _replay_bytes(line + b"\n")
    assert stats.errors and stats.errors[0][0] == 1
    assert f"column {len(line) + 1}" in stats.errors[0][1]


# -- ground truth never decides -------------------------------------------------


def _strip_truth(path: Path) -> bytes:
    out = []
    for e in _json_lines(path):
        if e["type"] == "truth":
            continue
        if e["type"] == "message":
            e.pop("label", None)
        out.append(json.dumps(e, ensure_ascii=False))
    return ("\n".join(out) + "\n").encode("utf-8")


def test_verdicts_do_not_depend_on_ground_truth() -> None:
    with_truth, s1 = _replay_file(SMALL)
    without, s2 = _replay_bytes(_strip_truth(SMALL))
    assert b'"label"' in SMALL.read_bytes() and b'"truth"' in SMALL.read_bytes()
    stripped = _strip_truth(SMALL)
    assert b'"truth"' not in stripped
    # labels on report events stay: they are inputs, not ground truth
    assert all("label" not in e for e in map(json.loads, stripped.splitlines())
               if e["type"] == "message")
    assert [json.dumps(v) for v in with_truth] == [json.dumps(v) for v in without]
    assert s1.messages == s2.messages


class WinnerMarker(DetectorBase):
    """Blocks messages containing WINNER: a controlled engine for the replay plumbing."""

    name = "winner"
    signals = (SignalSpec("WINNER_WORD", 10.0, "test"),)

    def check(self, ctx: MessageContext) -> Iterable[Hit]:
        if ctx.message.text and "WINNER" in ctx.message.text:
            yield Hit("WINNER_WORD", 1.0, "marker")


def test_replay_labels_are_kept_on_events_for_scoring() -> None:
    """The parsed message keeps its label (for the scorer) while verdicts ignore it."""
    stats = ReplayStats()
    with SMALL.open("rb") as fh:
        pairs = list(replay(Engine([WinnerMarker()]), fh, stats))
    labels = [m.label for m, _ in pairs]
    expected = [e["label"] for e in _json_lines(SMALL) if e["type"] == "message"]
    assert labels == expected
    assert all(isinstance(m, MessageEvent) for m, _ in pairs)
    stopped = {m.id for m, v in pairs if v.action.stops}
    winner = {m.id for m, _ in pairs if m.text and "WINNER" in m.text}
    assert stopped == winner
