"""Labelled corpora (shared/spec/formats.md, section 1): TSV or CSV.

A line or row that cannot be read is reported with its line number and
skipped; it is never silently dropped. Invalid UTF-8 spoils only its own line:
the file is decoded with ``surrogateescape`` and any line still holding an
escaped byte is reported.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from spimguard.core.errors import CorpusError

__all__ = ["Corpus", "LabelledText", "read_corpus"]


@dataclass(frozen=True, slots=True)
class LabelledText:
    line: int
    spam: bool
    text: str


@dataclass(slots=True)
class Corpus:
    path: str
    items: list[LabelledText] = field(default_factory=list)
    #: (line number, reason) for every line that was skipped.
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        return [i.text for i in self.items]

    @property
    def labels(self) -> list[bool]:
        return [i.spam for i in self.items]


def _label(raw: str) -> bool | None:
    low = raw.strip().lower()
    return True if low == "spam" else False if low == "ham" else None


def _has_bad_bytes(s: str) -> bool:
    return any("\udc80" <= c <= "\udcff" for c in s)


def read_corpus(path: str | Path) -> Corpus:
    """Read a TSV (``label<TAB>text``) or CSV (header with ``label`` and ``text``) corpus."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise CorpusError(f"cannot read corpus {p}: {exc.strerror}") from exc
    text = raw.decode("utf-8", errors="surrogateescape")
    if text.startswith("\ufeff"):
        text = text[1:]
    first = text.split("\n", 1)[0]
    corpus = Corpus(str(p))
    if "\t" in first and _label(first.split("\t", 1)[0]) is not None:
        _read_tsv(text, corpus)
    elif "label" in first.lower() and "text" in first.lower():
        _read_csv(text, corpus)
    elif text.strip():
        raise CorpusError(
            f"{p}: neither TSV (label<TAB>text) nor CSV with 'label' and 'text' columns "
            f"(first line: {first[:60]!r})"
        )
    return corpus


def _read_tsv(text: str, corpus: Corpus) -> None:
    for n, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        if _has_bad_bytes(line):
            corpus.errors.append((n, "invalid UTF-8"))
            continue
        parts = line.split("\t", 1)
        if len(parts) != 2:
            corpus.errors.append((n, "no TAB between label and text"))
            continue
        label = _label(parts[0])
        if label is None:
            corpus.errors.append((n, f"label must be spam or ham, got {parts[0][:30]!r}"))
            continue
        corpus.items.append(LabelledText(n, label, parts[1]))


def _read_csv(text: str, corpus: Corpus) -> None:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return
    except csv.Error as exc:
        raise CorpusError(f"{corpus.path}: unreadable CSV header: {exc}") from exc
    if "label" not in header or "text" not in header:
        raise CorpusError(f"{corpus.path}: CSV header needs 'label' and 'text' columns")
    li, ti = header.index("label"), header.index("text")
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            corpus.errors.append((line, f"malformed CSV: {exc}"))
            continue
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) <= max(li, ti):
            corpus.errors.append((line, f"expected at least {max(li, ti) + 1} columns"))
            continue
        if _has_bad_bytes(row[li]) or _has_bad_bytes(row[ti]):
            corpus.errors.append((line, "invalid UTF-8"))
            continue
        label = _label(row[li])
        if label is None:
            corpus.errors.append((line, f"label must be spam or ham, got {row[li][:30]!r}"))
            continue
        corpus.items.append(LabelledText(line, label, row[ti]))
