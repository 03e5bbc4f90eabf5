"""How much a user's spam report counts: their track record, bounded.

A reporter's weight is ``(right + 1) / (right + wrong + 2)``: 0.5 for someone
never seen, towards 1 for reports later confirmed as spam, towards 0 for
reports on campaigns a moderator cleared. Only decisions count, never the
reporter's volume, so reporting a lot gains nothing by itself; reports made
after a campaign was confirmed earn no credit (they are free to make).

Memory: ``max_reporters`` records (least recently used dropped), each two
floats; a dropped reporter starts again at 0.5.
"""

from __future__ import annotations

from collections import OrderedDict

__all__ = ["ReporterTrust"]


class ReporterTrust:
    def __init__(self, max_reporters: int = 100_000) -> None:
        self._max = max_reporters
        self._records: OrderedDict[str, list[float]] = OrderedDict()

    def weight(self, reporter: str) -> float:
        rec = self._records.get(reporter)
        if rec is None:
            return 0.5
        right, wrong = rec
        return (right + 1.0) / (right + wrong + 2.0)

    def adjust(self, reporter: str, right: float = 0.0, wrong: float = 0.0) -> None:
        """Add to (or, with negative amounts, undo) a reporter's record."""
        rec = self._records.get(reporter)
        if rec is None:
            if len(self._records) >= self._max:
                self._records.popitem(last=False)
            rec = self._records[reporter] = [0.0, 0.0]
        else:
            self._records.move_to_end(reporter)
        rec[0] = max(0.0, rec[0] + right)
        rec[1] = max(0.0, rec[1] + wrong)

    def __len__(self) -> int:
        return len(self._records)
