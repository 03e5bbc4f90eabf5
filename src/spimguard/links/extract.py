"""Find the links in a message, cheaply, and never be tricked into a long scan.

Runs on every message. A message without a link costs one C-level scan for an
anchor (a dot or colon inside a word); only the tokens around anchors reach
the full scanner, whose quantifiers are all possessive or bounded, so no input
makes it backtrack. Work is bounded too: the first ``MAX_SCAN`` characters of
text, ``MAX_HTML`` of HTML, ``limit`` links, ``MAX_URL`` characters per URL,
``MAX_CANDIDATES`` host-like words; ``truncated`` says when a bound was hit.

What counts as a link, decided so that ordinary chat stays link-free:

* A URL with a web scheme (http, https, ftp, ftps, sftp, ws, wss). Its host
  is whatever a browser would open: the part after the last ``@``
  (``http://paypal.com@evil.com/`` goes to evil.com), percent-decoded, and a
  numeric last label makes it IPv4 the WHATWG way, so ``http://3232235777/``,
  ``http://0xC0A80001/`` and ``http://0300.0250.0.1/`` are all 192.168.0.1.
  A host a browser would refuse (``http://1.2.3.999/``, a label over 63 or a
  name over 253 characters) is no link, and neither is a one-label name
  ("http://wap. example.com" is a typo; "http://localhost" an intranet). An
  invalid port leaves ``port=None`` and keeps the link: the host is what
  detectors judge. A web scheme glued to the word before it
  ("wifihttps://x.com") is still read as that scheme.
* A bare host ("evil.com", "login.evil.co.uk/x?y=1", "www.evil.so"): its
  last label must be a public suffix and the name must have a label before
  it. Most suffixes are also words or file types ("ok.so", "readme.md",
  "script.py", "hello.world", "x.zip"), so a bare host also needs one of: a
  path, query, fragment or port ("ok.so/x" is taken); a ``www.`` prefix; a
  Markdown link around it; or a last label in ``_COMMON_TLDS``, the TLDs that
  spam uses and chat does not spell (no "so", "me", "to", "in", "it", "us").
  Labels of digits only are never a bare host, except a dotted-decimal IPv4
  with a path or port ("1.2.3.4/x"; "1.2.3.4" alone reads as a version).
  A bare host right after ``@`` or ``:``, or right before ``@``, is an email
  address or a Matrix ID ("@bob:evil.com"), not a link.
* Markdown ``[shown](url)`` and HTML ``<a href>`` links keep their shown text.
  A link found in both the HTML and the plain body of one message (Matrix
  sends both) is reported once, from the HTML. Within one source, repeats of
  the same URL with the same shown text are reported once.

Trailing punctuation is not part of a URL ("(see evil.com/x).") unless it
closes a bracket opened inside it ("/wiki/Foo_(bar)").

``javascript:``, ``vbscript:``, ``data:``, ``file:``, ``blob:`` and any
non-web ``scheme://`` (and, in HTML, any href scheme other than the web ones
and mailto/tel/sms/matrix/xmpp/geo) are reported in ``odd_schemes``, never as
links. URLs inside the query, fragment or path of a link (redirectors:
``https://t.co/r?u=https%3A%2F%2Fevil.com``) are reported in ``nested``,
percent-decoded, at most three levels deep.

Cost (``bench/bench_extract.py``, SMS texts, medians on a slow shared 2-core
machine): 0.7 µs without a link, 13-20 µs with one, 35-50 µs with three. A
host never seen before costs ~15-30 µs more (Public Suffix lookup, IDNA), so
hosts and whole Links are cached: campaigns repeat them.

Blind spots: a bare host glued to a following word by a dot is found only if
dropping the last label leaves a host ("evil.com.click" -> evil.com); the
userinfo trick without a scheme ("paypal.com@evil.com/x") reads as an email
address; a host right after a colon ("link:evil.com") is missed; hosts in
scripts whose letters need combining marks (Thai, Devanagari) are cut short.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser
from urllib.parse import unquote

from spimguard.links.domains import MAX_HOST, HostParts, split_host, to_ascii, to_unicode

__all__ = ["MAX_HTML", "MAX_SCAN", "MAX_URL", "Extraction", "Link", "extract_links"]

#: Characters of ``text`` scanned; the rest is ignored (``truncated``).
MAX_SCAN = 65_536
#: Characters of ``html`` parsed, the rest ignored (``truncated``): a whole Matrix event
#: is at most 64 KiB, and ``html.parser`` is slow on hostile markup.
MAX_HTML = 65_536
#: Longest URL kept; longer ones are cut (``truncated``).
MAX_URL = 4_096
#: Host-like words examined before giving up (``truncated``): caps the work on
#: a message of thousands of "a.b" words.
MAX_CANDIDATES = 2_000
_MAX_SHOWN = 512
_MAX_NESTED_DEPTH = 3

_WEB_SCHEMES = frozenset({"http", "https", "ftp", "ftps", "sftp", "ws", "wss"})
# A web scheme glued to the word before it ("wifihttps://x.com"): the reader still
# sees the link, and so does a linkifier.
_GLUED = ("https", "http", "ftp")
# Href schemes that open an app, not a page: neither links nor odd.
_APP_SCHEMES = frozenset({"mailto", "tel", "sms", "matrix", "xmpp", "geo", "callto"})
# TLDs that let a bare host through without a path: common in links, rare as the
# word after a dot in chat. Deliberately absent: words that start a sentence glued to
# the last ("news.by the way", "so", "me", "to", "in", "it", "at", "no", "go", "shop",
# "club", "bet"), kisses ("soon.xxx"), and file types ("md", "py", "sh", "zip").
_COMMON_TLDS = frozenset(
    "com net org info biz edu gov mil int ru su uk co io xyz top tk ml ga cf gq cn de fr nl eu "
    "ly gl cc ws pw ua kz pl br jp kr ca au es ch se fi dk cz sk hu ro bg gr pt ie tr ir vn th "
    "ph sg hk tw nz za mx ar cl pe ve icu mobi ai tv gg ee lt lv online site vip buzz cyou sbs "
    "cfd рф".split()
)

# One label: letters/digits, inner runs of "-" or "_" (underscores are rejected later
# for bare hosts); possessive, so a failed match never backtracks.
_LABEL = r"[^\W_]++(?:[-_]++[^\W_]++)*+"
_URL_CHARS = r'[^\s<>"]*+'
# Candidates inside one token. The scheme and bare-host branches are anchored by
# look-behinds; nothing can backtrack, but ``re`` still pays ~30-170 ns a position,
# so this runs only over tokens that hold an anchor (below), never the whole text.
_SCAN_RE = re.compile(
    rf"(?<![\w+.-])(?P<scheme>[A-Za-z][A-Za-z0-9+.-]{{0,15}}+)://(?P<rest>{_URL_CHARS})"
    r"|(?<![\w+.-])(?P<odd>(?i:javascript|vbscript|livescript|blob|view-source|intent)(?=:\S)"
    rf"|(?i:file)(?=:/)|(?i:data)(?=:(?:[\w.+-]*+/|[,;]))):{_URL_CHARS}"
    rf"|(?<![\w.@/%+:\\-])(?P<host>{_LABEL}(?:\.{_LABEL})++)"
    rf"(?P<tail>(?::[0-9]++)?(?:[/?#]{_URL_CHARS})?)"
)
# Every link holds a dot or colon between a word character and more of the link.
# The pattern starts with a class, so ``re`` looks for it in C: this scan is the
# whole cost of a message without links (~1 µs per 100 characters).
_ANCHOR_RE = re.compile(r"[.:](?<=\w[.:])(?=[^\s.:])")
_MD_RE = re.compile(rf"\[([^\[\]\n]{{0,{_MAX_SHOWN}}}+)\]\(")
_SPACE_RE = re.compile(r"\s")
# A "<" with no ">" before the next "<" is no tag; escaped, it cannot send
# ``html.parser`` into its quadratic rescans ("<a href=" * 20000 took 47 s).
_LONE_LT_RE = re.compile(r"<(?![^<>]*+>)")
# How far before an anchor a candidate can start: a scheme, or a host's first label.
_LOOKBACK = 80
_AUTHORITY_END_RE = re.compile(r"[/?#\\]")
_HOST_RE = re.compile(r"[\w-]++(?:\.[\w-]++)*+")
_HREF_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]{0,31}):")
_EMBED_HINT_RE = re.compile(r"(?:https?|ftp)(?::|%3a|%253a)|www\.", re.IGNORECASE)
_EMBEDDED_RE = re.compile(
    r"(?:https?|ftp)://[^\s<>\"]++|www\.[^\W_][\w-]*+\.[^\s<>\"]++", re.IGNORECASE
)
_TRAILING = frozenset(".,;:!?'\"*_~…»”’)]}")
_OPENERS = {")": "(", "]": "[", "}": "{"}


@dataclass(frozen=True, slots=True)
class Link:
    """One link as a reader's browser would open it."""

    url: str  #: as found, with "http://" prefixed when no scheme was written
    scheme: str  #: lower-case; "http" for bare hosts
    host: str  #: lower-case Unicode form, no trailing dot, IPv6 without brackets
    host_ascii: str  #: punycode form (labels that cannot be encoded are kept as is)
    port: int | None  #: None when absent or invalid
    path: str  #: path + ?query + #fragment, "" if none
    bare: bool  #: written without a scheme
    ip: bool  #: the host is an IP literal (obfuscated IPv4 is converted to dotted form)
    parts: HostParts  #: ``split_host(host)``
    shown_text: str | None = None  #: the visible text of a Markdown or HTML link
    source: str = "text"  #: "text", "html" or "markdown"


