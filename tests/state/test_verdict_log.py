"""The verdict log writes on its own thread, in batches, and loses nothing it can keep."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

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
