"""spimguard's Synapse module against a real homeserver, driven by real Matrix clients.

Synapse runs the module in its own process (embedded mode: the engine inside
Synapse, state in SQLite in a temp folder), so what these tests see is what
a homeserver's users would: delivered or refused sends, redactions, a
suspended account.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

import httpx
import pytest
from homeserver import (
    Homeserver,
    HomeserverFactory,
    direct_chat,
    logged_in,
    open_dm,
    received_bodies,
    received_events,
    send_error,
    send_text,
)

MODULE = "spimguard.interfaces.synapse.SpimguardModule"
PHISH = "hey, is this you in this video?? http://paypa1-secure-login.top/verify?id={n}"
CHAT = ["hey, are you around later?", "ok see you at 7", "thanks a lot!",
        "did you finish the report?", "running 10 min late, sorry", "sounds good to me"]


def _embedded(tmp_path: Path, **extra: Any) -> dict[str, Any]:
    return {"module": MODULE, "config": {"mode": "embedded", "data_dir": str(tmp_path / "sg"),
                                         **extra}}


def _kind(resp: Any) -> str:
    return type(resp).__name__


@pytest.fixture
def homeserver(homeserver_factory: HomeserverFactory, tmp_path: Path) -> Homeserver:
    return homeserver_factory(modules=[_embedded(tmp_path)])


def test_a_conversation_between_contacts_is_delivered_untouched(homeserver: Homeserver) -> None:
    hs = homeserver
    async def scenario() -> None:
        async with direct_chat(hs) as (a, b, room):
            sent = []
            for i, text in enumerate(CHAT * 2):
                who = a if i % 2 == 0 else b
                html = "<b>see</b> <a href='https://en.wikipedia.org/wiki/Octopus'>this</a>" \
                    if i == 3 else None
                resp = await send_text(who, room, text, formatted_body=html)
                assert _kind(resp) == "RoomSendResponse", resp
                sent.append(text)
            assert await received_bodies(b, room) == sent
            assert await received_bodies(a, room) == sent

    asyncio.run(scenario())
    assert not hs.is_suspended(hs.user_id("alice")) and not hs.is_suspended(hs.user_id("bob"))
    assert "spimguard" in hs.log_text()  # the module was loaded and said so


def test_a_compromised_account_is_stopped_within_three_messages_and_locked_out(
        homeserver: Homeserver) -> None:
    hs = homeserver
    victim, pw = hs.register_user("victim")
    friends = [hs.register_user(f"friend{i}") for i in range(8)]

    async def scenario() -> str:
        async with logged_in(hs, victim, pw, device_name="phone",
                             user_agent="Element/1.11.50 (Android 14)") as v:
            rooms = []
            for i, (friend, friend_pw) in enumerate(friends):  # contacts: direct chats
                async with logged_in(hs, friend, friend_pw) as f:
                    room = await open_dm(f, v)  # each friend invites the victim
                    rooms.append(room)
                    for who, text in ((v, CHAT[i % len(CHAT)]),
                                      (f, CHAT[(i + 1) % len(CHAT)])):
                        resp = await send_text(who, room, text)
                        assert _kind(resp) == "RoomSendResponse", (i, text, resp)
        # the attacker logs in with the phished password, from elsewhere
        async with logged_in(hs, victim, pw, device_name="attacker",
                             user_agent="python-requests/2.31") as attacker:
            outcomes = []
            for n, room in enumerate(rooms):
                resp = await send_text(attacker, room, PHISH.format(n=n))
                outcomes.append(_kind(resp) == "RoomSendResponse")
                if not outcomes[-1]:
                    status, body = await send_error(resp)
                    # refused, or the stolen session was logged out (its device deleted)
                    assert (status, body["errcode"]) in ((403, "M_FORBIDDEN"),
                                                         (403, "M_USER_SUSPENDED"),
                                                         (401, "M_UNKNOWN_TOKEN")), body

            delivered = sum(outcomes)
            assert delivered <= 2, outcomes  # stopped at the third message at the latest
            assert not any(outcomes[delivered:]), outcomes  # and nothing got through after
            token = str(attacker.access_token)
        for (friend, friend_pw), room, ok in zip(friends, rooms, outcomes, strict=True):
            async with logged_in(hs, friend, friend_pw) as f:
                bodies = await received_bodies(f, room)
                assert any("paypa1" in b for b in bodies) == ok, (friend, bodies)
        return token

    attacker_token = ""

    async def run() -> None:
        nonlocal attacker_token
        attacker_token = await scenario()

    asyncio.run(run())
    # the attacker is out: its session logged out, or the whole account suspended
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        status, _ = hs.request_status("GET", "/_matrix/client/v3/account/whoami",
                                      token=attacker_token)
        if status == 401 or hs.is_suspended(victim):
            break
        time.sleep(0.1)
    assert status == 401 or hs.is_suspended(victim), hs.log_tail()


CAMPAIGN = "we're doing a summer giveaway, register before friday: https://giveaway-summer.com/r"


def test_a_campaign_from_several_accounts_is_taken_down_and_its_copies_redacted(
        homeserver: Homeserver) -> None:
    """Six accounts, each in a direct chat with a friend, send the same link. Early
    copies look harmless and are delivered; once enough senders have sent it the
    campaign is confirmed, later copies are refused, and the delivered ones vanish."""
    hs = homeserver
    pairs = [(hs.register_user(f"sender{i}"), hs.register_user(f"reader{i}")) for i in range(7)]

    async def scenario() -> None:
        rooms, outcomes = [], []
        for i, ((s_id, s_pw), (r_id, r_pw)) in enumerate(pairs):
            async with logged_in(hs, s_id, s_pw) as s, logged_in(hs, r_id, r_pw) as r:
                room = await open_dm(s, r)
                rooms.append(room)
                assert _kind(await send_text(r, room, CHAT[i % len(CHAT)])) == "RoomSendResponse"
                resp = await send_text(s, room, f"{CAMPAIGN}?from={i}")
                outcomes.append(resp)
        delivered = [i for i, r in enumerate(outcomes) if _kind(r) == "RoomSendResponse"]
        refused = [i for i, r in enumerate(outcomes) if _kind(r) != "RoomSendResponse"]
        assert delivered and refused, [_kind(r) for r in outcomes]
        assert max(delivered) < min(refused), [_kind(r) for r in outcomes]  # stays stopped
        status, body = await send_error(outcomes[refused[-1]])
        assert status == 403 and "CAMPAIGN_TAKEDOWN" in body["org.spimguard.signals"], body
        # the copies delivered before the takedown are redacted for their readers
        deadline = time.monotonic() + 15
        for i in delivered:
            r_id, r_pw = pairs[i][1]
            async with logged_in(hs, r_id, r_pw) as r:
                while True:
                    bodies = await received_bodies(r, rooms[i])
                    if not any("giveaway-summer" in b for b in bodies):
                        break
                    assert time.monotonic() < deadline, (i, bodies, hs.log_tail())
                    await asyncio.sleep(0.2)
                assert bodies[0] == CHAT[i % len(CHAT)]  # the rest of the chat is untouched

    asyncio.run(scenario())
    assert "taken down" in hs.log_text()


# -- remote mode: the module calls `spimguard serve` --------------------------------------


@pytest.fixture
def service(tmp_path: Path, service_process: Any) -> tuple[str, str]:
    """A real `spimguard serve` (memory store) and an admin key: (url, key)."""
    data = tmp_path / "service"
    cli = [sys.executable, "-c", "from spimguard.interfaces.cli import main; main()"]
    made = subprocess.run([*cli, "keys", "create", "synapse", "--scope", "admin",
                           "--data-dir", str(data)], capture_output=True, text=True, check=True)
    key = json.loads(made.stdout.strip().splitlines()[-1])["token"]
    _, port = service_process(data)
    return f"http://127.0.0.1:{port}", key


def _remote(url: str, key: str | None, fail_mode: str, tmp_path: Path) -> dict[str, Any]:
    return {"module": MODULE, "config": {"mode": "remote", "url": url, "api_key": key,
                                         "fail_mode": fail_mode, "timeout": 2.0,
                                         "data_dir": str(tmp_path / "sg")}}


def test_remote_mode_checks_through_the_service(homeserver_factory: HomeserverFactory,
                                                service: tuple[str, str], tmp_path: Path) -> None:
    url, key = service
    hs = homeserver_factory(modules=[_remote(url, key, "closed", tmp_path)])
    async def scenario() -> None:
        async with direct_chat(hs) as (a, b, room):
            assert _kind(await send_text(a, room, "see you at 7?")) == "RoomSendResponse"
            spam = await send_text(
                b, room, "URGENT your account is suspended, verify now at "
                "http://paypa1-secure-login.top/verify?id=7 or lose access")
            assert _kind(spam) == "RoomSendError"
            status, body = await send_error(spam)
            assert status == 403 and body["org.spimguard.action"] in ("hold", "block"), body
            assert await received_bodies(a, room) == ["see you at 7?"]

    asyncio.run(scenario())
    # the service saw both messages: its verdict log has them
    seen = httpx.get(f"{url}/v1/verdicts", params={"sender": hs.user_id("bob")},
                     headers={"Authorization": f"Bearer {key}"}, timeout=5).json()
    assert [v["action"] for v in seen["verdicts"]][:1] in (["hold"], ["block"])


@pytest.mark.parametrize("fail_mode", ["open", "closed"])
def test_remote_mode_with_the_service_down_follows_the_fail_mode(
        homeserver_factory: HomeserverFactory, tmp_path: Path, fail_mode: str,
        unused_port: int) -> None:
    module = _remote(f"http://127.0.0.1:{unused_port}", "k", fail_mode, tmp_path)
    module["config"]["check_invites"] = False  # failing closed, invites would be refused too
    hs = homeserver_factory(modules=[module])
    async def scenario() -> None:
        async with direct_chat(hs) as (a, b, room):
            resp = await send_text(a, room, "are we still on for lunch?")
            if fail_mode == "open":
                assert _kind(resp) == "RoomSendResponse", resp
                assert await received_bodies(b, room) == ["are we still on for lunch?"]
            else:
                assert _kind(resp) == "RoomSendError", resp
                status, body = await send_error(resp)
                assert status == 403 and body["org.spimguard.action"] == "unavailable"
                assert await received_bodies(b, room) == []

    asyncio.run(scenario())
    said = "letting it through" if fail_mode == "open" else "refusing it"
    assert f"{said} (fail_mode={fail_mode})" in hs.log_text()


# -- what users see: warn notices, held messages, links in HTML, encrypted events ------------

#: A policy under which every message of a new account is at least "warn" and nothing is
#: blocked outright, so one homeserver shows the notice and the review queue.
SEE_POLICY = """
[actions]
warn = 4.0
hold = 6.0
block = 30.0