@dataclass(frozen=True, slots=True)
class Extraction:
    """Every link of one message, plus what detectors need to judge the rest."""

    links: tuple[Link, ...]
    truncated: bool  #: a bound was hit: more links than ``limit``, or input too long
    odd_schemes: tuple[str, ...]  #: "javascript", "data", ... in order of appearance
    nested: tuple[str, ...]  #: URLs inside other links' query strings, percent-decoded


_EMPTY = Extraction((), False, (), ())


def _strip_trailing(span: str) -> str:
    """Drop trailing punctuation, keeping closers that balance an opener inside."""
    end = len(span)
    if end == 0 or span[-1] not in _TRAILING:
        return span
    balance = {c: span.count(o) - span.count(c) for c, o in _OPENERS.items()}
    while end:
        char = span[end - 1]
        if char in _OPENERS:
            if balance[char] >= 0:
                break
            balance[char] += 1
        elif char not in _TRAILING:
            break
        end -= 1
    return span[:end]


def _cut_markdown(span: str) -> str:
    """End a Markdown target at the ``)`` that closes it ("[a](x.com/b)c" -> "x.com/b")."""
    depth = 0
    for index, char in enumerate(span):
        if char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                return span[:index]
            depth -= 1
    return span


def _ipv4_number(part: str) -> int | None:
    if part[:2] == "0x":
        digits, base = part[2:], 16
    elif len(part) > 1 and part[0] == "0":
        digits, base = part[1:], 8
    else:
        digits, base = part, 10
    digits = digits.lstrip("0") or "0"
    if len(digits) > 12 or not digits.isascii():
        return None
    try:
        return int(digits, base)
    except ValueError:
        return None


