"""The link data that ships with spimguard (see data/links/NOTICE.md), loaded once."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from spimguard.links.analyze import LinkAnalyzer, TldRater, UrlScorer
from spimguard.links.lists import DomainList
from spimguard.links.lookalike import LookalikeIndex, load_brand_words, load_brands
from spimguard.links.tld_risk import TldTable, shipped_tld_risk_path
from spimguard.links.url_model import load_shipped_url_model, shipped_url_model_path

__all__ = ["build_analyzer", "data_path"]

#: How many of the allow list's most popular domains typo-squats are checked against.
POPULAR_FOR_TYPOS = 2000


def data_path(name: str) -> Path:
    return Path(str(resources.files("spimguard").joinpath("data", "links", name)))


DEFAULT_BLOCK = ("blocklist-phishing-database.txt",)
DEFAULT_ALLOW = ("allowlist-opendns-top.txt",)


@lru_cache(maxsize=4)
def _list(paths: tuple[Path, ...], name: str) -> DomainList:
    return DomainList(paths, name=name)


@lru_cache(maxsize=1)
def _lookalikes() -> LookalikeIndex:
    popular = [line.strip() for line in data_path(DEFAULT_ALLOW[0]).read_text().splitlines()
               if line.strip() and not line.startswith("#")][:POPULAR_FOR_TYPOS]
    return LookalikeIndex(load_brands(), popular, load_brand_words())


@lru_cache(maxsize=1)
def _url_model() -> UrlScorer | None:
    if not shipped_url_model_path().exists():
        return None
    return load_shipped_url_model()


#: Smoothed log-odds (vs the average suffix) from which a suffix counts as risky,
#: and the log-odds at which RISKY_TLD reaches full strength.
TLD_RISK_FROM = 1.0
TLD_RISK_FULL = 3.0


@lru_cache(maxsize=1)
def _tld_rater() -> TldRater | None:
    path = shipped_tld_risk_path()
    if not path.exists():
        return None
    table = TldTable.load(path)

    @lru_cache(maxsize=4096)
    def rate(suffix: str) -> tuple[float, str] | None:
        info = table.get(suffix)
        if info is None or info.log_odds < TLD_RISK_FROM:
            return None
        strength = min(1.0, (info.log_odds - TLD_RISK_FROM) / (TLD_RISK_FULL - TLD_RISK_FROM))
        return max(strength, 0.25), info.detail

    return rate


def build_analyzer(
    block_lists: list[Path] | None = None,
    allow_lists: list[Path] | None = None,
    url_model: bool = True,
) -> LinkAnalyzer:
    """An analyser on the shipped data; ``block_lists``/``allow_lists`` replace the defaults."""
    block = tuple(block_lists) if block_lists is not None else tuple(
        data_path(n) for n in DEFAULT_BLOCK)
    allow = tuple(allow_lists) if allow_lists is not None else tuple(
        data_path(n) for n in DEFAULT_ALLOW)
    return LinkAnalyzer(
        blocklist=_list(block, "block"),
        allowlist=_list(allow, "allow"),
        shorteners=_list((data_path("shorteners.txt"),), "shorteners"),
        user_content=_list((data_path("user-content-hosts.txt"),), "user-content"),
        lookalikes=_lookalikes(),
        url_model=_url_model() if url_model else None,
        tld_risk=_tld_rater(),
    )

