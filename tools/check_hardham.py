"""Check the hand-written hard-ham fixtures (``src/spimguard/data/hardham``).

Usage::

    python tools/check_hardham.py [DIR]

Checks, for ``hard-ham-dev.csv`` and ``hard-ham-test.csv``: the header is
``label,category,script,text``; every row parses with ``csv.DictReader`` and has
a non-empty text and script; every label is ``ham``; every category is a known
one with at least 25 rows; no text repeats within a file; no text appears in
both files (casefolded, whitespace collapsed); every ``invisible`` row really
holds an invisible or format character. Prints the counts per category and
exits non-zero on the first file that fails.
"""

from __future__ import annotations

import csv
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

HEADER = ["label", "category", "script", "text"]
CATEGORIES = (
    "number", "year", "date", "time", "distance_weight", "price", "score",
    "flight_order", "address", "phone", "code", "emoji", "short_reply",
    "greeting", "link", "markup", "invisible", "caps_excited", "money_talk",
    "scripts",
)
MIN_PER_CATEGORY = 25
#: BOM, ZWSP, ZWNJ, ZWJ, LRM, RLM, soft hyphen, NBSP, narrow NBSP, VS16.
INVISIBLE = set("\ufeff\u200b\u200c\u200d\u200e\u200f\u00ad\u00a0\u202f\ufe0f")
FILES = ("hard-ham-dev.csv", "hard-ham-test.csv")


def _key(text: str) -> str:
    return re.sub(r"\s+", " ", text.casefold()).strip()


def _has_invisible(text: str) -> bool:
    return any(c in INVISIBLE or unicodedata.category(c) == "Cf" for c in text)


def check(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != HEADER:
            raise SystemExit(f"{path.name}: header {reader.fieldnames!r}, want {HEADER!r}")
        rows = list(reader)
    seen: set[str] = set()
    for n, row in enumerate(rows, start=2):
        where = f"{path.name} row {n}"
        if None in row or any(row[k] is None for k in HEADER):
            raise SystemExit(f"{where}: wrong number of fields")
        if row["label"] != "ham":
            raise SystemExit(f"{where}: label {row['label']!r}")
        if row["category"] not in CATEGORIES:
            raise SystemExit(f"{where}: unknown category {row['category']!r}")
        if not row["text"].strip() or not row["script"]:
            raise SystemExit(f"{where}: empty text or script")
        if row["category"] == "invisible" and not _has_invisible(row["text"]):
            raise SystemExit(f"{where}: no invisible character in {row['text']!r}")
        key = _key(row["text"])
        if key in seen:
            raise SystemExit(f"{where}: repeated text {row['text']!r}")
        seen.add(key)
    counts = Counter(r["category"] for r in rows)
    short = [c for c in CATEGORIES if counts[c] < MIN_PER_CATEGORY]
    if short:
        raise SystemExit(f"{path.name}: under {MIN_PER_CATEGORY} rows: {short}")
    return rows


def main(argv: list[str]) -> int:
    here = Path(__file__).resolve().parent.parent / "src" / "spimguard" / "data" / "hardham"
    folder = Path(argv[0]) if argv else here
    dev, test = (check(folder / name) for name in FILES)
    shared = {_key(r["text"]) for r in dev} & {_key(r["text"]) for r in test}
    if shared:
        raise SystemExit(f"texts in both files: {sorted(shared)[:10]!r}")
    cd, ct = Counter(r["category"] for r in dev), Counter(r["category"] for r in test)
    print(f"{'category':<16}{'dev':>6}{'test':>6}")
    for c in CATEGORIES:
        print(f"{c:<16}{cd[c]:>6}{ct[c]:>6}")
    print(f"{'total':<16}{len(dev):>6}{len(test):>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
