"""Host names split by the Public Suffix List, offline.

``tldextract`` with its bundled snapshot of the list and no network
(``suffix_list_urls=()``; see shared/notes/stack.md: the default tries the
network on first use). Private suffixes are on, so ``evil.github.io`` and
``evil.blogspot.com`` are sites of their own, not subdomains of GitHub or
Blogger: an allow-list entry for ``github.io`` must never cover them.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache

import idna
import tldextract

__all__ = ["HostParts", "split_host", "to_ascii", "to_unicode"]

_EXTRACT = tldextract.TLDExtract(
    suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
)
#: Longest host name we parse (DNS allows 253).
MAX_HOST = 253


@dataclass(frozen=True, slots=True)
class HostParts:
    host: str            #: lower-case, Unicode form, no trailing dot
    subdomain: str       #: "" if none
    domain: str          #: the label left of the suffix ("paypal")
    suffix: str          #: public suffix ("com", "co.uk", "github.io"); "" if unknown
    registrable: str     #: domain + suffix ("paypal.com"); the host itself for IPs
    private_suffix: bool #: the suffix is a private one (a hosting platform)
    ip: bool             #: the host is an IP literal

    @property
    def depth(self) -> int:
        """Number of subdomain labels (``a.b.example.com`` -> 2)."""
        return self.subdomain.count(".") + 1 if self.subdomain else 0


def to_unicode(host: str) -> str:
    """Punycode labels decoded (``xn--80ak6aa92e.com`` -> ``аррӏе.com``); broken ones kept."""
    if "xn--" not in host:
        return host
    labels = []
    for label in host.split("."):
        if label.startswith("xn--"):
            try:
                label = idna.decode(label)
            except (idna.IDNAError, UnicodeError, ValueError):
                pass  # broken punycode stays as written; the host is still parsed
        labels.append(label)
    return ".".join(labels)


def to_ascii(host: str) -> str:
    """Punycode form of a Unicode host; labels that cannot be encoded are kept."""
    if host.isascii():
        return host
    labels = []
    for label in host.split("."):
        if not label.isascii():
            try:
                label = idna.encode(label, uts46=True).decode("ascii")
            except (idna.IDNAError, UnicodeError, ValueError):
                pass
        labels.append(label)
    return ".".join(labels)


def _is_ip(host: str) -> bool:
    if not host or not (host[0].isdigit() or ":" in host or host[0] == "["):
        return False  # skips ipaddress' exception path for every ordinary name
    h = host.strip("[]")
    try:
        ipaddress.ip_address(h)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=65_536)
def split_host(host: str) -> HostParts:
    """Split a host name; cached, since the same hosts recur across messages."""
    h = to_unicode(host.strip().rstrip(".").lower())[:MAX_HOST]
    if _is_ip(h):
        bare = h.strip("[]")
        return HostParts(bare, "", bare, "", bare, False, True)
    r = _EXTRACT(h)
    registrable = f"{r.domain}.{r.suffix}" if r.domain and r.suffix else h
    return HostParts(h, r.subdomain, r.domain, r.suffix, registrable, bool(r.is_private), False)
