"""The Synapse module's plain parts (options, Matrix events as spimguard events), without
Synapse: the end-to-end tests in tests/synapse run the module inside a real homeserver."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from spimguard.core.events import parse_event
from spimguard.interfaces.synapse.backends import event_json
from spimguard.interfaces.synapse.config import ConfigError, SynapseConfig, parse_config
from spimguard.interfaces.synapse.events import (
    login_from_request,
    message_from_event,
    recipients_of,
)


def test_defaults_are_embedded_and_fail_open() -> None:
    cfg = parse_config(None)
    assert cfg == SynapseConfig() and cfg.mode == "embedded" and cfg.fail_mode == "open"


def test_options_are_read() -> None:
    cfg = parse_config({"mode": "remote", "url": "http://127.0.0.1:8080", "api_key": "sg_x",
                        "timeout": 0.25, "fail_mode": "closed", "data_dir": "/tmp/sg",
                        "on_lock": "shadow_ban", "warn_notice": False, "dm_max_members": 3})
    assert cfg.mode == "remote" and cfg.timeout == 0.25 and cfg.data_dir == Path("/tmp/sg")
    assert cfg.on_lock == "shadow_ban" and not cfg.warn_notice and cfg.dm_max_members == 3


@pytest.mark.parametrize(("raw", "says"), [
    ({"mode": "cloud"}, "mode must be one of"),
    ({"mode": "remote"}, "needs url"),
    ({"url": "ftp://x"}, "must start with http"),
    ({"fail_mode": "maybe"}, "fail_mode must be one of"),
    ({"timeout": 0}, "timeout must be"),
    ({"timeout": True}, "timeout must be"),
    ({"timeout": "1"}, "timeout must be"),
    ({"warn_notice": "yes"}, "warn_notice must be true or false"),
    ({"dm_max_members": 1}, "dm_max_members"),
    ({"on_lock": "ban"}, "on_lock must be one of"),
    ({"notice_from": "admin"}, "notice_from must be sender or bot"),
    ({"registrations_per_ip_hour": -1}, "registrations_per_ip_hour must be"),
    ({"registrations_per_ip_hour": 2.5}, "registrations_per_ip_hour must be"),
    ({"data_dir": 5}, "data_dir must be a path"),
    ({"api_key": ""}, "api_key must be a non-empty string"),
    ({"tmeout": 1}, "unknown option(s) tmeout"),
    ([1, 2], "must be a mapping"),
])
def test_mistakes_name_the_option(raw: Any, says: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_config(raw)
    assert says in str(e.value)


def test_recipients_are_the_other_joined_and_invited_members() -> None:
    members = {"@a:x": "join", "@b:x": "join", "@c:x": "invite", "@d:x": "leave", "@e:x": "ban"}
    assert recipients_of(members, "@a:x") == ("@b:x", "@c:x")


def test_a_text_message_with_html_links() -> None:
    content = {"msgtype": "m.text", "body": "look", "format": "org.matrix.custom.html",
               "formatted_body": "<a href='http://evil.example/x'>look</a>"}
    m = message_from_event("m.room.message", "$e", "@a:x", "!r:x", content, 1_700_000_000_000,
                           ["@b:x"], now=5.0)
    assert m is not None and m.ts == 1_700_000_000.0 and m.id == "$e"
    assert m.text == "look" and m.html is not None and "evil.example" in m.html
    assert m.recipients == ("@b:x",) and m.room == "!r:x" and not m.encrypted


def test_html_in_another_format_is_not_read_as_html() -> None:
    m = message_from_event("m.room.message", "$e", "@a:x", "!r", {"body": "hi", "format": "x",
                           "formatted_body": "<b>hi</b>"}, None, [], now=5.0)
    assert m is not None and m.html is None and m.ts == 5.0  # no timestamp: now


def test_encrypted_events_carry_no_text_but_their_size_and_device() -> None:
    m = message_from_event("m.room.encrypted", "$e", "@a:x", "!r",
                           {"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "A" * 280,
                            "device_id": "SPOOFED"}, 1.0, ["@b:x"], now=5.0, device="REALDEV")
    assert m is not None and m.encrypted and m.text is None
    assert m.size == 280 and m.device == "REALDEV"  # never the content's claim
    bare = message_from_event("m.room.encrypted", "$e", "@a:x", "!r", {"ciphertext": 5}, 1.0,
                              ["@b:x"], now=5.0, device="")
    assert bare is not None and bare.size is None and bare.device is None


@pytest.mark.parametrize(("etype", "content"), [
    ("m.room.member", {"membership": "join"}),
    ("m.reaction", {"m.relates_to": {}}),
    ("m.room.message", {"msgtype": "m.text"}),           # no body
    ("m.room.message", {"body": 5, "msgtype": "m.text"}),  # not a string
])
def test_what_is_not_a_message_is_left_alone(etype: str, content: dict[str, Any]) -> None:
    assert message_from_event(etype, "$e", "@a:x", "!r", content, 1.0, [], now=5.0) is None


def test_bad_unicode_and_huge_bodies_are_made_safe() -> None:
    m = message_from_event("m.room.message", "$e", "@a:x", "!r",
                           {"body": "a\ud800b" + "x" * 200_000}, 1.0, [], now=5.0)
    assert m is not None and m.text is not None
    assert len(m.text) == 100_000 and m.text.startswith("a\ufffdb")
    m.text.encode("utf-8")  # encodable: the engine and the service both take it


def test_a_login_is_named_by_its_device_before_its_user_agent() -> None:
    login = login_from_request("@a:x", None, "phone", [("Element/1.11", "10.0.0.1")], now=3.0)
    assert (login.user, login.ip, login.device, login.client, login.ts) == (
        "@a:x", "10.0.0.1", "phone", "Element/1.11", 3.0)
    chosen = login_from_request("@a:x", "DEV", "phone", [("Element/1.11", "10.0.0.1")], 3.0)
    assert chosen.device == "DEV"
    agent_only = login_from_request("@a:x", None, None, [("Element/1.11", "10.0.0.1")], 3.0)
    assert agent_only.device == "Element/1.11"
    bare = login_from_request("@a:x", "DEV", None, [], now=3.0)
    assert bare.device == "DEV" and bare.ip is None and bare.client is None


def test_events_go_to_the_service_in_the_spec_format() -> None:
    m = message_from_event("m.room.message", "$e", "@a:x", "!r",
                           {"body": "hi", "format": "org.matrix.custom.html",
                            "formatted_body": "<b>hi</b>"}, 1_000.0, ["@b:x"], now=5.0)
    assert m is not None
    j = event_json(m)
    assert j["formatted_body"] == "<b>hi</b>" and j["recipients"] == ["@b:x"]
    assert parse_event(j) == m  # the service reads back exactly this message
    login = login_from_request("@a:x", None, None, [("UA", "1.2.3.4")], now=3.0)
    assert parse_event(event_json(login)) == login


def test_the_review_queue_keeps_pending_until_decided(tmp_path: Path) -> None:
    from spimguard.interfaces.synapse.review import ReviewQueue

    q = ReviewQueue(tmp_path / "sg")
    assert q.pending() == []
    q.add({"event_id": "$1", "body": "a"})
    q.add({"event_id": "$2", "body": "b\u00e9"})
    with open(q.held_path, "a", encoding="utf-8") as f:
        f.write('{"event_id": "$3", "bo')  # a crash mid-line: skipped, not fatal
    assert [r["event_id"] for r in q.pending()] == ["$1", "$2"]
    assert q.decide("$1", "release", "@mod:x")["body"] == "a"
    with pytest.raises(KeyError):
        q.decide("$1", "dismiss", "@mod:x")  # decided already
    with pytest.raises(ValueError, match="decision must be"):
        q.decide("$2", "approve", "@mod:x")
    assert [r["event_id"] for r in ReviewQueue(tmp_path / "sg").pending()] == ["$2"]
    q.add({"event_id": "$4"})  # after the cut line, on a line of its own
    assert [r["event_id"] for r in q.pending()] == ["$2", "$4"]


def test_the_remote_backend_speaks_the_service_api(tmp_path: Path) -> None:
    """RemoteBackend against the real service app (its HTTP client swapped for a test
    client): checks, events, a moderator's report and a takedown all land."""
    import asyncio

    import httpx
    from starlette.testclient import TestClient

    from spimguard.core.events import ContactEvent, MessageEvent, ReportEvent
    from spimguard.interfaces.http.app import create_app
    from spimguard.interfaces.http.service import ServiceConfig
    from spimguard.interfaces.synapse.backends import RemoteBackend

    app = create_app(ServiceConfig(data_dir=tmp_path / "svc", store="memory", auth=False))
    client = TestClient(app)
    calls: list[str] = []

    async def post(url: str, body: Any) -> Any:
        path = url.removeprefix("http://svc")
        calls.append(path)
        r = client.post(path, json=body)
        if r.status_code >= 400:
            raise httpx.HTTPStatusError(r.text, request=r.request, response=r)  # type: ignore[arg-type]
        return r.json()

    backend = RemoteBackend(parse_config({"mode": "remote", "url": "http://svc/"}), post)

    async def scenario() -> None:
        await backend.observe([ContactEvent(ts=1.7e9, user="@a:x", contact="@b:x"),
                               login_from_request("@a:x", None, None, [("UA", "1.2.3.4")],
                                                  now=1.7e9)])
        verdict = await backend.check(MessageEvent(
            ts=1.7e9 + 1, id="$m1", sender="@a:x", recipients=("@b:x",),
            text="URGENT verify your account http://paypa1-secure-login.top/verify"))
        assert verdict["id"] == "$m1" and verdict["action"] in ("hold", "block")
        await backend.report(ReportEvent(ts=1.7e9 + 2, reporter="@mod:x", message_id="$m1",
                                         label="spam", moderator=True, sender="@a:x"))
        with pytest.raises(httpx.HTTPStatusError):
            await backend.takedown("c-none")  # no such campaign: the service says 404

    asyncio.run(scenario())
    assert calls == ["/v1/events", "/v1/check", "/v1/reports", "/v1/campaigns/c-none/takedown"]
    [report] = app.state.service.ledger.reports()
    assert report["moderator"] and report["label"] == "spam" and report["message_id"] == "$m1"
    client.close()


def test_matrix_event_reports_become_user_reports_and_bad_rows_are_skipped(
        tmp_path: Path) -> None:
    from spimguard.interfaces.synapse.feedback import _read_offset, _report_event, _write_offset

    r = _report_event({"user_id": "@r:x", "event_id": "$e", "sender": "@s:x",
                       "reason": "spam!" * 200, "received_ts": 1_700_000_000_000})
    assert r is not None and (r.reporter, r.message_id, r.sender, r.label, r.ts) == (
        "@r:x", "$e", "@s:x", "spam", 1_700_000_000.0)
    assert r.reason is not None and len(r.reason) == 512
    for bad in (None, [], {"user_id": 5, "event_id": "$e"}, {"user_id": "@r:x"}):
        assert _report_event(bad) is None
    path = tmp_path / "reports.offset"
    assert _read_offset(path) == 0
    _write_offset(path, 42)
    assert _read_offset(path) == 42
    path.write_text("garbage")
    assert _read_offset(path) == 0
