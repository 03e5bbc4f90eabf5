"""The review queue of held messages: append-only JSON Lines, readable by people.

A held message is refused to its sender and waits here for a moderator. The
queue is two files in the data folder: ``held.jsonl`` (one line per held
message, with its original Matrix content and the verdict) and
``held-decisions.jsonl`` (one line per moderator decision: released or
dismissed, by whom, when). Nothing is rewritten, so the pair is also the
audit trail of what moderators did. Pending = held without a decision.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["DECISIONS", "ReviewQueue"]

DECISIONS = ("release", "dismiss")


class ReviewQueue:
    def __init__(self, data_dir: Path) -> None:
        self.held_path = data_dir / "held.jsonl"
        self.decisions_path = data_dir / "held-decisions.jsonl"
        self._lock = threading.Lock()

    def add(self, record: dict[str, Any]) -> None:
        """Queue a held message (``record`` has at least ``event_id``)."""
        self._append(self.held_path, record)

    def decide(self, event_id: str, decision: str, moderator: str) -> dict[str, Any]:
        """Record a moderator's decision; the held record it decided. ``KeyError`` if the
        message is not pending, ``ValueError`` for an unknown decision."""
        if decision not in DECISIONS:
            raise ValueError(f"decision must be one of {', '.join(DECISIONS)}")
        with self._lock:
            record = self._pending().get(event_id)
            if record is None:
                raise KeyError(event_id)
            self._append_locked(self.decisions_path, {
                "event_id": event_id, "decision": decision, "moderator": moderator,
                "ts": time.time()})
        return record

    def pending(self) -> list[dict[str, Any]]:
        """Held messages without a decision, oldest first."""
        with self._lock:
            return list(self._pending().values())

    def _pending(self) -> dict[str, dict[str, Any]]:
        decided = {d.get("event_id") for d in _read(self.decisions_path)}
        return {r["event_id"]: r for r in _read(self.held_path)
                if isinstance(r.get("event_id"), str) and r["event_id"] not in decided}

    def _append(self, path: Path, record: dict[str, Any]) -> None:
        with self._lock:
            self._append_locked(path, record)

    @staticmethod
    def _append_locked(path: Path, record: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with open(path, "a+b") as f:
            if f.tell() > 0:  # a line cut short by a crash must not swallow this one
                f.seek(-1, 2)
                if f.read(1) != b"\n":
                    line = "\n" + line
            f.write(line.encode("utf-8"))


def _read(path: Path) -> list[dict[str, Any]]:
    """The records of a JSON Lines file; a damaged line (a crash mid-write) is skipped."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    out = []
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            out.append(record)
    return out
