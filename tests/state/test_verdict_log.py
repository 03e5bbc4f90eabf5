"""The verdict log writes on its own thread, in batches, and loses nothing it can keep."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from spimguard.core.signals import Signal
from spimguard.core.verdicts import Action, Verdict
from spimguard.state.base import StoreError
from spimguard.state.verdict_log import VerdictLog


def _verdict(i: int) -> Verdict:
    return Verdict(id=f"m{i}", action=Action.HOLD, score=7.5,
                   signals=(Signal("PHISH_LINK", 7.5, "ev\u0131l.example \U0001f600"),))


def _rows(path: Path) -> int:
    with sqlite3.connect(path) as db:
        n: int = db.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0]
        return n


def test_rows_reach_the_file_without_an_explicit_flush(tmp_path: Path) -> None:
    log = VerdictLog(tmp_path / "v.sqlite", flush_every=0.02)
    for i in range(10):
        log.add(float(i), "alice", _verdict(i))
    deadline = time.monotonic() + 10
    while _rows(tmp_path / "v.sqlite") < 10 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _rows(tmp_path / "v.sqlite") == 10  # read by another connection: committed
    log.close()


def test_query_sees_what_was_just_added_and_keeps_signals(tmp_path: Path) -> None:
    log = VerdictLog(tmp_path / "v.sqlite", flush_every=60)  # the thread would wait a minute
    log.add(1.0, "alice", _verdict(1))
    log.add(2.0, "bob", _verdict(2).to_dict())  # the spec dict is accepted too
    [row] = log.query(message_id="m1")
    assert row["sender"] == "alice" and row["action"] == "hold" and row["score"] == 7.5
    assert row["signals"] == [{"name": "PHISH_LINK", "score": 7.5,
                               "detail": "ev\u0131l.example \U0001f600"}]
    assert [r["id"] for r in log.query(sender="bob")] == ["m2"]
    log.close()


def test_a_failed_write_keeps_the_rows_for_the_next_attempt(tmp_path: Path) -> None:
    log = VerdictLog(tmp_path / "v.sqlite", flush_every=60)
    log._db.execute("PRAGMA query_only=ON")  # the disk refuses writes, as when full
    log.add(1.0, "alice", _verdict(1))
    with pytest.raises(StoreError, match="write failed"):
        log.flush()
    assert log.last_error is not None
    log._db.execute("PRAGMA query_only=OFF")
    log.add(2.0, "alice", _verdict(2))
    log.flush()
    assert [r["id"] for r in log.query(sender="alice")] == ["m2", "m1"]  # newest first
    log.close()


def test_close_writes_what_is_pending_and_refuses_more(tmp_path: Path) -> None:
    log = VerdictLog(tmp_path / "v.sqlite", flush_every=60)
    for i in range(3):
        log.add(float(i), "alice", _verdict(i))
    log.close()
    assert _rows(tmp_path / "v.sqlite") == 3
    with pytest.raises(StoreError, match="closed"):
        log.add(9.0, "alice", _verdict(9))
    log.close()  # twice is harmless


def test_the_oldest_rows_beyond_the_bound_are_trimmed(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("spimguard.state.verdict_log.TRIM_EVERY", 10)
    log = VerdictLog(tmp_path / "v.sqlite", max_rows=15, flush_every=60)
    for i in range(40):
        log.add(float(i), "alice", _verdict(i))
        if i % 7 == 0:
            log.flush()
    log.close()
    n = _rows(tmp_path / "v.sqlite")
    assert 15 <= n < 40
    with sqlite3.connect(tmp_path / "v.sqlite") as db:
        newest = db.execute("SELECT message_id FROM verdicts ORDER BY id DESC").fetchone()[0]
    assert newest == "m39"


def _v(mid: str) -> dict[str, Any]:
    return {"id": mid, "action": "allow", "score": 0.0, "signals": [], "account_action": None,
            "campaign": None}


def test_a_poison_row_costs_that_row_only(tmp_path: Path) -> None:
    """Issue 20: a sender "\\ud800" killed the writer; no verdict was written after it."""
    log = VerdictLog(tmp_path / "v.sqlite", flush_every=0.01)
    try:
        log.add(1.0, "\ud800", _v("poison-sender"))
        log.add(2.0, "bob", _v("\udc00"))
        log.add(3.0, "carol", {"id": "no-action"})  # malformed: cannot be a row at all
        log.add(4.0, "dave", {**_v("m4"), "signals": [{"name": "X", "score": 1.0,
                                                         "detail": "bad \ud800 detail"}]})
        time.sleep(0.2)
        for i in range(5):
            log.add(10.0 + i, "erin", _v(f"after{i}"))
        time.sleep(0.2)
        st = log.status()
        assert st["ok"] and st["quarantined"] == 1 and st["repaired"] == 3, st
        assert log._writer.is_alive()  # noqa: SLF001
        assert len(log.query(sender="erin", limit=10)) == 5
        assert log.query(message_id="poison-sender")[0]["sender"] == "\ufffd"
        assert log.query(message_id="m4")[0]["signals"][0]["detail"] == "bad \ufffd detail"
    finally:
        log.close()


def test_a_dead_writer_is_started_again(tmp_path: Path) -> None:
    log = VerdictLog(tmp_path / "v.sqlite", flush_every=0.01)
    try:
        dead = threading.Thread(target=lambda: None)
        dead.start()
        dead.join()
        log._writer = dead  # noqa: SLF001 - as if the thread had died
        assert not log.status()["ok"] and log.status()["why"] == "writer stopped"
        log.add(1.0, "a", _v("m1"))
        assert log.restarts == 1
        time.sleep(0.2)
        assert log.query(message_id="m1") and log.status()["ok"]
    finally:
        log.close()


def test_an_unexpected_error_in_the_writer_is_survived(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    log = VerdictLog(tmp_path / "v.sqlite", flush_every=0.01)
    calls = {"n": 0}
    real = log.flush

    def flaky() -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("boom")
        real()

    try:
        monkeypatch.setattr(log, "flush", flaky)
        log.add(1.0, "a", _v("m1"))
        time.sleep(0.3)
        assert calls["n"] >= 2 and log._writer.is_alive()  # noqa: SLF001
        assert log.query(message_id="m1")
    finally:
        log.close()
