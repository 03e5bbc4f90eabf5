"""The service with encrypted traffic: session challenges, feedback notices, reported plaintext."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from spimguard.interfaces.http import ServiceConfig, create_app

DAY = 86_400.0
T0 = 1_700_000_000.0
FRIENDS = [f"@f{i}:x" for i in range(20)]


def _service(tmp_path: Path) -> tuple[TestClient, dict[str, str], dict[str, str], Any]:
    app = create_app(ServiceConfig(data_dir=tmp_path, store="memory"))
    svc = app.state.service
    _, check = svc.ledger.create_key("integration", ["check"])
    _, admin = svc.ledger.create_key("moderator", ["admin"])
    return (TestClient(app), {"Authorization": f"Bearer {check}"},
            {"Authorization": f"Bearer {admin}"}, svc)


def _history() -> list[dict[str, Any]]:
    """Three weeks of encrypted chat from alice's phone with four friends."""
    evs: list[dict[str, Any]] = [{"type": "account", "ts": T0, "user": "@alice:x",
                                  "created_ts": T0 - 400 * DAY}]
    for f in FRIENDS:
        evs += [{"type": "contact", "ts": T0, "user": "@alice:x", "contact": f},
                {"type": "contact", "ts": T0, "user": f, "contact": "@alice:x"}]
    n = 0
    for day in range(21):
        t = T0 + day * DAY + 9 * 3600
        evs.append({"type": "login", "ts": t, "user": "@alice:x", "ip": "198.51.100.7",
                    "device": "Element Android"})
        for k in range(3):
            n += 1
            evs.append({"type": "message", "ts": t + 600 * k, "id": f"h{n}",
                        "sender": "@alice:x", "recipients": [FRIENDS[(day + k) % 4]],
                        "encrypted": True, "device": "PHONE", "size": 250 + 37 * (n % 7)})
    return evs


def test_a_stolen_session_is_challenged_alone_and_audited(tmp_path: Path) -> None:
    client, check, admin, svc = _service(tmp_path)
    t = T0 + 21 * DAY + 10 * 3600
    with client:
        assert client.post("/v1/events", json=_history(), headers=check).status_code == 200
        lures = [{"type": "login", "ts": t, "user": "@alice:x", "ip": "203.0.113.9",
                  "device": "python-requests"}]
        lures += [{"type": "message", "ts": t + 30 + 8 * i, "id": f"s{i}", "sender": "@alice:x",
                   "recipients": [FRIENDS[4 + i]], "encrypted": True, "device": "EVIL",
                   "size": 420} for i in range(8)]
        out = client.post("/v1/events", json=lures, headers=check).json()
        acted = [v for v in out["verdicts"] if v["account_action"]]
        assert acted and acted[0]["session"] == "EVIL" and acted[0]["account_action"] == "challenge"
        assert out["verdicts"].index(acted[0]) <= 2, out["verdicts"]
        # audited, and not made account-wide: the owner's phone is allowed
        account = client.get("/v1/accounts/@alice:x", headers=admin).json()
        assert account["action"] is None
        assert any(h["action"] == "session-challenge" and "EVIL" in h["reason"]
                   for h in account["history"]), account["history"]
        own = client.post("/v1/check", headers=check, json={
            "ts": t + 300, "id": "own", "sender": "@alice:x", "recipients": [FRIENDS[0]],
            "encrypted": True, "device": "PHONE", "size": 260}).json()
        assert own["action"] == "allow" and "session" not in own, own
        again = client.post("/v1/check", headers=check, json={
            "ts": t + 310, "id": "again", "sender": "@alice:x", "recipients": [FRIENDS[1]],
            "encrypted": True, "device": "EVIL", "size": 420}).json()
        assert again["action"] == "hold"
        assert "SESSION_CHALLENGED" in {s["name"] for s in again["signals"]}
    assert svc.ledger.standing_actions() == {}


def test_blocks_arrive_as_feedback_and_answer_a_notice(tmp_path: Path) -> None:
    client, check, _admin, _svc = _service(tmp_path)
    t = T0 + 21 * DAY + 10 * 3600
    with client:
        client.post("/v1/events", json=_history(), headers=check)
        quiet = [{"type": "login", "ts": t, "user": "@alice:x", "ip": "203.0.113.9",
                  "device": "kit"}]
        quiet += [{"type": "message", "ts": t + 60 + 600 * i, "id": f"q{i}",
                   "sender": "@alice:x", "recipients": [FRIENDS[5 + i]], "encrypted": True,
                   "device": "EVIL", "size": 420} for i in range(2)]
        out = client.post("/v1/events", json=quiet, headers=check).json()
        assert not any(v["account_action"] for v in out["verdicts"]) and out["notices"] == []
        blocks = [{"type": "feedback", "ts": t + 1300 + i, "user": FRIENDS[5 + i],
                   "sender": "@alice:x", "op": op} for i, op in enumerate(("block", "leave"))]
        out = client.post("/v1/events", json=blocks, headers=check).json()
        assert out["errors"] == [] and len(out["notices"]) == 1, out
        assert out["notices"][0]["session"] == "EVIL"
        bad = client.post("/v1/events", headers=check, json=[
            {"type": "feedback", "ts": t, "user": "a", "sender": "b", "op": "hug"}]).json()
        assert bad["errors"] and "op" in bad["errors"][0]["error"]


def test_reported_plaintext_of_an_encrypted_message_is_learned_once_confirmed(
        tmp_path: Path) -> None:
    client, check, admin, svc = _service(tmp_path)
    with client:
        client.post("/v1/check", headers=check, json={
            "ts": T0, "id": "e1", "sender": "@m:x", "recipients": ["@r:x"],
            "encrypted": True, "device": "D", "size": 300})
        text = "verify your wallet now at https://wallet-verify.example-login.top/x"
        r = client.post("/v1/reports", headers=check, json={
            "reporter": "@r:x", "message_id": "e1", "label": "spam", "text": text,
            "reason": "phishing"})
        assert r.status_code == 200, r.text
        assert svc.ledger.examples() == []  # a user's word is not a label
        r = client.post("/v1/reports", headers=admin, json={
            "reporter": "@mod:x", "message_id": "e1", "label": "spam", "moderator": True})
        assert r.status_code == 200, r.text
    assert svc.ledger.examples() == [(text, True)]
    rows = svc.ledger._read("SELECT source FROM examples")
    assert rows and "reported plaintext" in rows[0][0]