def _ipv4(host: str) -> str | None:
    """Parse an IPv4 host the WHATWG way (decimal, hex, octal, 1 to 4 parts)."""
    parts = host.split(".")
    if len(parts) > 4:
        return None
    numbers = [_ipv4_number(part) for part in parts if part]
    if len(numbers) != len(parts) or any(n is None for n in numbers):
        return None
    *head, last = [n for n in numbers if n is not None]
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        return None
    value = last
    for index, n in enumerate(head):
        value += n << (8 * (3 - index))
    return str(ipaddress.IPv4Address(value))


def _numeric_label(label: str) -> bool:
    if label.isascii() and label.isdigit():
        return True
    return label[:2] == "0x" and all(c in "0123456789abcdef" for c in label[2:])


@lru_cache(maxsize=16_384)
def _host_info(raw: str, bracketed: bool) -> tuple[str, str, bool, HostParts] | None:
    """(host, host_ascii, ip, parts) for a host as written, or None if no browser would open it.

    Cached: the same hosts recur across messages and this is most of a link's cost.
    """
    if bracketed:
        try:
            v6 = ipaddress.IPv6Address(raw)
        except ValueError:
            return None
        host = v6.compressed
        return host, host, True, split_host(host)
    if "%" in raw:
        raw = unquote(raw)
    if not raw.isascii():
        raw = unicodedata.normalize("NFKC", raw).replace("\u3002", ".")
    host = raw.lower().rstrip(".")
    if not host or len(host) > MAX_HOST or _HOST_RE.fullmatch(host) is None:
        return None  # checked before decoding: punycode decoding is quadratic
    if any(len(label) > 63 for label in host.split(".")):
        return None
    if _numeric_label(host.rpartition(".")[2]):
        dotted = _ipv4(host)
        if dotted is None:
            return None
        return dotted, dotted, True, split_host(dotted)
    if "." not in host:
        return None  # "http://wap. example.com": a one-label host is a typo or an intranet
    host = to_unicode(host)
    ascii_host = to_ascii(host)
    if len(ascii_host) > MAX_HOST or any(len(label) > 63 for label in ascii_host.split(".")):
        return None
    return host, ascii_host, False, split_host(host)


