"""Two service workers on one Redis act as one engine; without Redis they keep answering."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi.testclient import TestClient

from spimguard.interfaces.http import ServiceConfig, create_app

if TYPE_CHECKING:
    from conftest import RedisServer

LURE = ("Hey, is this you in this video? Everyone in the group is talking about it, "
        "have a look https://clips-share.xyz/v/8812")


def worker(data_dir: Path, url: str) -> tuple[TestClient, dict[str, str]]:
    app = create_app(ServiceConfig(data_dir=data_dir, store=url))
    _, token = app.state.service.ledger.create_key("w", ["check", "admin"])
    return TestClient(app), {"Authorization": f"Bearer {token}"}


def send(c: TestClient, h: dict[str, str], mid: str, sender: str, text: str,
         recipients: list[str], ts: float) -> dict[str, Any]:
    r = c.post("/v1/check", json={"id": mid, "sender": sender, "recipients": recipients,
                                  "text": text, "ts": ts}, headers=h)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_two_workers_share_fanout_and_campaigns(tmp_path: Path,
                                                redis_server_factory: Callable[..., RedisServer]
                                                ) -> None:
    server = redis_server_factory()
    a, ha = worker(tmp_path / "a", server.url)
    b, hb = worker(tmp_path / "b", server.url)
    t = time.time()
    # one account's fan-out split across the two workers
    names = []
    for i in range(8):
        c, h = (a, ha) if i % 2 == 0 else (b, hb)
        v = send(c, h, f"f{i}", "mallory", "see this https://promo-deal.example-shop.top/x",
                 [f"friend{i}"], t + i)
        names.append({s["name"] for s in v["signals"]})
    assert "FANOUT_BURST" in names[-1] and "FANOUT_BURST" not in names[0]
    # a campaign across both workers, taken down on one, blocked on the other
    cids = {send((a, b)[i % 2], (ha, hb)[i % 2], f"c{i}", f"@u{i}:x", LURE, ["@bob:x"],
                 t + 100 + i)["campaign"] for i in range(4)}
    cids.discard(None)
    assert len(cids) == 1
    cid = cids.pop()
    r = a.post(f"/v1/campaigns/{cid}/takedown", headers=ha)
    assert r.status_code == 200
    later = send(b, hb, "c9", "@u9:x", LURE, ["@bob:x"], t + 200)
    assert later["action"] == "block"
    assert "CAMPAIGN_TAKEDOWN" in {s["name"] for s in later["signals"]}


def test_worker_keeps_answering_when_redis_goes_away(
        tmp_path: Path, redis_server_factory: Callable[..., RedisServer]) -> None:
    server = redis_server_factory()
    c, h = worker(tmp_path, server.url)
    t = time.time()
    assert send(c, h, "m0", "alice", "hello there", ["bob"], t)["action"] == "allow"
    assert c.get("/healthz").json()["status"] == "ok"
    server.kill()
    for i in range(5):
        v = send(c, h, f"m{i + 1}", "alice", "still there?", ["bob"], t + i + 1)
        assert v["action"] == "allow"
    assert c.get("/healthz").json()["status"] == "degraded"
    metrics = c.get("/metrics").text
    assert "spimguard_store_degraded 1.0" in metrics
    errors = [ln for ln in metrics.splitlines() if ln.startswith("spimguard_store_errors_total")]
    assert errors and float(errors[0].split()[-1]) >= 1
    redis_server_factory(port=server.port)  # back on the same port
    time.sleep(1.2)  # the store retries Redis at most once a second while degraded
    send(c, h, "m9", "alice", "back?", ["bob"], t + 20)
    assert "spimguard_store_degraded 0.0" in c.get("/metrics").text
    assert c.get("/healthz").json()["status"] == "ok"


def test_a_report_to_the_other_worker_reaches_the_sender(
        tmp_path: Path, redis_server_factory: Callable[..., RedisServer]) -> None:
    server = redis_server_factory()
    a, ha = worker(tmp_path / "a", server.url)
    b, hb = worker(tmp_path / "b", server.url)
    t = time.time()
    send(a, ha, "x1", "mallory", "hi, got a minute?", ["bob"], t)
    send(a, ha, "x2", "mallory", "hi, got a minute?", ["carol"], t + 1)
    for who, mid in (("bob", "x1"), ("carol", "x2")):  # worker b never saw these messages
        r = b.post("/v1/reports", json={"reporter": who, "message_id": mid, "label": "spam",
                                        "sender": "mallory"}, headers=hb)
        assert r.status_code == 200
    v = send(a, ha, "x3", "mallory", "hello?", ["dave"], t + 2)
    assert "REPORTED_SENDER" in {s["name"] for s in v["signals"]}


def _lock_by_decoy(c: TestClient, h: dict[str, str], user: str, mid: str, ts: float) -> None:
    v = send(c, h, mid, user, "win a prize http://prize-now.xyz/claim", ["@decoy:x"], ts)
    assert v["account_action"] == "lock", v


def test_standing_locks_hold_through_a_redis_outage_on_every_worker(
        tmp_path: Path, redis_server_factory: Callable[..., RedisServer]) -> None:
    """Issue 20: a lock taken before an outage was forgotten during it and after Redis came
    back empty; a lock taken during it held only on the worker that took it."""
    server = redis_server_factory()
    a, ha = worker(tmp_path, server.url)  # two workers of one `serve`: one data folder
    b, hb = worker(tmp_path, server.url)
    assert a.put("/v1/lists/decoys", json={"entries": ["@decoy:x"]},
                 headers=ha).status_code == 200
    t = time.time()
    _lock_by_decoy(a, ha, "@before:x", "d1", t)
    for c, h in ((a, ha), (b, hb)):
        assert send(c, h, f"pre-{id(c)}", "@before:x", "hi", ["@bob:x"], t + 1)["action"] \
            == "block"
    server.kill()
    _lock_by_decoy(a, ha, "@during:x", "d2", t + 2)  # in a's local memory only
    time.sleep(1.2)  # b follows the ledger at most once a second
    for i, (c, h) in enumerate(((a, ha), (b, hb))):
        for user in ("@before:x", "@during:x"):
            v = send(c, h, f"out-{i}-{user}", user, "hello again", ["@bob:x"], t + 3 + i)
            assert v["action"] == "block", (i, user, v)
    assert a.get("/healthz").json()["status"] == "degraded"
    redis_server_factory(port=server.port)  # back, empty
    time.sleep(1.2)
    for i, (c, h) in enumerate(((a, ha), (b, hb))):
        for user in ("@before:x", "@during:x"):
            v = send(c, h, f"after-{i}-{user}", user, "and now?", ["@bob:x"], t + 10 + i)
            assert v["action"] == "block", (i, user, v)
    assert a.post("/v1/accounts/@during:x/unlock", headers=ha).status_code == 200
    time.sleep(1.2)
    v = send(b, hb, "free", "@during:x", "thanks for unlocking", ["@bob:x"], t + 20)
    assert v["action"] != "block", v
