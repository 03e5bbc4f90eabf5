"""Per-suffix phishing risk learned from the lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from spimguard.links.tld_risk import (
    TldTable,
    learn_tld_risk,
    shipped_tld_risk_path,
    tld_risk,
    tld_risk_info,
)

PHISH = [f"pay-verify-{i}.xyz" for i in range(40)] + [f"shop{i}.com" for i in range(10)] + [
    f"wallet-{i}.pages.dev" for i in range(30)] + ["198.51.100.3", "nosuffix"]
BENIGN = [f"bakery{i}.com" for i in range(50)] + ["cafe.xyz", "library.org"]


def _table() -> TldTable:
    return learn_tld_risk(PHISH, BENIGN, min_count=20, prior_strength=10.0)


def test_counts_registrable_domains_per_suffix() -> None:
    t = _table()
    assert t.counts == {"xyz": (40, 1), "com": (10, 50), "pages.dev": (30, 0)}
    assert "org" not in t.counts  # under min_count
    assert t.private == frozenset({"pages.dev"})


def test_risk_orders_suffixes_and_shrinks_towards_the_average() -> None:
    t = _table()
    xyz, com, dev = t.get("xyz"), t.get("com"), t.get("pages.dev")
    assert xyz is not None and com is not None and dev is not None
    assert xyz.log_odds > 0 > com.log_odds
    assert xyz.share < 40 / 41  # smoothed, not the raw share
    assert dev.share < 1.0 and dev.private


def test_detail_is_readable() -> None:
    r = _table().get(".XYZ")
    assert r is not None
    assert r.detail.startswith("suffix .xyz: 98% of 41 domains seen were phishing")
    dev = _table().get("pages.dev")
    assert dev is not None and "hosting platform" in dev.detail


@pytest.mark.parametrize("suffix", ["", "org", "no-such-suffix", "\x00", "x" * 10_000])
def test_unknown_suffix_is_none(suffix: str) -> None:
    assert _table().get(suffix) is None
    assert tld_risk(suffix, _table()) is None


def test_conflicting_domains_are_dropped() -> None:
    t = learn_tld_risk(["both.com", "evil.com"], ["both.com", "good.com"], min_count=1)
    assert t.counts["com"] == (1, 1) and t.meta["n_conflicts_dropped"] == 1


def test_save_load_round_trip_is_byte_stable(tmp_path: Path) -> None:
    t = _table()
    t.save(tmp_path / "a.json")
    loaded = TldTable.load(tmp_path / "a.json")
    loaded.save(tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert loaded.get("xyz") == t.get("xyz")


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    (tmp_path / "t.json").write_text('{"format_version": 99}', encoding="utf-8")
    with pytest.raises(ValueError, match="format"):
        TldTable.load(tmp_path / "t.json")


def test_shipped_table() -> None:
    assert shipped_tld_risk_path().stat().st_size < 100_000
    xyz, com = tld_risk("xyz"), tld_risk("com")
    assert xyz is not None and com is not None and xyz > com
    info = tld_risk_info(".xyz")
    assert info is not None and info.detail.startswith("suffix .xyz: ")
    assert "domains seen were phishing" in info.detail
    assert tld_risk("no-such-suffix") is None
