"""The fault bench's fuzzer alone (no servers): deterministic, and it makes every kind."""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import fault_probes  # noqa: E402  (bench/ is not a package)
from fault_probes import KINDS, FuzzCase, Fuzzer  # noqa: E402

N = 3000


@pytest.fixture(scope="module")
def cases() -> list[FuzzCase]:
    return [Fuzzer(7).case(i) for i in range(N)]


def _decode(line: bytes) -> object:
    """Lenient: numbers of any size and NaN stay text (other kinds may be stacked on)."""
    return json.loads(line.decode("utf-8", "surrogatepass"), parse_int=str, parse_float=str,
                      parse_constant=str)


def test_deterministic_for_a_seed_and_in_any_order(cases: list[FuzzCase]) -> None:
    again = Fuzzer(7)
    assert [again.case(i) for i in reversed(range(500))] == list(reversed(cases[:500]))
    other = [Fuzzer(8).case(i).line for i in range(500)]
    assert other != [c.line for c in cases[:500]]
    assert Fuzzer(7, prefix="wu").case(0).line != cases[0].line


def test_every_kind_is_made(cases: list[FuzzCase]) -> None:
    made = {c.kinds[0] for c in cases}
    assert made == set(KINDS)
    assert any(len(c.kinds) == 2 for c in cases)  # stacked mutations too


def test_lines_are_single_json_lines_items(cases: list[FuzzCase]) -> None:
    for c in cases:
        assert b"\n" not in c.line, c.index
        assert c.must_refuse == bool(c.refuse_fields), c.index


def test_each_kind_holds_its_defect(cases: list[FuzzCase]) -> None:
    by: defaultdict[str, list[FuzzCase]] = defaultdict(list)
    for c in cases:
        by[c.kinds[0]].append(c)
    for c in by["valid"]:
        assert isinstance(_decode(c.line), dict) and c.valid and not c.must_refuse
    assert any(c.msg_id is not None for c in by["valid"])
    for c in by["lone_surrogate"]:
        assert re.search(rb"\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])|\\ud[c-f][0-9a-f]{2}", c.line)
        assert c.must_refuse
    for c in by["deep_nesting"]:
        assert max(len(m) for m in re.findall(rb"\[+|(?:\{\"a\":)+", c.line)) > 16
    assert any(c.line.count(b"[") >= 1000 or c.line.count(b'{"a":') >= 1000
               for c in by["deep_nesting"])
    for c in by["big_int"]:
        assert re.search(rb"-?\d{65,}", c.line)
    assert any(re.search(rb"\d{4301,}", c.line) for c in by["big_int"])
    for c in by["inf_number"]:
        assert re.search(rb"1e999|1E400|2\.5e308", c.line)
    assert any(b"1e999" in c.line for c in by["inf_number"])
    for c in by["nan"]:
        assert re.search(rb"NaN|Infinity", c.line)
    for c in by["huge_text"]:
        obj = _decode(c.line)
        assert isinstance(obj, dict)
        assert max(len(obj.get("text") or ""), len(obj.get("formatted_body") or "")) > 100_000
    for c in by["u2028"]:
        assert b"\xe2\x80\xa8" in c.line or b"\xe2\x80\xa9" in c.line
        if len(c.kinds) == 1:
            assert isinstance(_decode(c.line), dict) and c.valid  # valid JSON, one item
    for c in by["invalid_utf8"]:
        with pytest.raises(UnicodeDecodeError):
            c.line.decode("utf-8")
    for c in by["truncated"]:
        with pytest.raises(ValueError):
            json.loads(c.line.decode("utf-8", "surrogateescape"))
    for c in by["array"]:
        assert isinstance(_decode(c.line), list)
    for c in by["unknown_type"]:
        obj = _decode(c.line)
        assert isinstance(obj, dict) and obj.get("type") not in (
            "message", "account", "contact", "login", "report", "unlock", "truth")
    for c in by["empty_line"]:
        assert not c.line.strip()
    assert any(not isinstance(_decode(c.line), dict) for c in by["wrong_type"])  # scalars
    assert any(isinstance(_decode(c.line), dict) and c.fields for c in by["missing_field"])


def test_lone_surrogates_reach_every_string_field(cases: list[FuzzCase]) -> None:
    hit: defaultdict[str, set[str]] = defaultdict(set)
    for c in cases:
        if "lone_surrogate" in c.kinds and b'"type": "' in c.line:
            kind = re.search(rb'"type": "([a-z]+)', c.line)
            if kind:
                hit[kind.group(1).decode()].update(f.split("[")[0] for f in c.fields)
    assert {"type", "id", "sender", "recipients", "text", "room", "formatted_body"} <= \
        hit["message"]
    assert {"user", "ip", "device"} <= hit["login"]
    assert {"user", "contact", "op"} <= hit["contact"]


def test_msg_id_is_the_id_the_server_would_see() -> None:
    f = Fuzzer(7)
    for i in range(N):
        c = f.case(i)
        if c.valid and c.msg_id is not None:
            obj = json.loads(c.line.decode("utf-8"))
            assert obj["id"] == c.msg_id


def test_percentile() -> None:
    assert fault_probes.pct([], 50) is None
    assert fault_probes.pct([float(x) for x in range(1, 101)], 99) == 99.0
