"""spimguard's Synapse module with end-to-end encrypted chat, from really encrypting clients.

In an encrypted room the module never sees text: only ``m.room.encrypted`` events
(ciphertext, session, sending device). These tests use matrix-nio clients that
encrypt with Megolm (e2ee.py), against a homeserver running the module in embedded
mode exactly as test_spimguard_module.py configures it.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import e2ee
import pytest
from homeserver import HomeserverFactory

MODULE = "spimguard.interfaces.synapse.SpimguardModule"

# a mark rather than a fixture calling pytest.skip: decided at collection, it skips
# before the session's Synapse template is generated (7 s for nothing)
_UNAVAILABLE = e2ee.encryption_unavailable()
pytestmark = pytest.mark.skipif(_UNAVAILABLE is not None, reason=_UNAVAILABLE or "")


def _embedded(tmp_path: Path, **extra: Any) -> dict[str, Any]:
    # as in test_spimguard_module.py
    return {"module": MODULE, "config": {"mode": "embedded", "data_dir": str(tmp_path / "sg"),
                                         **extra}}


def _kind(resp: Any) -> str:
    return type(resp).__name__


# (sender, body): a pair of friends arranging an evening, ten messages each way
CONVERSATION = [
    ("alice", "hi bob!"), ("bob", "hey alice, how are you?"),
    ("alice", "good thanks, you?"), ("bob", "fine, busy week"),
    ("alice", "still on for friday?"), ("bob", "yes, friday 14 june works"),
    ("alice", "great"), ("bob", "where do we meet?"),
    ("alice", "the cafe on main street"), ("bob", "ok"),
    ("alice", "see you at 18:30"), ("bob", "18:30, got it"),
    ("alice", "I'll bring the 2 books"), ("bob", "thanks!"),
    ("alice", "table for 4, I booked it"), ("bob", "perfect"),
    ("alice", "call me if you're late"), ("bob", "will do, my number is still 0612345678"),
    ("alice", "ok :)"), ("bob", "bye, see you friday"),
]


def test_ordinary_encrypted_chat_between_contacts_is_delivered_untouched(
        homeserver_factory: HomeserverFactory, tmp_path: Path) -> None:
    hs = homeserver_factory(modules=[_embedded(tmp_path)])
    alice_id, alice_pw = hs.register_user("alice")
    bob_id, bob_pw = hs.register_user("bob")

    async def scenario() -> None:
        async with e2ee.encrypted_client(hs, alice_id, alice_pw, tmp_path / "nio-alice") as a, \
                e2ee.encrypted_client(hs, bob_id, bob_pw, tmp_path / "nio-bob") as b:
            room = await e2ee.open_encrypted_dm(a, b)
            clients = {"alice": a, "bob": b}
            for i, (who, body) in enumerate(CONVERSATION):
                resp = await e2ee.send_encrypted_text(clients[who], room, body)
                assert _kind(resp) == "RoomSendResponse", (i, who, body, resp)
            for me, client in clients.items():
                got = await e2ee.received_plaintexts(client, room)
                # nio keeps the inbound copy of its own Megolm session, so each side
                # reads the whole conversation, its own messages included
                assert got == [body for _who, body in CONVERSATION], me

    asyncio.run(scenario())
    assert not hs.is_suspended(alice_id) and not hs.is_suspended(bob_id)


def test_the_module_sees_encrypted_events_as_metadata(
        homeserver_factory: HomeserverFactory, tmp_path: Path,
        tests_synapse_dir: Path) -> None:
    seen = tmp_path / "probe.jsonl"
    probe = {"module": "probe_module.EventProbe", "config": {"path": str(seen)}}
    hs = homeserver_factory(modules=[_embedded(tmp_path), probe],
                            env={"PYTHONPATH": str(tests_synapse_dir)})
    alice_id, alice_pw = hs.register_user("alice")
    bob_id, bob_pw = hs.register_user("bob")
    sent: list[tuple[str, str]] = []  # (sender, device id) per message, in order
    devices: dict[str, str] = {}

    async def scenario() -> None:
        async with e2ee.encrypted_client(hs, alice_id, alice_pw, tmp_path / "nio-alice",
                                         device_name="alice-phone") as a, \
                e2ee.encrypted_client(hs, bob_id, bob_pw, tmp_path / "nio-bob",
                                      device_name="bob-laptop") as b:
            assert a.device_id and b.device_id and a.device_id != b.device_id
            devices.update({alice_id: a.device_id, bob_id: b.device_id})
            room = await e2ee.open_encrypted_dm(a, b)
            for who, body in CONVERSATION[:6]:
                client = a if who == "alice" else b
                resp = await e2ee.send_encrypted_text(client, room, body)
                assert _kind(resp) == "RoomSendResponse", (who, body, resp)
                sent.append((client.user_id, client.device_id))
            assert await e2ee.received_plaintexts(b, room) == [
                body for _who, body in CONVERSATION[:6]]

    asyncio.run(scenario())
    records = [json.loads(line) for line in seen.read_text(encoding="utf-8").splitlines()]
    # one check per message, none of them readable: no m.room.message, no body
    assert [r["type"] for r in records] == ["m.room.encrypted"] * len(sent), records
    for record in records:
        assert record["ciphertext_is_text"], record
        assert "ciphertext" in record["content_keys"] and "body" not in record["content_keys"]
        assert "msgtype" not in record["content_keys"], record
    # the device Synapse attaches is the one the server gave each client at login
    assert [(r["sender"], r["device_id"]) for r in records] == sent
    assert {r["device_id"] for r in records} == set(devices.values())


HELLOS = ["hi! long time", "hey, all good?", "see you on the 14th", "ok :)", "thanks!!"]
LURE = "hey, is this you in this video?? https://video-share-{n}.example-album.xyz/v"


def test_a_hijacked_session_in_encrypted_rooms_is_logged_out_within_the_burst(
        homeserver_factory: HomeserverFactory, tmp_path: Path) -> None:
    """The issue's scenario, encrypted: the attacker logs in with the phished password
    from a new device (same client software, same address as the owner) and writes to
    all of the owner's 20 direct chats. The module sees only ciphertext, sizes and
    device ids. At most 3 lures get through; the attacker's device is logged out
    (deleted through the admin API) during the burst; the owner's own phone keeps
    working, before and after a moderator's unlock; ordinary chat was delivered."""
    hs = homeserver_factory(modules=[_embedded(tmp_path)])
    victim, pw = hs.register_user("victim")
    friends = [hs.register_user(f"friend{i}") for i in range(20)]
    rooms: list[str] = []
    outcomes: list[str] = []

    async def scenario() -> None:
        async with e2ee.encrypted_client(hs, victim, pw, tmp_path / "nio-victim",
                                         device_name="victim-phone") as phone:
            for i, (friend, friend_pw) in enumerate(friends):
                async with e2ee.encrypted_client(hs, friend, friend_pw,
                                                 tmp_path / f"nio-f{i}") as f:
                    room = await e2ee.open_encrypted_dm(f, phone)
                    rooms.append(room)
                    for who, body in ((f, HELLOS[i % 5]), (phone, HELLOS[(i + 1) % 5])):
                        resp = await e2ee.send_encrypted_text(who, room, body)
                        assert _kind(resp) == "RoomSendResponse", (i, body, resp)
                    assert await e2ee.received_plaintexts(f, room) == [
                        HELLOS[i % 5], HELLOS[(i + 1) % 5]]
            async with e2ee.encrypted_client(hs, victim, pw, tmp_path / "nio-attacker",
                                             device_name="laptop") as attacker:
                assert attacker.device_id != phone.device_id
                for n, room in enumerate(rooms):
                    try:
                        resp = await e2ee.send_encrypted_text(attacker, room, LURE.format(n=n))
                    except Exception:  # nio fails to parse some 401s of a dead token
                        outcomes.append("refused")
                        continue
                    if _kind(resp) == "RoomSendResponse":
                        outcomes.append("delivered")
                    else:
                        outcomes.append(str(getattr(resp, "status_code", resp)))
                # logged out: the stolen session's token is dead
                status, whoami = hs.request_status("GET", "/_matrix/client/v3/account/whoami",
                                                   token=attacker.access_token)
                assert status == 401 and whoami["errcode"] == "M_UNKNOWN_TOKEN", whoami
                devices = hs.admin("GET", f"/v2/users/{victim}/devices")["devices"]
                ids = {d["device_id"] for d in devices}
                assert attacker.device_id not in ids and phone.device_id in ids, ids
            # the owner's phone still works: only the stolen session was logged out
            resp = await e2ee.send_encrypted_text(phone, rooms[0], "did someone use my account?")
            assert _kind(resp) == "RoomSendResponse", resp
            status, body = hs.request_status(
                "POST", f"/_spimguard/v1/accounts/{victim}/unlock", {},
                token=hs.admin_token())
            assert status == 200 and body["unlocked"], body
            resp = await e2ee.send_encrypted_text(phone, rooms[1], "all fine again, sorry!")
            assert _kind(resp) == "RoomSendResponse", resp

    asyncio.run(scenario())
    delivered = outcomes.count("delivered")
    assert delivered <= 3, outcomes
    assert not any(o == "delivered" for o in outcomes[delivered:]), outcomes  # none later
    # refused, then logged out within the burst (its next sends fail on the dead token)
    assert "M_FORBIDDEN" in outcomes and outcomes[-1] != "M_FORBIDDEN", outcomes
    assert set(outcomes) <= {"delivered", "M_FORBIDDEN", "M_UNKNOWN_TOKEN", "refused"}, outcomes
    assert not hs.is_suspended(victim)  # the owner was never locked out


