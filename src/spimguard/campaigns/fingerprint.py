"""What a message looks like to campaign clustering: shingles, an exact key, link keys.

The text is ``NormalizedText.match`` (look-alikes, invisible characters,
leetspeak and spacing already undone), cut to ``max_chars``. Every link-like
token (a word character, then one of ``. / : @``, then a word character:
URLs, hosts, e-mail addresses, also "3:30" and "and/or") becomes one
placeholder word, and numbers standing alone become "0", so copies that
differ only in their URL, amount or phone number read the same (digits inside
a word, "x7k2q", are kept). The links themselves
come from :func:`spimguard.links.extract.extract_links` and are reduced to
their registrable domains ("login.evil.co.uk/a?b" -> "evil.co.uk"), which
join the shingles as single tokens: rotating a domain changes one shingle.

Shingles are the words of three or more letters plus every pair of adjacent
words: pairs keep some word order, and leaving short words out of the single
ones keeps "u", "to" and "me" from making unrelated short texts look alike.
Each shingle is a stable 32-bit CRC, so signatures mean the same in every
process.

A text with fewer than ``min_tokens`` words, or fewer than ``min_distinct``
different ones ("ok", "lol lol lol lol lol"), gets no shingles and no exact
key: it can only join a campaign through a link key, never form one by its
text.

Shingles (for near-duplicates) are made only for texts with a link key
unless ``near_all``: a text without one still gets its exact key, so
word-for-word copies (after normalisation) still cluster, but the MinHash
signature and the LSH look-up and insert, about two thirds of the cost of an
ordinary message, are spent only where a campaign would lead somewhere.

Link keys group messages that share where they send the reader: the
registrable domain, except allow-listed popular sites (``allow``), which key
nothing; a URL shortener, a user-content host or a chat platform's link
host (``per_url``: t.me, wa.me, discord.gg, ...) keys the host and path
instead, since the domain is shared by everyone.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from hashlib import blake2b

import numpy as np

from spimguard.campaigns.minhash import Signature
from spimguard.links.extract import Link, extract_links
from spimguard.text.contacts import contact_details
from spimguard.text.normalize import NormalizedText

__all__ = ["PLATFORM_HOSTS", "Fingerprint", "Fingerprinter", "HostPredicate",
           "shipped_predicates"]

#: ``(registrable or host, public suffix) -> bool``.
HostPredicate = Callable[[str, str], bool]

_LINKISH_RE = re.compile(r"(?<!\S)\S*?\w[./:@]\w\S*")
_WORD_RE = re.compile(r"\w+")
_PLACEHOLDER = " lnk0 "
#: Multiplier combining two word hashes into a pair hash (odd, so no bits are lost).
_PAIR = 0x9E3779B1
#: Chat and link-in-bio platforms whose links are one user or group each:
#: grouped by URL, like shorteners (the shipped lists do not name them).
PLATFORM_HOSTS = frozenset({
    "t.me", "telegram.me", "telegram.dog", "wa.me", "chat.whatsapp.com", "m.me",
    "discord.gg", "discord.com", "signal.me", "matrix.to", "linktr.ee", "youtu.be",
})
_SAMPLE_CHARS = 280
_CACHE_SIZE = 4096
_CACHE_CHARS = 2048


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """One message, reduced for clustering; see the module docstring."""

    #: Words in the (cut) text, links excluded.
    words: int
    #: 32-bit shingle hashes (repeats possible); empty when the text is too short
    #: to cluster, or has no link key (unless ``near_all``).
    shingles: Signature
    #: Hash of the reduced text (links as placeholders, digits as 0); None if too short.
    exact: bytes | None
    #: Grouping keys: "d:<registrable>" or "u:<host/path>", at most ``max_links``.
    link_keys: tuple[str, ...]
    #: Registrable domains of every link, allow-listed ones included.
    domains: tuple[str, ...]
    #: The cleaned text, cut, for moderators.
    sample: str
    #: What the text gives a recipient to act on besides links (a phone number,
    #: a handle, an e-mail address; see :mod:`spimguard.text.contacts`).
    contacts: tuple[str, ...] = ()

    @property
    def payload(self) -> bool:
        """True when the message gives something to act on: an unknown link or a contact."""
        return bool(self.link_keys) or bool(self.contacts)

    @property
    def text_ok(self) -> bool:
        """True when the text is long enough to form a campaign by itself."""
        return self.exact is not None

    @property
    def near(self) -> bool:
        """True when the text can match near-duplicates (it has shingles)."""
        return len(self.shingles) > 0

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
        min_distinct: int = 3,
        allow: HostPredicate | None = None,
        per_url: HostPredicate | None = None,
        max_chars: int = 4096,
        max_words: int = 200,
        max_links: int = 10,
        near_all: bool = False,
    ) -> None:
        if allow is None or per_url is None:
            default_allow, default_per_url = shipped_predicates()
            allow = allow or default_allow
            per_url = per_url or default_per_url
        self.min_tokens = min_tokens
        self.min_distinct = min_distinct
        self.allow = allow
        self.per_url = per_url
        self.max_chars = max_chars
        self.max_words = max_words
        self.max_links = max_links
        self.near_all = near_all
        # Campaign copies are usually byte-identical: the last few thousand
        # short texts skip the whole reduction.
        self._cache: dict[tuple[str, str | None], Fingerprint] = {}

    def __call__(self, text: NormalizedText, html: str | None = None,
                 links: Sequence[Link] | None = None) -> Fingerprint:
        """Fingerprint a message; ``links`` are its already-extracted links, if the
        caller has them (the engine extracts once per message for every detector)."""
        key = (text.original, html)
        short = len(text.original) <= _CACHE_CHARS and (html is None or len(html) <= _CACHE_CHARS)
        if short:
            hit = self._cache.get(key)
            if hit is not None:
                return hit
        fp = self._make(text, html, links)
        if short:
            if len(self._cache) >= _CACHE_SIZE:
                del self._cache[next(iter(self._cache))]
            self._cache[key] = fp
        return fp

    def _make(self, text: NormalizedText, html: str | None,
              links: Sequence[Link] | None) -> Fingerprint:
        reduced, n_links = _LINKISH_RE.subn(_PLACEHOLDER, text.match[: self.max_chars])
        words = [w if not w.isdecimal() else "0"
                 for w in _WORD_RE.findall(reduced)[: self.max_words]]
        domains: tuple[str, ...] = ()
        keys: tuple[str, ...] = ()
        if links is not None:
            domains, keys = self._keys(links[: self.max_links])
        elif n_links or html:
            domains, keys = self._links(text.links[: self.max_chars], html)
        n_words = len(words) - words.count("lnk0")
        shingles = _EMPTY
        exact = None
        if n_words >= self.min_tokens and len(set(words)) >= self.min_distinct:
            if keys or self.near_all:
                shingles = _shingles(words, domains)
            exact = blake2b(" ".join(words).encode(), digest_size=8).digest()
        return Fingerprint(n_words, shingles, exact, keys, domains,
                           " ".join(text.clean[:_SAMPLE_CHARS].split()),
                           contact_details(text.match[: self.max_chars]))

    def _links(self, text: str, html: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return self._keys(extract_links(text, html, limit=self.max_links).links)

    def _keys(self, found: Sequence[Link]) -> tuple[tuple[str, ...], tuple[str, ...]]:
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
    # Plain Python ints: for ~20 words this beats numpy, whose fixed cost per
    # call (about 1 µs here) dominates arrays this small. Repeats are left in:
    # a MinHash signature ignores them.
    crc = zlib.crc32
    h = list(map(crc, map(str.encode, words)))
    out = [x for x, w in zip(h, words, strict=True) if len(w) > 2]
    out += [((a * _PAIR) & 0xFFFFFFFF) ^ b for a, b in zip(h, h[1:], strict=False)]
    out += [crc(b"\x01" + d.encode()) for d in domains]
    return np.array(out, dtype=np.uint32)


def shipped_predicates() -> tuple[HostPredicate, HostPredicate]:
    """``(allow, per_url)`` on the shipped allow, shortener and user-content lists."""
    from spimguard.links.shipped import build_analyzer  # loads list files: on first use only

    analyzer = build_analyzer(url_model=False)
    allowlist, shorteners, hosted = analyzer.allowlist, analyzer.shorteners, analyzer.user_content

    def allow(registrable: str, suffix: str) -> bool:
        return allowlist.match_host(registrable, suffix) is not None

    def per_url(host: str, suffix: str) -> bool:
        return (host in PLATFORM_HOSTS or shorteners.match_host(host, suffix) is not None
                or hosted.match_host(host, suffix) is not None)

    return allow, per_url
