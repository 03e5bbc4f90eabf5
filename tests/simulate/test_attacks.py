"""Each attack leaves its own footprint in the stream."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from spimguard.simulate import Botnet, SimConfig, SlowWorm, StrangerBots, Worm, generate

Event = dict[str, Any]
HOST = re.compile(r"(?:https?://)?([\w.-]+\.[a-z]{2,})/")


def _run(*attacks: Any, days: float = 2.0, n_users: int = 80) -> list[Event]:
    return list(generate(SimConfig(seed=5, n_users=n_users, days=days, attacks=attacks)))


def _spam(events: list[Event]) -> list[Event]:
    return [e for e in events if e["type"] == "message" and e["label"] == "spam"]


def test_worm_logs_in_from_a_new_place_before_sending() -> None:
    events = _run(Worm(seeds=3, start_hours=2, click_prob=0.3))
    spam = _spam(events)
    assert spam
    first_spam: dict[str, float] = {}
    for e in spam:
        first_spam.setdefault(e["sender"], e["ts"])
    truths = [e for e in events if e["type"] == "truth"]
    assert len(truths) >= 3 and all(t["compromised"] for t in truths)
    for user, t_spam in first_spam.items():
        fell = next(e["ts"] for e in truths if e["user"] == user)
        logins = [e for e in events if e["type"] == "login" and e["user"] == user]
        owner = [e for e in logins if e["ts"] < fell]
        attacker = [e for e in logins if fell <= e["ts"] <= t_spam]
        assert owner and attacker, user
        assert attacker[0]["ip"] not in {e["ip"] for e in owner}
        assert attacker[0]["device"] not in {e["device"] for e in owner}


def test_worm_writes_to_contacts_within_minutes() -> None:
    events = _run(Worm(seeds=3, start_hours=2, click_prob=0.0))
    contacts: dict[str, set[str]] = defaultdict(set)
    sends: dict[str, list[float]] = defaultdict(list)
    for e in events:
        if e["type"] == "contact":
            contacts[e["user"]].add(e["contact"])
        elif e["type"] == "message" and e["label"] == "spam":
            assert e["recipients"][0] in contacts[e["sender"]]
            sends[e["sender"]].append(e["ts"])
    assert len(sends) == 3
    for times in sends.values():
        assert max(times) - min(times) < 30 * 60


def test_owners_keep_chatting_while_compromised() -> None:
    events = _run(Worm(seeds=3, start_hours=2, click_prob=0.3))
    fell = {e["user"]: e["ts"] for e in events if e["type"] == "truth"}
    ham_after = [e for e in events if e["type"] == "message" and e["label"] == "ham"
                 and e["sender"] in fell and e["ts"] > fell[e["sender"]]]
    assert ham_after


def test_stranger_bots_are_young_and_write_to_strangers() -> None:
    events = _run(StrangerBots(bots=3, messages=10, start_hours=1, spread_hours=10))
    spam = _spam(events)
    bots = {e["sender"] for e in spam}
    assert len(bots) == 3 and len(spam) == 30
    created = {e["user"]: e["created_ts"] for e in events if e["type"] == "account"}
    for bot in bots:
        first = min(e["ts"] for e in spam if e["sender"] == bot)
        assert 0 < first - created[bot] <= 3600
    added = {(e["user"], e["contact"]) for e in events if e["type"] == "contact"}
    assert not any((e["recipients"][0], e["sender"]) in added for e in spam)
    # attacker-made accounts are in the attacker's hands from birth
    truths = {e["user"] for e in events if e["type"] == "truth" and e["compromised"]}
    assert truths == bots


def test_botnet_copies_differ_but_share_the_domain_pool() -> None:
    events = _run(Botnet(accounts=6, messages=15, start_hours=3, domains=5))
    spam = _spam(events)
    assert len(spam) == 90 and len({e["sender"] for e in spam}) == 6
    texts = [e["text"] for e in spam]
    assert len(set(texts)) == len(texts)
    hosts = {m.group(1) for t in texts if (m := HOST.search(t))}
    assert 2 <= len(hosts) <= 5
    assert any(any("\u0400" <= c <= "\u04ff" for c in t) and "Congr" in t or "\u200b" in t
               for t in texts)
    created = {e["user"]: e["created_ts"] for e in events if e["type"] == "account"}
    for e in spam:
        assert e["ts"] - created[e["sender"]] >= 86_400 - 1  # registered days ahead


def test_slow_worm_is_slow_and_targets_frequent_contacts() -> None:
    cfg = SlowWorm(seeds=2, start_hours=1, click_prob=0.0, per_hour=2.0, top_contacts=5)
    events = _run(cfg, days=3)
    spam = _spam(events)
    assert spam
    by_sender: dict[str, list[Event]] = defaultdict(list)
    for e in spam:
        by_sender[e["sender"]].append(e)
    for msgs in by_sender.values():
        assert len({m["recipients"][0] for m in msgs}) == len(msgs) <= 5
        for m in msgs:
            hour = m["ts"] % 86_400 / 3600
            assert 8 <= hour < 23.6
        if len(msgs) >= 3:
            span_h = (msgs[-1]["ts"] - msgs[0]["ts"]) / 3600
            assert span_h > 0.3  # not a burst
    fast = _spam(_run(Worm(seeds=2, start_hours=1, click_prob=0.0), days=3))
    assert len(spam) < len(fast)


def test_worm_waits_for_accounts_with_contacts() -> None:
    edges = [("1", "2", 7200.0), ("2", "1", 7300.0), ("1", "3", 7400.0), ("3", "1", 7500.0)]
    cfg = SimConfig(seed=0, graph=edges, window_start=0.0, days=1.0,
                    attacks=(Worm(seeds=1, start_hours=0.0, min_contacts=2),))
    events = list(generate(cfg))
    truths = [e for e in events if e["type"] == "truth"]
    assert len(truths) == 1 and truths[0]["user"] == "1" and truths[0]["ts"] >= 7400.0
