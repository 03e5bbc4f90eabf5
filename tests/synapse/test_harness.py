"""The harness itself: a real Synapse, real clients, a demo spam-checker module."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from homeserver import (
    Homeserver,
    HomeserverFactory,
    logged_in,
    login,
    open_dm,
    received_bodies,
    received_events,
    send_error,
    send_text,
)

DEMO_MODULE = {"module": "example_module.DemoSpamChecker", "config": {}}


@pytest.fixture
def demo_homeserver(homeserver_factory: HomeserverFactory, tests_synapse_dir: Path) -> Homeserver:
    return homeserver_factory(modules=[DEMO_MODULE],
                              env={"PYTHONPATH": str(tests_synapse_dir)})


def test_messages_flow_and_the_module_rejects_the_word(demo_homeserver: Homeserver) -> None:
    hs = demo_homeserver
    alice, alice_pw = hs.register_user("alice")
    bob, bob_pw = hs.register_user("bob")

    async def scenario() -> None:
        async with logged_in(hs, alice, alice_pw) as a, logged_in(hs, bob, bob_pw) as b:
            room = await open_dm(a, b)

            ok = await send_text(a, room, "hello bob", formatted_body="<b>hello</b> bob")
            assert type(ok).__name__ == "RoomSendResponse", ok

            rejected = await send_text(a, room, "buy this forbidden-word now")
            assert type(rejected).__name__ == "RoomSendError", rejected
            assert rejected.status_code == "M_FORBIDDEN"
            status, body = await send_error(rejected)
            assert status == 403
            assert body["errcode"] == "M_FORBIDDEN"
            assert body["org.example.reason"] == "demo"

            assert await received_bodies(b, room) == ["hello bob"]
            assert await received_bodies(a, room) == ["hello bob"]
            [event] = await received_events(b, room)
            assert event["sender"] == alice
            assert event["event_id"] == ok.event_id
            assert event["content"]["formatted_body"] == "<b>hello</b> bob"

    asyncio.run(scenario())


def test_admin_redaction_hides_the_message(plain_homeserver: Homeserver) -> None:
    hs = plain_homeserver
    alice, alice_pw = hs.register_user("alice")
    bob, bob_pw = hs.register_user("bob")

    async def scenario() -> None:
        async with logged_in(hs, alice, alice_pw) as a, logged_in(hs, bob, bob_pw) as b:
            room = await open_dm(a, b)
            assert type(await send_text(b, room, "hi alice")).__name__ == "RoomSendResponse"
            assert type(await send_text(a, room, "spammy link")).__name__ == "RoomSendResponse"
            assert await received_bodies(b, room) == ["hi alice", "spammy link"]

            failed = await asyncio.to_thread(hs.redact_user_events, alice, [room], "spam")
            assert failed == {}
            assert await received_bodies(b, room) == ["hi alice"]
            assert await received_bodies(a, room) == ["hi alice"]

    asyncio.run(scenario())


def test_admin_api_and_new_devices(plain_homeserver: Homeserver) -> None:
    hs = plain_homeserver
    carol, carol_pw = hs.register_user("carol")
    root, _ = hs.register_user("root", admin=True)
    assert hs.user_info(root)["admin"] is True
    assert not hs.is_suspended(carol) and not hs.is_shadow_banned(carol)

    hs.suspend(carol)
    hs.shadow_ban(carol)
    assert hs.is_suspended(carol) and hs.is_shadow_banned(carol)
    hs.suspend(carol, False)
    assert not hs.is_suspended(carol)

    async def scenario() -> None:
        phone = await login(hs, carol, carol_pw, device_name="phone", user_agent="Phone/1.0")
        laptop = await login(hs, carol, carol_pw, device_name="laptop",
                             user_agent="Laptop/2.0")
        try:
            # the login itself is not recorded per device; an authenticated request is
            await phone.whoami()
            await laptop.whoami()
            assert phone.device_id and laptop.device_id and phone.device_id != laptop.device_id
        finally:
            await phone.close()
            await laptop.close()

    asyncio.run(scenario())
    devices = hs.admin("GET", f"/v2/users/{carol}/devices")["devices"]
    assert {d["display_name"] for d in devices} >= {"phone", "laptop"}
    seen = {(c["ip"], c["user_agent"]) for c in hs.connections(carol)}
    assert {("127.0.0.1", "Phone/1.0"), ("127.0.0.1", "Laptop/2.0")} <= seen
