"""On the embedded default (SQLite), campaigns and behaviour survive a restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from spimguard.interfaces.http import ServiceConfig, create_app

LURE = ("Hey, is this you in this video? Everyone in the group is talking about it, "
        "have a look https://clips-share.xyz/v/8812")


def service(data_dir: Path) -> tuple[TestClient, dict[str, str]]:
    app = create_app(ServiceConfig(data_dir=data_dir, store="sqlite"))
    _, token = app.state.service.ledger.create_key("t", ["check", "admin"])
    return TestClient(app), {"Authorization": f"Bearer {token}"}


def send(c: TestClient, h: dict[str, str], mid: str, sender: str, text: str,
         ts: float) -> dict[str, Any]:
    r = c.post("/v1/check", json={"id": mid, "sender": sender, "recipients": ["@bob:x"],
                                  "text": text, "ts": ts}, headers=h)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_campaigns_and_profiles_survive_a_restart(tmp_path: Path) -> None:
    t = 1_800_000_000.0
    c, h = service(tmp_path)
    with c:
        for i in range(20):  # alice's ordinary history
            send(c, h, f"a{i}", "alice", "see you at lunch?", t + i * 3600)
        cid = None
        for i in range(3):
            cid = send(c, h, f"c{i}", f"@u{i}:x", LURE, t + 100_000 + i)["campaign"] or cid
        assert cid is not None
        before = c.get(f"/v1/campaigns/{cid}", headers=h).json()
        profile = c.get("/v1/accounts/alice", headers=h).json()["profile"]
        assert profile["messages"] == 20
    c2, h2 = service(tmp_path)  # a new process on the same data folder
    with c2:
        after = c2.get(f"/v1/campaigns/{cid}", headers=h2)
        assert after.status_code == 200, after.text
        assert {k: after.json()[k] for k in ("messages", "senders", "status")} == \
            {k: before[k] for k in ("messages", "senders", "status")}
        v = send(c2, h2, "c9", "@u9:x", LURE, t + 100_010)
        assert v["campaign"] == cid
        assert c2.get("/v1/accounts/alice", headers=h2).json()["profile"]["messages"] == 20
    assert (tmp_path / "state.campaigns.sqlite").exists()


def test_two_workers_on_one_sqlite_folder_share_campaigns(tmp_path: Path) -> None:
    t = 1_800_000_000.0
    a, ha = service(tmp_path)
    b, hb = service(tmp_path)
    cids = {send((a, b)[i % 2], (ha, hb)[i % 2], f"c{i}", f"@u{i}:x", LURE, t + i)["campaign"]
            for i in range(4)}
    cids.discard(None)
    assert len(cids) == 1
    cid = cids.pop()
    assert a.post(f"/v1/campaigns/{cid}/takedown", headers=ha).status_code == 200
    v = send(b, hb, "c9", "@u9:x", LURE, t + 20)
    assert v["action"] == "block" and "CAMPAIGN_TAKEDOWN" in {s["name"] for s in v["signals"]}
