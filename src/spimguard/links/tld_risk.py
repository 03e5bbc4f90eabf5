"""Per-suffix phishing rates learned from the phishing and benign lists.

For each public suffix (``xyz``, ``co.uk``, and private hosting suffixes such
as ``pages.dev``) we count the distinct registrable domains seen on each side
and shrink the share of phishing towards the share over all suffixes (a Beta
prior worth ``prior_strength`` domains). The risk is the log-odds of that
smoothed share minus the log-odds of the overall share: 0 is an average
suffix, +2 means about e² times the odds of the average. Suffixes seen fewer
than ``min_count`` times are not kept, and :func:`tld_risk` says None.

Limits, so that a detail is read right: the shares depend on the sizes of the
lists (phishing samples are larger than the benign lists), hence the
comparison with the average. The benign lists hold almost no sites on hosting
platforms, so private suffixes come out near 100 % phishing; that is true of
the lists, not of every ``github.io`` page. Registrable domains are counted,
not hosts, so one phishing domain with a thousand subdomains counts once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from spimguard.links.domains import split_host

__all__ = ["TldRisk", "TldTable", "learn_tld_risk", "shipped_tld_risk_path", "tld_risk",
           "tld_risk_info"]

FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class TldRisk:
    """What the lists say about one suffix."""

    suffix: str
    phish: int
    benign: int
    #: Smoothed log-odds of phishing minus that of all suffixes together.
    log_odds: float
    #: Smoothed share of phishing among the suffix's domains.
    share: float
    #: Share of phishing over all suffixes, for comparison.
    overall_share: float
    private: bool

    @property
    def detail(self) -> str:
        n = self.phish + self.benign
        text = (f"suffix .{self.suffix}: {self.phish / n:.0%} of {n:,} domains seen were "
                f"phishing (all suffixes: {self.overall_share:.0%}; risk {self.log_odds:+.1f})")
        if self.private:
            text += "; a hosting platform, which the benign lists barely cover"
        return text


@dataclass(frozen=True, slots=True)
class TldTable:
    """Counts per suffix and the smoothing that turns them into risks."""

    counts: dict[str, tuple[int, int]]
    n_phish: int
    n_benign: int
    min_count: int
    prior_strength: float
    private: frozenset[str]
    meta: dict[str, Any]

    def get(self, suffix: str) -> TldRisk | None:
        s = suffix.strip().lower().lstrip(".")
        c = self.counts.get(s)
        if c is None or self.n_phish + self.n_benign == 0:
            return None
        p, b = c
        g = self.n_phish / (self.n_phish + self.n_benign)
        g = min(max(g, 1e-6), 1 - 1e-6)
        m = self.prior_strength
        share = (p + m * g) / (p + b + m)
        log_odds = _logit(share) - _logit(g)
        return TldRisk(s, p, b, log_odds, share, g, s in self.private)

    def save(self, path: str | Path) -> None:
        """Deterministic JSON: sorted keys, no floats but the two parameters."""
        doc = {
            "format_version": FORMAT_VERSION,
            "n_phish": self.n_phish, "n_benign": self.n_benign,
            "min_count": self.min_count, "prior_strength": self.prior_strength,
            "private": sorted(self.private),
            "counts": {k: list(v) for k, v in sorted(self.counts.items())},
            "meta": self.meta,
        }
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n",
                        encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> TldTable:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        if doc.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{path}: tld-risk format {doc.get('format_version')!r}, "
                             f"this spimguard reads {FORMAT_VERSION}")
        return cls(
            counts={str(k): (int(v[0]), int(v[1])) for k, v in doc["counts"].items()},
            n_phish=int(doc["n_phish"]), n_benign=int(doc["n_benign"]),
            min_count=int(doc["min_count"]), prior_strength=float(doc["prior_strength"]),
            private=frozenset(doc["private"]), meta=dict(doc.get("meta", {})),
        )


def learn_tld_risk(
    phish_hosts: Iterable[str],
    benign_hosts: Iterable[str],
    *,
    min_count: int = 30,
    prior_strength: float = 20.0,
    meta: dict[str, Any] | None = None,
) -> TldTable:
    """Count distinct registrable domains per suffix on each side.

    A registrable domain on both sides is dropped from both (a list conflict),
    and IP literals and hosts without a known suffix are skipped.
    """
    def registrables(hosts: Iterable[str]) -> dict[str, tuple[str, bool]]:
        out: dict[str, tuple[str, bool]] = {}
        for h in hosts:
            p = split_host(h.strip().lower())
            if p.suffix and not p.ip and p.domain:
                out[p.registrable] = (p.suffix, p.private_suffix)
        return out

    ph, bn = registrables(phish_hosts), registrables(benign_hosts)
    both = ph.keys() & bn.keys()
    counts: dict[str, list[int]] = {}
    private: set[str] = set()
    for side, regs in ((0, ph), (1, bn)):
        for reg, (suffix, priv) in regs.items():
            if reg in both:
                continue
            counts.setdefault(suffix, [0, 0])[side] += 1
            if priv:
                private.add(suffix)
    kept = {s: (c[0], c[1]) for s, c in counts.items() if c[0] + c[1] >= min_count}
    return TldTable(
        counts=kept,
        n_phish=sum(c[0] for c in counts.values()),
        n_benign=sum(c[1] for c in counts.values()),
        min_count=min_count, prior_strength=prior_strength,
        private=frozenset(private & kept.keys()),
        meta={"n_conflicts_dropped": len(both), **(meta or {})},
    )


def shipped_tld_risk_path() -> Path:
    return Path(str(resources.files("spimguard").joinpath("data", "links", "tld_risk.json")))


@lru_cache(maxsize=1)
def _shipped() -> TldTable:
    return TldTable.load(shipped_tld_risk_path())


def tld_risk_info(suffix: str, table: TldTable | None = None) -> TldRisk | None:
    """Counts, smoothed share and a readable ``detail``; None for a suffix not in the table."""
    return (table or _shipped()).get(suffix)


def tld_risk(suffix: str, table: TldTable | None = None) -> float | None:
    """Smoothed log-odds of phishing relative to the average suffix (0 = average)."""
    r = tld_risk_info(suffix, table)
    return None if r is None else r.log_odds


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))