@lru_cache(maxsize=4_096)
def _make(
    url: str, scheme: str, rest: str, bare: bool, shown: str | None, source: str
) -> Link | None:
    """Build a Link from ``rest``, the URL after "scheme://" (or the whole bare URL).

    Cached: campaigns repeat the same URL, and building a frozen dataclass is a
    good part of a link's cost. Links are immutable, so sharing them is safe.
    """
    rest = rest.lstrip("/\\")  # browsers read "http:///evil.com" as http://evil.com
    found = _AUTHORITY_END_RE.search(rest)
    if found is None and len(url) >= MAX_URL:
        return None  # cut at MAX_URL inside the host: what is left is not the host
    cut = found.start() if found is not None else len(rest)
    authority, path = rest[:cut], rest[cut:]
    hostport = authority.rpartition("@")[2]
    bracketed = hostport.startswith("[")
    if bracketed:
        close = hostport.find("]")
        if close < 0 or (close + 1 < len(hostport) and hostport[close + 1] != ":"):
            return None
        host, port_text = hostport[1:close], hostport[close + 2 :]
    else:
        host, _, port_text = hostport.partition(":")
    info = _host_info(host, bracketed)
    if info is None:
        return None
    port = None
    if port_text.isascii() and port_text.isdigit() and len(port_text) <= 5:
        port = int(port_text) if int(port_text) <= 65_535 else None
    host, host_ascii, ip, parts = info
    return Link(url, scheme, host, host_ascii, port, path, bare, ip, parts, shown, source)


def _bare_host_ok(host: str, has_tail: bool, explicit: bool) -> bool:
    """The rules for a host written without a scheme; see the module docstring."""
    labels = host.split(".")
    if len(host) > MAX_HOST or any(len(label) > 63 for label in labels):
        return False
    last = labels[-1]
    if last.isdigit():
        return (
            (has_tail or explicit)
            and len(labels) == 4
            and all(lab.isascii() and lab.isdigit() and int(lab[:3]) <= 255 for lab in labels)
            and all(len(lab) <= 3 for lab in labels)
        )
    if "_" in host or any(c.isdigit() for c in last) and not last.startswith("xn--"):
        return False
    tld = to_unicode(last) if last.startswith("xn--") else last
    if not (has_tail or explicit or tld in _COMMON_TLDS or labels[0] == "www"):
        return False
    parts = split_host(host)
    return bool(parts.suffix and parts.domain)


def _bare(match: re.Match[str], text: str, shown: str | None) -> tuple[Link | None, bool]:
    """A Link from a bare-host match, and whether the URL was cut at ``MAX_URL``."""
    host, tail = match.group("host"), match.group("tail")
    end = match.end()
    if end < len(text) and text[end] == "@" and not tail:
        return None, False  # the local part of an email address
    if shown is not None:
        tail = _cut_markdown(tail)
    tail = _strip_trailing(tail)
    explicit = shown is not None
    host = host.lower()
    if not _bare_host_ok(host, bool(tail), explicit):
        head = host.rpartition(".")[0]  # "evil.com.click": a sentence glued on
        if tail or "." not in head or not _bare_host_ok(head, False, explicit):
            return None, False
        host = head
    span = host + tail
    cut = len(span) > MAX_URL
    span = span[:MAX_URL]
    source = "text" if shown is None else "markdown"
    return _make("http://" + span, "http", span, True, shown, source), cut


