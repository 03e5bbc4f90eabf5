"""What a message looks like to campaign clustering: shingles, an exact key, link keys.

The text is ``NormalizedText.match`` (look-alikes, invisible characters,
leetspeak and spacing already undone), cut to ``max_chars``. Every link-like
token (a word character, then one of ``. / : @``, then a word character:
URLs, hosts, e-mail addresses, also "3:30" and "and/or") becomes one
placeholder word, and digit runs become "0", so copies that differ only in
their URL, amount or reference number read the same. The links themselves
come from :func:`spimguard.links.extract.extract_links` and are reduced to
their registrable domains ("login.evil.co.uk/a?b" -> "evil.co.uk"), which
join the shingles as single tokens: rotating a domain changes one shingle.

Shingles are the words of three or more letters plus every pair of adjacent
words: pairs keep some word order, and leaving short words out of the single
ones keeps "u", "to" and "me" from making unrelated short texts look alike.
Each shingle is a stable 32-bit CRC, so signatures mean the same in every
process.

A text with fewer than ``min_tokens`` words or ``min_shingles`` distinct
shingles ("ok", "lol lol lol lol lol") gets no shingles and no exact key: it
can only join a campaign through a link key, never form one by its text.

Link keys group messages that share where they send the reader: the
registrable domain, except allow-listed popular sites (``allow``), which key
nothing; a URL shortener or a user-content host (``per_url``) keys the host
and path instead, since the domain is shared by everyone.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from hashlib import blake2b

import numpy as np

from spimguard.campaigns.minhash import Signature
from spimguard.links.extract import Link, extract_links
from spimguard.text.normalize import NormalizedText

__all__ = ["Fingerprint", "Fingerprinter", "HostPredicate", "shipped_predicates"]

#: ``(registrable or host, public suffix) -> bool``.
HostPredicate = Callable[[str, str], bool]

_LINKISH_RE = re.compile(r"(?<!\S)\S*?\w[./:@]\w\S*")
_DIGITS_RE = re.compile(r"\d+")
_WORD_RE = re.compile(r"\w+")
_PLACEHOLDER = " lnk0 "
#: Multiplier combining two word hashes into a pair hash (odd, so no bits are lost).
_PAIR = np.uint32(0x9E3779B1)
_SAMPLE_CHARS = 280


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """One message, reduced for clustering; see the module docstring."""

    #: Words in the (cut) text, links excluded.
    words: int
    #: Distinct 32-bit shingle hashes; empty when the text is too short to cluster.
    shingles: Signature
    #: Hash of the reduced text (links as placeholders, digits as 0); None if too short.
    exact: bytes | None
    #: Grouping keys: "d:<registrable>" or "u:<host/path>", at most ``max_links``.
    link_keys: tuple[str, ...]
    #: Registrable domains of every link, allow-listed ones included.
    domains: tuple[str, ...]
    #: The cleaned text, cut, for moderators.
    sample: str

    @property
    def text_ok(self) -> bool:
        """True when the text is long enough to form a campaign by itself."""
        return self.exact is not None

    @property
    def usable(self) -> bool:
        """True when the message can join any campaign (by text or by link)."""
        return self.exact is not None or bool(self.link_keys)


class Fingerprinter:
    """Builds :class:`Fingerprint` objects; bounded work whatever the input.

    ``allow(registrable, suffix)`` says a domain is too popular to group by
    (default: the shipped allow list); ``per_url(host, suffix)`` says a host
    is shared by unrelated users (shorteners, user-content hosting), so its
    links group by host and path.
    """

    def __init__(
        self,
        min_tokens: int = 5,
        min_shingles: int = 6,
        allow: HostPredicate | None = None,
        per_url: HostPredicate | None = None,
        max_chars: int = 4096,
        max_words: int = 200,
        max_links: int = 10,
    ) -> None:
        if allow is None or per_url is None:
            default_allow, default_per_url = shipped_predicates()
            allow = allow or default_allow
            per_url = per_url or default_per_url
        self.min_tokens = min_tokens
        self.min_shingles = min_shingles
        self.allow = allow
        self.per_url = per_url
        self.max_chars = max_chars
        self.max_words = max_words
        self.max_links = max_links

    def __call__(self, text: NormalizedText, html: str | None = None) -> Fingerprint:
        match = text.match[: self.max_chars]
        reduced = _DIGITS_RE.sub("0", _LINKISH_RE.sub(_PLACEHOLDER, match))
        words = _WORD_RE.findall(reduced)[: self.max_words]
        domains, keys = self._links(text.links[: self.max_chars], html)
        n_words = len(words) - words.count("lnk0")
        shingles = _EMPTY
        exact = None
        if n_words >= self.min_tokens:
            shingles = _shingles(words, domains)
            if len(shingles) >= self.min_shingles:
                exact = blake2b(" ".join(words).encode(), digest_size=8).digest()
            else:
                shingles = _EMPTY
        return Fingerprint(n_words, shingles, exact, keys, domains,
                           " ".join(text.clean[:_SAMPLE_CHARS].split()))

    def _links(self, text: str, html: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
        if html is None and "." not in text and ":" not in text:
            return (), ()
        found = extract_links(text, html, limit=self.max_links).links
        if not found:
            return (), ()
        domains: dict[str, None] = {}
        keys: dict[str, None] = {}
        for link in found:
            reg = link.parts.registrable
            domains[reg] = None
            key = self._key(link)
            if key is not None:
                keys[key] = None
        return tuple(domains), tuple(keys)

    def _key(self, link: Link) -> str | None:
        p = link.parts
        if not link.ip and self.per_url(p.host, p.suffix):
            path = link.path.split("#", 1)[0].rstrip("/")
            return f"u:{p.host}{path}" if path else None
        if not link.ip and not p.private_suffix and self.allow(p.registrable, p.suffix):
            return None
        return f"d:{p.registrable}"


_EMPTY: Signature = np.zeros(0, dtype=np.uint32)


def _shingles(words: list[str], domains: tuple[str, ...]) -> Signature:
    h = np.array([zlib.crc32(w.encode()) for w in words], dtype=np.uint32)
    pairs = (h[:-1] * _PAIR) ^ h[1:]
    singles = h[np.array([len(w) >= 3 for w in words], dtype=bool)]
    parts = [singles, pairs]
    if domains:
        parts.append(np.array([zlib.crc32(b"\x01" + d.encode()) for d in domains],
                              dtype=np.uint32))
    out: Signature = np.unique(np.concatenate(parts))
    return out


def shipped_predicates() -> tuple[HostPredicate, HostPredicate]:
    """``(allow, per_url)`` on the shipped allow, shortener and user-content lists."""
    from spimguard.links.shipped import build_analyzer  # loads list files: on first use only

    analyzer = build_analyzer(url_model=False)
    allowlist, shorteners, hosted = analyzer.allowlist, analyzer.shorteners, analyzer.user_content

    def allow(registrable: str, suffix: str) -> bool:
        return allowlist.match_host(registrable, suffix) is not None

    def per_url(host: str, suffix: str) -> bool:
        return (shorteners.match_host(host, suffix) is not None
                or hosted.match_host(host, suffix) is not None)

    return allow, per_url
