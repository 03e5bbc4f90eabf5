import os
import time
from pathlib import Path

import pytest

from spimguard.links.lists import DomainList


def test_entries_comments_and_bad_lines(tmp_path: Path) -> None:
    f = tmp_path / "block.txt"
    f.write_text("# a comment\nevil.com  # trailing\n\nA.B.Evil.ORG\n192.0.2.7\n"
                 "http://x.com/login/\ncom\nbad line here\nxn--80ak6aa92e.com\n")
    dl = DomainList([f])
    assert dl.stats.entries == 5 and dl.stats.bad_lines == 2
    assert dl.match_host("evil.com", "com") == "evil.com"
    assert dl.match_host("deep.sub.evil.com", "com") == "evil.com"
    assert dl.match_host("z.a.b.evil.org", "org") == "a.b.evil.org"
    assert dl.match_host("b.evil.org", "org") is None  # never a parent of an entry
    assert dl.match_host("192.0.2.7", "") == "192.0.2.7"
    assert dl.match_host("аррӏе.com", "com") == "аррӏе.com"  # punycode entry, Unicode host
    assert dl.match_url("x.com", "/login") == "x.com/login"
    assert dl.match_host("good.com", "com") is None


def test_a_bare_suffix_blocks_nothing() -> None:
    dl = DomainList.from_entries(["co.uk", "evil.co.uk"])
    assert dl.match_host("bbc.co.uk", "co.uk") is None
    assert dl.match_host("x.evil.co.uk", "co.uk") == "evil.co.uk"


def test_reload_when_the_file_changes(tmp_path: Path) -> None:
    f = tmp_path / "block.txt"
    f.write_text("one.com\n")
    dl = DomainList([f], check_every=0.0)
    assert dl.match_host("two.com", "com") is None
    assert dl.reload_if_changed() is False
    f.write_text("one.com\ntwo.com\n")
    later = time.time() + 5
    os.utime(f, (later, later))
    assert dl.reload_if_changed() is True
    assert dl.match_host("two.com", "com") == "two.com"


def test_missing_file_is_empty_not_fatal(tmp_path: Path) -> None:
    dl = DomainList([tmp_path / "nope.txt"])
    assert len(dl) == 0 and dl.stats.files == 0


@pytest.mark.parametrize("line", ["x" * 5000, "\x00\x01", "é" * 100, "[[[", "a b"])
def test_hostile_lines(line: str) -> None:
    dl = DomainList.from_entries([line, "ok.com"])
    assert dl.match_host("ok.com", "com") == "ok.com"