[weights]
YOUNG_ACCOUNT = 5.0
"""


def test_warnings_held_messages_html_links_and_encrypted_events(
        homeserver_factory: HomeserverFactory, tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(SEE_POLICY)
    # (invites are refused from "warn" up, which this policy makes every new account's)
    hs = homeserver_factory(modules=[_embedded(tmp_path, policy=str(policy),
                                               check_invites=False)])
    async def scenario() -> None:
        async with direct_chat(hs) as (a, b, room):
            # warn: delivered, then a notice in the room that points at it
            warned = await send_text(a, room, "hello bob, long time no see")
            assert _kind(warned) == "RoomSendResponse", warned
            deadline = time.monotonic() + 10
            while True:
                bodies = await received_bodies(b, room)
                if len(bodies) >= 2:
                    break
                assert time.monotonic() < deadline, (bodies, hs.log_tail())
                await asyncio.sleep(0.1)
            assert bodies[0] == "hello bob, long time no see"
            assert bodies[1].startswith("\u26a0\ufe0f spimguard: the message above may be spam")
            # encrypted: nothing to read, behaviour only; delivered
            enc = await a.room_send(room, "m.room.encrypted", {
                "algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AwgAEnB...",
                "sender_key": "k", "device_id": "D", "session_id": "s"})
            assert _kind(enc) == "RoomSendResponse", enc
            # a phishing link only in the HTML: held, with the reason for the sender
            held = await send_text(a, room, "your parcel: see here",
                                   formatted_body="your parcel: see <a href='http://paypa1-"
                                                  "secure-login.top/verify?id=3'>here</a>")
            assert _kind(held) == "RoomSendError", held
            status, body = await send_error(held)
            assert status == 403 and body["org.spimguard.action"] == "hold", body
            assert "held for review" in body["org.spimguard.reason"]
            assert "URL_MODEL" in body["org.spimguard.signals"]
            # that message scored high enough to challenge the account: what follows is
            # held until a moderator unlocks it, encrypted or not
            after = await a.room_send(room, "m.room.encrypted", {
                "algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "BwgAEnB...",
                "sender_key": "k", "device_id": "D", "session_id": "s"})
            assert _kind(after) == "RoomSendError", after
            status, body = await send_error(after)
            assert "ACCOUNT_CHALLENGED" in body["org.spimguard.signals"], body

    asyncio.run(scenario())
    queued = [json.loads(line) for line in
              (tmp_path / "sg" / "held.jsonl").read_text().splitlines()]
    assert [q["sender"] for q in queued] == [hs.user_id("alice")] * 2
    assert "paypa1-secure-login.top" in queued[0]["formatted_body"]
    assert queued[0]["verdict"]["action"] == "hold"


def test_invite_spam_from_a_new_account_is_refused(homeserver: Homeserver) -> None:
    hs = homeserver
    spammer, pw = hs.register_user("spammer")
    targets = [hs.register_user(f"target{i}")[0] for i in range(12)]

    async def scenario() -> list[bool]:
        async with logged_in(hs, spammer, pw) as s:
            outcomes = []
            for target in targets:
                created = await s.room_create(is_direct=True, invite=[target])
                outcomes.append(_kind(created) == "RoomCreateResponse")
            return outcomes

    outcomes = asyncio.run(scenario())
    assert outcomes[0], outcomes  # one new conversation is fine
    assert not all(outcomes), outcomes  # a stream of invites to strangers is not
    assert not any(outcomes[outcomes.index(False):]), outcomes


def test_embedded_state_in_redis_is_shared_with_other_processes(
        homeserver_factory: HomeserverFactory, tmp_path: Path, redis_url: str) -> None:
    """With ``store: redis://...`` several Synapse workers keep one state: what the module
    learns is in Redis, and a lock written there by another process is enforced."""
    from spimguard import build_engine
    from spimguard.core.verdicts import AccountAction
    from spimguard.state.open import open_store

    db = redis_url.rsplit("/", 1)[0] + "/3"
    hs = homeserver_factory(modules=[_embedded(tmp_path, store=db)])
    async def scenario() -> None:
        async with direct_chat(hs) as (a, b, room):
            assert _kind(await send_text(a, room, "lunch at 1?")) == "RoomSendResponse"
            assert await received_bodies(b, room) == ["lunch at 1?"]
            # another worker (here: this test) locks alice in the shared state
            other = open_store(db)
            build_engine(store=other).restore_account_action(a.user_id, AccountAction.LOCK,
                                                             time.time())
            getattr(other, "close", lambda: None)()
            refused = await send_text(a, room, "and coffee after?")
            assert _kind(refused) == "RoomSendError", refused
            _, body = await send_error(refused)
            assert "ACCOUNT_LOCKED" in body["org.spimguard.signals"], body
            assert await received_bodies(b, room) == ["lunch at 1?"]

    asyncio.run(scenario())
    import redis as redis_py

    assert len(redis_py.Redis.from_url(db).keys("*")) > 3  # profiles, windows, buckets


def test_an_unanswered_invite_does_not_make_a_contact(homeserver: Homeserver,
                                                      tmp_path: Path) -> None:
    """A new account invites a stranger and, before they accept, sends a link: the link
    goes to a stranger (STRANGER_LINK: warned), not to a contact."""
    hs = homeserver
    spammer, pw = hs.register_user("spammer")
    stranger, _ = hs.register_user("stranger")

    async def scenario() -> None:
        async with logged_in(hs, spammer, pw) as s:
            created = await s.room_create(is_direct=True, invite=[stranger])
            assert _kind(created) == "RoomCreateResponse", created
            await send_text(s, created.room_id, "hi! see my photos https://giveaway-summer.com/p")

    asyncio.run(scenario())
    with sqlite3.connect(tmp_path / "sg" / "verdicts.sqlite") as db:
        deadline = time.monotonic() + 5  # the log is written within 50 ms
        while not (row := db.execute("SELECT action, signals FROM verdicts WHERE message_id "
                                     "LIKE '$%' ORDER BY id DESC LIMIT 1").fetchone()):
            assert time.monotonic() < deadline
            time.sleep(0.05)
    action, signals = row
    assert action in ("warn", "hold", "block")
    assert "STRANGER_LINK" in {s["name"] for s in json.loads(signals)}


def test_moderators_release_or_dismiss_held_messages(homeserver_factory: HomeserverFactory,
                                                    tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(SEE_POLICY)
    hs = homeserver_factory(modules=[_embedded(tmp_path, policy=str(policy),
                                               check_invites=False)])
    alice, alice_pw = hs.register_user("alice")
    bob, bob_pw = hs.register_user("bob")
    parcel = "your parcel: see <a href='http://paypa1-secure-login.top/verify?id=3'>here</a>"

    async def send_two() -> str:
        async with logged_in(hs, alice, alice_pw) as a, logged_in(hs, bob, bob_pw) as b:
            room = await open_dm(a, b)
            for text in ("your parcel: see here", "please answer, it's urgent"):
                resp = await send_text(a, room, text, formatted_body=parcel
                                       if "parcel" in text else None)
                assert _kind(resp) == "RoomSendError", resp
            return room

    room = asyncio.run(send_two())
    admin = hs.admin_token()
    assert hs.request_status("GET", "/_spimguard/v1/held", token=admin)[0] == 200
    _, bob_token = hs.request_status("POST", "/_matrix/client/v3/login", body={
        "type": "m.login.password", "identifier": {"type": "m.id.user", "user": bob},
        "password": bob_pw})
    status, _ = hs.request_status("GET", "/_spimguard/v1/held", token=bob_token["access_token"])
    assert status == 403  # moderators are server admins
    held = hs.request("GET", "/_spimguard/v1/held", token=admin)["held"]
    assert [h["body"] for h in held] == ["your parcel: see here", "please answer, it's urgent"]
    first, second = (h["event_id"] for h in held)
    q = urllib.parse.quote
    for bad in (f"{q(first)}/approve", q(first), f"{q(first)}/release/now"):
        status, err = hs.request_status("POST", f"/_spimguard/v1/held/{bad}", body={},
                                        token=admin)
        assert status == 404 and "release or" in err["error"], (bad, err)
    hs.request("POST", f"/_spimguard/v1/held/{q(first)}/release", body={}, token=admin)
    hs.request("POST", f"/_spimguard/v1/held/{q(second)}/dismiss", body={}, token=admin)
    assert hs.request_status("POST", f"/_spimguard/v1/held/{q(second)}/release", body={},
                             token=admin)[0] == 404  # decided already
    assert hs.request("GET", "/_spimguard/v1/held", token=admin)["held"] == []

    async def bob_sees() -> list[str]:
        async with logged_in(hs, bob, bob_pw) as b:
            return await received_bodies(b, room)

    assert asyncio.run(bob_sees()) == ["your parcel: see here"]  # released as it was sent
    decisions = [json.loads(line) for line in
                 (tmp_path / "sg" / "held-decisions.jsonl").read_text().splitlines()]
    assert [(d["event_id"], d["decision"]) for d in decisions] == [(first, "release"),
                                                                   (second, "dismiss")]
    assert all(d["moderator"] == hs.admin_user_id for d in decisions)


def test_warning_notices_can_come_from_the_bot(homeserver_factory: HomeserverFactory,
                                               tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(SEE_POLICY)
    hs = homeserver_factory(modules=[_embedded(tmp_path, policy=str(policy),
                                               check_invites=False, notice_from="bot")])

    async def scenario() -> list[dict[str, Any]]:
        async with direct_chat(hs) as (a, b, room):
            for text in ("hello bob", "are you there?"):
                assert _kind(await send_text(a, room, text)) == "RoomSendResponse"
            deadline = time.monotonic() + 10
            while len(events := await received_events(b, room)) < 4:
                assert time.monotonic() < deadline, (events, hs.log_tail())
                await asyncio.sleep(0.1)
            return events

    events = asyncio.run(scenario())
    bot = hs.user_id("spimguard")
    notices = [e for e in events if e["content"].get("msgtype") == "m.notice"]
    assert len(notices) == 2 and all(e["sender"] == bot for e in notices)
    assert [e["content"]["body"] for e in events if e["sender"] != bot] == ["hello bob",
                                                                           "are you there?"]


def test_a_registration_flood_from_one_address_is_shadow_banned(
        homeserver_factory: HomeserverFactory, tmp_path: Path) -> None:
    hs = homeserver_factory(modules=[_embedded(tmp_path, registrations_per_ip_hour=3)])

    def register(name: str) -> str:
        """Through the client API, as a client would (from 127.0.0.1)."""
        body: dict[str, Any] = {"username": name, "password": "pw-" + name}
        status, first = hs.request_status("POST", "/_matrix/client/v3/register", body=body)
        assert status == 401, first  # the interactive auth's first step
        body["auth"] = {"type": "m.login.dummy", "session": first["session"]}
        status, done = hs.request_status("POST", "/_matrix/client/v3/register", body=body)
        assert status == 200, done
        return str(done["user_id"])

    users = [register(f"bot{i}") for i in range(5)]
    assert [hs.is_shadow_banned(u) for u in users] == [False, False, False, True, True]
    assert "registrations an hour from that address" in hs.log_text()
