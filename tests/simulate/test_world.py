"""The world's bookkeeping: contact lists, fresh ids, owner logins."""

from __future__ import annotations

from typing import Any

from spimguard.core.events import parse_event
from spimguard.simulate import HamPool, World

from .fakes import link_blocker

POOL = HamPool({"en": ("hi there", "see you at 5"), "ru": ("привет",)})
EDGES = [("1", "2", 100.0), ("2", "1", 200.0), ("5", "1", 5000.0), ("1", "5", 5100.0)]


def _events(world: World) -> list[dict[str, Any]]:
    return list(world.run())


def test_recipient_adds_the_sender_back_after_delivery() -> None:
    world = World(EDGES, start=1000.0, end=10_000.0, seed=0, ham=POOL)
    events = _events(world)
    kinds = [(e["type"], e.get("user"), e.get("contact") or e.get("sender")) for e in events
             if e["type"] in ("contact", "message") and e["ts"] >= 5000.0]
    assert kinds[:3] == [("contact", "5", "1"), ("message", None, "5"), ("contact", "1", "5")]
    # history (before start) filled both lists at the start
    start = [(e["user"], e["contact"]) for e in events
             if e["type"] == "contact" and e["ts"] == 1000.0]
    assert sorted(start) == [("1", "2"), ("2", "1")]


def test_a_stopped_first_message_introduces_nobody() -> None:
    engine = link_blocker()
    world = World([("1", "2", 100.0), ("3", "1", 2000.0)], start=1000.0, end=9000.0, seed=0,
                  ham=HamPool({"en": ("look https://example.com/x",)}),
                  judge=lambda ev: engine.observe(parse_event(ev)), enforce=True)
    events = _events(world)
    added = {(e["user"], e["contact"]) for e in events if e["type"] == "contact"}
    assert ("3", "1") in added and ("1", "3") not in added
    assert world.stats["ham"].sent == 1 and world.stats["ham"].delivered == 0


def test_new_account_ids_follow_the_graph_style_and_never_collide() -> None:
    world = World(EDGES, start=1000.0, end=10_000.0, seed=0, ham=POOL)
    ids = [world.new_account_id() for _ in range(4)]
    assert ids == ["4", "6", "7", "8"]  # "5" is taken
    letters = World([("u0001", "u0002", 1.0)], start=0.0, end=10.0, seed=0, ham=POOL)
    assert letters.new_account_id() == "u0003"


def test_owners_log_in_before_they_write() -> None:
    world = World(EDGES, start=1000.0, end=10_000.0, seed=0, ham=POOL)
    events = _events(world)
    first_login: dict[str, float] = {}
    for e in events:
        if e["type"] == "login":
            first_login.setdefault(e["user"], e["ts"])
        if e["type"] == "message":
            assert first_login[e["sender"]] <= e["ts"]


def test_encrypted_conversations_carry_metadata_only() -> None:
    from spimguard.simulate import WorldOptions
    from spimguard.simulate.identity import megolm_size

    edges = [(str(a), str(b), 100.0 + 50 * i) for i, (a, b) in
             enumerate([(1, 2), (2, 1), (3, 4), (4, 3), (1, 3), (3, 1)] * 5)]
    half = World(edges, start=90.0, end=10_000.0, seed=3, ham=POOL,
                 options=WorldOptions(encrypted=0.5, block_ham=0.0))
    messages = [e for e in _events(half) if e["type"] == "message"]
    pairs: dict[tuple[str, ...], set[bool]] = {}
    for m in messages:
        assert m["device"]  # every message names its sending device
        parse_event(m)
        pair = tuple(sorted((m["sender"], m["recipients"][0])))
        pairs.setdefault(pair, set()).add(bool(m.get("encrypted")))
        if m.get("encrypted"):
            assert "text" not in m and m["size"] > 0
    assert all(len(v) == 1 for v in pairs.values())  # a conversation is encrypted or not
    assert {True, False} == set().union(*pairs.values())
    # a short message's ciphertext is a few hundred base64 characters, and grows with it
    assert 150 < megolm_size("hi") < megolm_size("hi" * 100)
    none = World(edges, start=90.0, end=10_000.0, seed=3, ham=POOL,
                 options=WorldOptions(devices=False))
    assert not any("device" in e or e.get("encrypted") for e in _events(none)
                   if e["type"] == "message")


def test_recipients_block_some_senders_minutes_later() -> None:
    from spimguard.simulate import WorldOptions

    world = World(EDGES * 1, start=90.0, end=20_000.0, seed=0, ham=POOL,
                  options=WorldOptions(block_ham=1.0))
    events = _events(world)
    blocks = [e for e in events if e["type"] == "feedback"]
    assert blocks and all(e["op"] == "block" for e in blocks)
    sent = {(m["recipients"][0], m["sender"]): m["ts"] for m in events if m["type"] == "message"}
    for b in blocks:
        assert 60.0 <= b["ts"] - sent[(b["user"], b["sender"])] <= 1800.0
