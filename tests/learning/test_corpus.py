from pathlib import Path

import pytest

from spimguard.core.errors import CorpusError
from spimguard.learning.corpus import read_corpus


def test_tsv_with_bad_lines_reports_each(tmp_path: Path) -> None:
    p = tmp_path / "c.tsv"
    p.write_bytes(b"ham\thello\nspam\tWIN NOW\nmaybe\tx\nno tab here\nham\tbad \xff byte\n"
                  b"HAM\tcase ok\n")
    c = read_corpus(p)
    assert c.labels == [False, True, False]
    assert [line for line, _ in c.errors] == [3, 4, 5]
    assert "invalid UTF-8" in c.errors[2][1]


def test_csv_with_quotes_and_extra_columns(tmp_path: Path) -> None:
    p = tmp_path / "c.csv"
    p.write_text('id,label,text\n1,spam,"Win, now ""free"""\n2,ham,"multi\nline"\n3,eggs,x\n',
                 encoding="utf-8")
    c = read_corpus(p)
    assert c.texts == ['Win, now "free"', "multi\nline"]
    assert c.errors and c.errors[0][0] == 5


def test_unreadable_format(tmp_path: Path) -> None:
    p = tmp_path / "c.txt"
    p.write_text("just some words\n")
    with pytest.raises(CorpusError, match="neither TSV"):
        read_corpus(p)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="cannot read"):
        read_corpus(tmp_path / "missing.tsv")
