"""Streams are deterministic, well-formed, labelled; the closed loop contains a worm."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from spimguard.core.events import MessageEvent, parse_event
from spimguard.simulate import (
    Botnet,
    SimConfig,
    SlowWorm,
    StrangerBots,
    WorldOptions,
    Worm,
    generate,
    parse_attacks,
    run_closed_loop,
    simulate_cli,
)

from .fakes import link_blocker

ALL = (Worm(seeds=2, start_hours=3, click_prob=0.3), SlowWorm(seeds=1, start_hours=3),
       StrangerBots(bots=2, messages=10, start_hours=2, spread_hours=12),
       Botnet(accounts=4, messages=8, start_hours=6, duration_hours=2))
CFG = SimConfig(seed=11, n_users=70, days=2.0, attacks=ALL)
FIXTURE = Path(__file__).parent / "fixtures" / "snap-small.txt"


@pytest.fixture(scope="module")
def stream() -> list[dict[str, Any]]:
    return list(generate(CFG))


def test_same_seed_same_stream(stream: list[dict[str, Any]]) -> None:
    assert list(generate(CFG)) == stream
    other = SimConfig(seed=12, n_users=70, days=2.0, attacks=ALL)
    assert list(generate(other)) != stream


def test_stream_is_ordered_and_parses(stream: list[dict[str, Any]]) -> None:
    times = [e["ts"] for e in stream]
    assert times == sorted(times)
    parsed = [parse_event(json.loads(json.dumps(e))) for e in stream]
    ids = [p.id for p in parsed if isinstance(p, MessageEvent)]
    assert len(ids) == len(set(ids))
    kinds = {e["type"] for e in stream}
    assert {"account", "contact", "login", "message", "truth"} <= kinds


def test_ground_truth_is_present(stream: list[dict[str, Any]]) -> None:
    msgs = [e for e in stream if e["type"] == "message"]
    assert {e["label"] for e in msgs} == {"ham", "spam"}
    compromised: set[str] = set()
    accounts = {e["user"] for e in stream if e["type"] == "account"}
    for e in stream:
        if e["type"] == "truth":
            assert e["user"] in accounts
            compromised.add(e["user"])
        elif e["type"] == "message":
            assert e["sender"] in accounts
            if e["label"] == "spam":  # from a fallen account or one the attacker made
                assert e["sender"] in compromised


def test_open_loop_equals_the_undefended_closed_loop(stream: list[dict[str, Any]]) -> None:
    res = run_closed_loop(CFG, None)
    assert res.events == stream
    assert res.score["spam_stopped"] == 0.0
    assert res.kinds["worm"]["delivered"] == res.kinds["worm"]["sent"]


def test_blocking_links_stops_the_worm() -> None:
    cfg = SimConfig(seed=4, n_users=80, days=2.0,
                    attacks=(Worm(seeds=3, start_hours=2, click_prob=0.5),))
    undefended = run_closed_loop(cfg, None)
    defended = run_closed_loop(cfg, link_blocker())
    assert undefended.compromise["secondary"] > 0
    assert defended.reach <= undefended.reach
    assert defended.compromise["secondary"] == 0
    assert defended.kinds["worm"]["delivered"] == 0
    assert defended.score["spam_stopped"] == 1.0
    assert defended.events is not None
    blocked_ids = {e["id"] for e in defended.events if e["type"] == "message"
                   and e["label"] == "spam"}
    assert len(blocked_ids) == defended.kinds["worm"]["sent"]


def test_a_lock_logs_the_attacker_out_and_the_owner_recovers() -> None:
    cfg = SimConfig(seed=4, n_users=80, days=2.0,
                    attacks=(Worm(seeds=3, start_hours=2, click_prob=0.5),),
                    world=WorldOptions(unlock_after_hours=1.0))
    res = run_closed_loop(cfg, link_blocker(lock=True))
    assert res.kinds["worm"]["sent"] == 3  # one lure each, then locked out
    assert res.compromise["caught"] == 3
    assert res.compromise["median_spam_before_action"] == 1
    assert res.events is not None
    unlocks = [e for e in res.events if e["type"] == "unlock"]
    recovered = [e for e in res.events if e["type"] == "truth" and not e["compromised"]]
    assert {e["user"] for e in recovered} <= {e["user"] for e in unlocks}
    assert len(recovered) == 3


def test_shadow_engine_scores_without_stopping() -> None:
    cfg = SimConfig(seed=4, n_users=60, days=1.0,
                    attacks=(StrangerBots(bots=2, messages=5, start_hours=1, spread_hours=2),))
    res = run_closed_loop(cfg, None, shadow=link_blocker(), record=False)
    assert res.events is None
    assert res.kinds["stranger_bots"]["delivered"] == 10
    assert res.kinds["stranger_bots"]["stopped"] == 10
    assert res.score["spam_stopped"] == 1.0


def test_real_graph_from_a_snap_file() -> None:
    cfg = SimConfig(seed=1, graph=FIXTURE, days=None)
    events = list(generate(cfg))
    msgs = [e for e in events if e["type"] == "message"]
    assert len(msgs) == 10 and all(e["label"] == "ham" for e in msgs)
    # the newcomer "9" (first seen after the first two days) has a young account
    created = {e["user"]: e["created_ts"] for e in events if e["type"] == "account"}
    assert 0 < 200_000 - created["9"] <= 2 * 86_400
    account_9 = next(e for e in events if e["type"] == "account" and e["user"] == "9")
    assert account_9["ts"] == created["9"]  # announced when created, not at the start
    assert 1000 - created["1"] > 20 * 86_400


def test_parse_attacks() -> None:
    attacks = parse_attacks(["worm:seeds=5,click_delay_minutes=1/2", "bots", "all"],
                            {"worm_click_prob": "0.4", "slow_worm_seeds": 1})
    assert [a.kind for a in attacks][:2] == ["worm", "stranger_bots"]
    assert len(attacks) == 6
    w = attacks[0]
    assert isinstance(w, Worm) and w.seeds == 5 and w.click_prob == 0.4
    assert w.click_delay_minutes == (1.0, 2.0)
    assert isinstance(attacks[3], SlowWorm) and attacks[3].seeds == 1
    with pytest.raises(ValueError, match="unknown attack"):
        parse_attacks(["nope"])
    with pytest.raises(ValueError, match="no setting"):
        parse_attacks(["botnet:wings=2"])
    with pytest.raises(ValueError, match="names no attack"):
        parse_attacks([], {"dragon_size": 1})


def test_simulate_cli_writes_the_stream(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    summary = simulate_cli(None, ["worm:seeds=2,start_hours=2"], defend=False, out=out,
                           seed=3, days=1.0, shadow=False, n_users=50)
    json.dumps(summary)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == summary["runs"][0]["events"]
    assert all(parse_event(json.loads(line)) for line in lines)
    assert summary["runs"][0]["defended"] is False


def test_closed_loop_is_deterministic_too() -> None:
    a = run_closed_loop(CFG, link_blocker(lock=True))
    b = run_closed_loop(CFG, link_blocker(lock=True))
    assert a.events == b.events and a.summary()["kinds"] == b.summary()["kinds"]
