"""``spimguard simulate`` end to end on a small synthetic graph."""

import json
from pathlib import Path

from typer.testing import CliRunner

from spimguard.core.events import parse_event
from spimguard.interfaces.cli import app


def test_simulate_compare_writes_stream_and_metrics(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    r = CliRunner().invoke(app, ["simulate", "--days", "2", "--users", "80", "--compare",
                                 "--model", "shipped", "--attack", "worm", "--out", str(out)])
    assert r.exit_code == 0, r.output
    result = json.loads(r.stdout)
    cmp = result["comparison"]
    assert cmp["reach_defended"] <= cmp["reach_undefended"]
    lines = out.read_text().splitlines()
    assert lines and all(parse_event(json.loads(x)) for x in lines)
    assert any(json.loads(x).get("label") == "spam" for x in lines)


def test_simulate_bad_options(tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["simulate", "--graph", str(tmp_path / "none.txt")])
    assert r.exit_code == 2
    r = CliRunner().invoke(app, ["simulate", "--model", "huge"])
    assert r.exit_code == 2


def test_simulate_encrypted_share(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    r = CliRunner().invoke(app, ["simulate", "--days", "2", "--users", "80", "--encrypted",
                                 "1", "--model", "shipped", "--attack", "worm", "--out",
                                 str(out)])
    assert r.exit_code == 0, r.output
    pops = json.loads(r.stdout)["runs"][0]["score"]["populations"]
    assert set(pops) == {"encrypted"} and pops["encrypted"]["ham"] > 0
    messages = [json.loads(x) for x in out.read_text().splitlines()]
    messages = [m for m in messages if m["type"] == "message"]
    assert messages and all(m["encrypted"] and "text" not in m for m in messages)
    bad = CliRunner().invoke(app, ["simulate", "--encrypted", "1.5"])
    assert bad.exit_code == 2 and "between 0 and 1" in bad.output