def _nested(path: str, depth: int, out: list[str], limit: int) -> None:
    """Collect URLs embedded in ``path`` (query values, fragment, archive-style paths)."""
    if depth > _MAX_NESTED_DEPTH or len(out) >= limit or _EMBED_HINT_RE.search(path) is None:
        return
    base, _, query = path.partition("?")
    query, _, fragment = query.partition("#")
    for value in (base, fragment, *query.split("&")):
        for _ in range(3):
            if "%" not in value:
                break
            value = unquote(value)
        found = _EMBEDDED_RE.search(value)
        if found is None:
            continue
        url = _strip_trailing(found.group())[:MAX_URL]
        if url in out:
            continue
        out.append(url)
        if len(out) >= limit:
            return
        after = url.partition("://")[2] or url
        sep = _AUTHORITY_END_RE.search(after)
        if sep is not None:
            _nested(after[sep.start() :], depth + 1, out, limit)


class _Anchors(HTMLParser):
    """Collects ``(href, shown text)`` of every ``<a>``; tolerant of broken markup."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []
        self._size = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "a":
            return
        self.flush()
        for name, value in attrs:
            if name == "href" and value is not None:
                self._href = value
                break

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self.flush()

    def handle_data(self, data: str) -> None:
        if self._href is not None and self._size < _MAX_SHOWN:
            self._text.append(data)
            self._size += len(data)

    def flush(self) -> None:
        if self._href is not None:
            shown = " ".join("".join(self._text).split())[:_MAX_SHOWN]
            self.found.append((self._href, shown))
        self._href, self._text, self._size = None, [], 0


def _html_anchors(html: str) -> list[tuple[str, str]]:
    parser = _Anchors()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # hostile markup can trip the parser; keep what it found
        pass
    parser.flush()
    return parser.found


class _Collector:
    """Accumulates links under the bounds; one per call of :func:`extract_links`."""

    __slots__ = ("html_urls", "limit", "links", "nested", "odd", "seen", "truncated")

    def __init__(self, limit: int) -> None:
        self.limit = max(limit, 0)
        self.links: list[Link] = []
        self.seen: set[tuple[str, str | None]] = set()
        self.html_urls: set[str] = set()
        self.odd: list[str] = []
        self.nested: list[str] = []
        self.truncated = False

    @property
    def full(self) -> bool:
        return self.truncated and len(self.links) >= self.limit

    def add(self, link: Link | None) -> None:
        if link is None:
            return
        key = (link.url, link.shown_text)
        if key in self.seen or (link.source != "html" and link.url.lower() in self.html_urls):
            return
        if len(self.links) >= self.limit:
            self.truncated = True
            return
        self.seen.add(key)
        if link.source == "html":
            self.html_urls.add(link.url.lower())
        self.links.append(link)
        if link.path:
            _nested(link.path, 1, self.nested, self.limit)

    def add_odd(self, scheme: str) -> None:
        if scheme not in self.odd:
            if len(self.odd) >= self.limit:
                self.truncated = True
                return
            self.odd.append(scheme)

    def result(self) -> Extraction:
        return Extraction(tuple(self.links), self.truncated, tuple(self.odd), tuple(self.nested))


def _scan_html(html: str, out: _Collector) -> None:
    if len(html) > MAX_HTML:
        html, out.truncated = html[:MAX_HTML], True
    if "href" not in html.lower():
        return
    for href, shown in _html_anchors(_LONE_LT_RE.sub("&lt;", html)):
        if out.full:
            return
        href = href.strip("\x00\t\n\f\r ").replace("\t", "").replace("\n", "").replace("\r", "")
        if len(href) > MAX_URL:
            href, out.truncated = href[:MAX_URL], True
        found = _HREF_SCHEME_RE.match(href)
        if found is None:
            if href.startswith(("//", "\\\\")):  # protocol-relative
                out.add(_make("http:" + href, "http", href, True, shown, "html"))
            continue  # relative: points back into the client, not out
        scheme = found.group(1).lower()
        if scheme in _WEB_SCHEMES:
            rest = href[found.end() :]
            out.add(_make(href, scheme, rest, False, shown, "html"))
        elif scheme not in _APP_SCHEMES:
            out.add_odd(scheme)


def _markdown_targets(text: str, end: int) -> list[tuple[int, re.Match[str], str]]:
    """``(start, target match, shown text)`` of each ``[shown](target)``, in order."""
    found: list[tuple[int, re.Match[str], str]] = []
    for opener in _MD_RE.finditer(text, 0, end):
        target = _SCAN_RE.match(text, opener.end(), end)
        if target is not None:
            found.append((opener.start(), target, opener.group(1)))
            if len(found) > MAX_CANDIDATES:
                break
    return found


def _candidates(text: str) -> Iterator[tuple[re.Match[str], str | None]]:
    """Candidate matches in order, each with its Markdown shown text (or None).

    Only the token (run of non-space) around each anchor is given to
    ``_SCAN_RE``; a Markdown link is read whole, since its shown text may hold
    spaces, and the tokens scan stops short of it.
    """
    end_all = min(len(text), MAX_SCAN)
    markdown = _markdown_targets(text, end_all) if "](" in text else []
    # normalize() leaves only " "; raw text may also split tokens with these.
    other_spaces = "\n" in text or "\t" in text
    index, pos = 0, 0
    while pos < end_all:
        next_md = markdown[index][0] if index < len(markdown) else end_all
        anchor = _ANCHOR_RE.search(text, pos, next_md)
        if anchor is None:
            if index >= len(markdown):
                return
            _, target, shown = markdown[index]
            yield target, shown
            pos = target.end()
            while index < len(markdown) and markdown[index][0] < pos:
                index += 1
            continue
        at = anchor.start()
        space = _SPACE_RE.search(text, at, next_md)
        end = space.start() if space is not None else next_md
        floor = max(pos, at - _LOOKBACK)
        start = max(floor, text.rfind(" ", floor, at) + 1)
        if other_spaces:
            start = max(start, text.rfind("\n", floor, at) + 1, text.rfind("\t", floor, at) + 1)
        for match in _SCAN_RE.finditer(text, start, end):
            yield match, None
        pos = end


def _scan_text(text: str, out: _Collector) -> None:
    for count, (match, shown) in enumerate(_candidates(text)):
        if count >= MAX_CANDIDATES:
            out.truncated = True
            return
        written = match.group("scheme")
        if written is not None:
            scheme = written.lower()
            if scheme not in _WEB_SCHEMES:
                glued = next((web for web in _GLUED if scheme.endswith(web)), None)
                if glued is None:
                    out.add_odd(scheme)
                    continue
                scheme, written = glued, written[-len(glued) :]
            rest = match.group("rest")
            rest = _cut_markdown(rest) if shown is not None else rest
            span = _strip_trailing(written + "://" + rest)
            rest = span[len(scheme) + 3 :]
            if len(span) > MAX_URL:
                out.truncated = True
                span, rest = span[:MAX_URL], rest[: MAX_URL - len(scheme) - 3]
            source = "text" if shown is None else "markdown"
            out.add(_make(span, scheme, rest, False, shown, source))
        elif match.group("odd") is not None:
            out.add_odd(match.group("odd").lower())
        else:
            link, cut = _bare(match, text, shown)
            out.truncated |= cut
            out.add(link)
        if out.full:
            return


def extract_links(text: str, html: str | None = None, limit: int = 50) -> Extraction:
    """Every link in a message, in order: those of ``html`` first, then those of ``text``.

    ``text`` should be ``normalize(...).links`` (defanged links restored,
    look-alike letters kept); ``html`` is an optional HTML body such as
    Matrix's ``formatted_body``. Never raises on any ``str`` input, and does
    bounded work whatever the input; see the module docstring.
    """
    if html is None and len(text) <= MAX_SCAN and _ANCHOR_RE.search(text) is None:
        return _EMPTY
    out = _Collector(limit)
    if html:
        _scan_html(html, out)
    if len(text) > MAX_SCAN:
        out.truncated = True
    if not out.full:
        _scan_text(text, out)
    if not out.links and not out.odd and not out.truncated:
        return _EMPTY
    return out.result()
