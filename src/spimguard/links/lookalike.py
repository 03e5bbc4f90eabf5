"""Domains that imitate a brand or a popular site.

Four tricks, each with its own strength (see ``check``):

* homoglyph: the label reads as the brand once look-alike letters and digit
  or letter-pair tricks are undone (``аррӏе.com``, ``rnicrosoft.com``,
  ``paypa1.com``);
* typo: one or two edits from the brand or a popular domain
  (``paypall.com``, ``gooogle.com``);
* combo: the brand as a word of a longer name (``micros0ft-login.com``,
  ``paypal-secure.web.app``) or under another suffix (``paypal.xyz``);
* brand domain in the subdomain: ``paypal.com.account-verify.xyz``,
  ``login-live.com.example.net``.

The brand list is data (``data/links/brands.json``). A brand's own domains
are never look-alikes. Blind spot: a combo with an ordinary word that happens
to be a brand ("apple-pie-recipes.com") is flagged, weakly; short brand names
(``ups``, ``irs``) only match as whole words, never inside others ("groups").
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from spimguard.links.domains import HostParts
from spimguard.text.confusables import latin_skeleton

__all__ = ["Lookalike", "LookalikeIndex", "load_brand_words", "load_brands", "skeleton"]

_DIGIT_LOOKS = str.maketrans({"0": "o", "1": "l", "3": "e", "5": "s", "4": "a", "7": "t",
                              "8": "b", "9": "g", "@": "a", "$": "s", "!": "i"})
_PAIRS = (("rn", "m"), ("vv", "w"), ("cl", "d"))
_SPLIT = re.compile(r"[^a-z]+")
#: Brand names at least this long also match inside longer words.
SUBSTRING_MIN = 6
#: Bound on remembered verdicts per host (campaigns repeat hosts).
CACHE_MAX = 50_000
_MISS = object()


def _deletions(s: str) -> set[str]:
    return {s} | {s[:i] + s[i + 1:] for i in range(len(s))}


def skeleton(label: str, pairs: bool = False) -> str:
    """What a label reads as: look-alikes folded, digit tricks undone, lower case.

    ``pairs`` also reads letter pairs as the letter they mimic ("rn" as "m");
    that reading is tried second, since it mangles real words ("icloud").
    """
    s = latin_skeleton(label).translate(_DIGIT_LOOKS)
    if pairs:
        for a, b in _PAIRS:
            if a in s:
                s = s.replace(a, b)
    return s


@dataclass(frozen=True, slots=True)
class Lookalike:
    target: str       #: the brand or popular domain imitated
    kind: str         #: homoglyph | typo | combo | subdomain
    strength: float
    detail: str


def load_brands() -> dict[str, list[str]]:
    brands: dict[str, list[str]] = _brands_file()["brands"]
    return brands


def load_brand_words() -> list[str]:
    """Brand names that are ordinary words: whole-word matches only."""
    words: list[str] = _brands_file().get("words", [])
    return words


def _brands_file() -> dict[str, Any]:
    text = resources.files("spimguard").joinpath("data/links/brands.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


class LookalikeIndex:
    def __init__(self, brands: Mapping[str, Iterable[str]], popular: Iterable[str] = (),
                 words: Iterable[str] = ()) -> None:
        self.own: set[str] = set()
        #: label (brand name or the label of one of its domains) -> brand
        self.labels: dict[str, str] = {}
        for brand, domains in brands.items():
            self.labels[brand] = brand
            for d in domains:
                self.own.add(d)
                label = d.split(".", 1)[0]
                if len(label) >= 4:
                    self.labels.setdefault(label, brand)
        self.own_by_brand = {b: set(ds) for b, ds in brands.items()}
        self._brand_labels = sorted(self.labels)
        plain = set(words)
        self._long = [lab for lab in self._brand_labels
                      if len(lab) >= SUBSTRING_MIN and lab not in plain]
        self.popular: dict[str, str] = {}
        for dom in popular:
            label = dom.split(".", 1)[0]
            if len(label) >= 6 and label not in self.labels:
                self.popular.setdefault(label, dom)
        # Deletion neighbourhoods (SymSpell): two strings within one edit share a
        # one-deletion variant, so a typo search is ~len(label) dict look-ups
        # instead of an edit-distance scan of every popular label (60 µs -> ~3 µs).
        self._near: dict[str, list[str]] = {}
        for label in sorted(self.popular):
            for v in _deletions(label):
                self._near.setdefault(v, []).append(label)
        self._cache: dict[HostParts, Lookalike | None] = {}

    def check(self, parts: HostParts) -> Lookalike | None:
        """The strongest imitation this host shows, or None."""
        if parts.ip or not parts.suffix or parts.registrable in self.own:
            return None
        cached = self._cache.get(parts, _MISS)
        if cached is not _MISS:
            return cached  # type: ignore[return-value]
        found = self._subdomain(parts) or self._label(parts)
        if len(self._cache) >= CACHE_MAX:
            self._cache.clear()
        self._cache[parts] = found
        return found

    def _label(self, parts: HostParts) -> Lookalike | None:
        raw = parts.domain
        host = parts.host
        sk = skeleton(raw)
        for reading in (sk, skeleton(raw, pairs=True)):
            brand = self.labels.get(reading)
            if brand is None:
                continue
            if reading != raw.lower():
                return Lookalike(brand, "homoglyph", 1.0,
                                 f"{host} reads as {reading}.{parts.suffix} ({brand})")
            return Lookalike(brand, "combo", 0.8,
                             f"{host}: the {brand} name under another suffix")
        words = [w for w in _SPLIT.split(sk) if w]
        for w in words:
            b = self.labels.get(w)
            if b is not None and len(words) > 1:
                return Lookalike(b, "combo", 0.6, f"{host}: '{w}' in the name imitates {b}")
        if len(sk) >= 5:
            limit = 2 if len(sk) >= 9 else 1
            hit = process.extractOne(sk, self._brand_labels, scorer=Levenshtein.distance,
                                     score_cutoff=limit)
            if hit is not None and hit[1] > 0:
                b = self.labels[hit[0]]
                return Lookalike(b, "typo", 0.9,
                                 f"{host} is {hit[1]} edit(s) from {hit[0]} ({b})")
        for lab in self._long:
            if lab in sk and lab != sk:
                b = self.labels[lab]
                return Lookalike(b, "combo", 0.6, f"{host}: '{lab}' in the name imitates {b}")
        if len(sk) >= 6 and self._near and sk not in self.popular:
            for v in _deletions(sk):
                for label in self._near.get(v, ()):
                    if Levenshtein.distance(sk, label, score_cutoff=1) == 1:
                        dom = self.popular[label]
                        return Lookalike(dom, "typo", 0.7, f"{host} is 1 edit from {dom}")
        return None

    def _subdomain(self, parts: HostParts) -> Lookalike | None:
        if not parts.subdomain:
            return None
        sub = skeleton(parts.subdomain)
        labels = sub.split(".")
        # a brand's real domain spelled inside the subdomain: paypal.com.evil.xyz
        for i in range(len(labels) - 1):
            for j in range(i + 2, min(len(labels), i + 3) + 1):
                cand = ".".join(labels[i:j])
                for piece in (cand, cand.split("-")[-1]):
                    if piece in self.own:
                        brand = self._brand_of(piece)
                        return Lookalike(brand, "subdomain", 1.0,
                                         f"{parts.host}: {piece} is only a subdomain of "
                                         f"{parts.registrable}")
        for lab in labels:
            for w in _SPLIT.split(lab):
                b = self.labels.get(w)
                if b is not None and len(w) >= 4:
                    return Lookalike(b, "subdomain", 0.6,
                                     f"{parts.host}: '{w}' in a subdomain of "
                                     f"{parts.registrable}")
        return None

    def _brand_of(self, domain: str) -> str:
        for brand, doms in self.own_by_brand.items():
            if domain in doms:
                return brand
        return domain