def test_matrix_reports_from_encrypted_rooms_reach_the_engine(
        homeserver_factory: HomeserverFactory, tmp_path: Path) -> None:
    """Matrix reports reach no module callback: the module reads them from the admin API.
    Two friends report an encrypted message (the server cannot read it; the report names
    the event and its sender); the sender's next message carries REPORTED_SENDER."""
    import sqlite3
    import time

    hs = homeserver_factory(modules=[_embedded(tmp_path, poll_reports=0.5)])
    alice, alice_pw = hs.register_user("alice")
    others = [hs.register_user(name) for name in ("bob", "carol")]
    event_ids: list[tuple[str, str, str]] = []  # (room, event, reporter token)

    async def scenario() -> None:
        async with e2ee.encrypted_client(hs, alice, alice_pw, tmp_path / "nio-a") as a:
            for i, (user, pw) in enumerate(others):
                async with e2ee.encrypted_client(hs, user, pw, tmp_path / f"nio-{i}") as o:
                    room = await e2ee.open_encrypted_dm(o, a)
                    resp = await e2ee.send_encrypted_text(a, room, "claim your gift card")
                    assert _kind(resp) == "RoomSendResponse", resp
                    event_ids.append((room, resp.event_id, str(o.access_token)))
            for room, event_id, token in event_ids:
                hs.request("POST", f"/_matrix/client/v3/rooms/{room}/report/{event_id}",
                           {"reason": "phishing", "score": -100}, token=token)
            deadline = time.monotonic() + 15
            names: set[str] = set()
            while time.monotonic() < deadline and "REPORTED_SENDER" not in names:
                await asyncio.sleep(1.0)
                resp = await e2ee.send_encrypted_text(a, event_ids[0][0], "hello?")
                assert _kind(resp) == "RoomSendResponse", resp
                await asyncio.sleep(0.5)  # the verdict log writes in the background
                with sqlite3.connect(tmp_path / "sg" / "verdicts.sqlite") as db:
                    row = db.execute("SELECT signals FROM verdicts WHERE message_id = ?",
                                     (resp.event_id,)).fetchone()
                names = {s["name"] for s in json.loads(row[0])} if row else set()
            assert "REPORTED_SENDER" in names, names

    asyncio.run(scenario())
    assert (tmp_path / "sg" / "reports.offset").read_text().strip() == "2"
