"""Block and allow lists loaded from plain files, reloaded when the files change.

A list file has one entry a line: a domain (``evil.com``), a host on a shared
platform (``login-paypal.000webhostapp.com``), an IP (``192.0.2.7``) or a URL
(``http://evil.com/login``). ``#`` starts a comment. Bad lines are counted and
skipped, never fatal: an operator's typo must not switch protection off.

Matching a host walks up its labels: an entry matches the host itself and its
subdomains, never a parent (``a.evil.com`` does not block ``evil.com``), and
never stops at a public suffix alone, so a stray ``com`` line blocks nothing.

Memory: a million entries are a million short strings in one set; loading
reads each file once (see ``bench/bench_lists.py`` for the measured figures).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from spimguard.links.domains import to_unicode

__all__ = ["DomainList", "ListStats"]

log = logging.getLogger("spimguard.links.lists")

#: Longest list line read; longer lines are counted as bad.
MAX_ENTRY = 2048


@dataclass(slots=True)
class ListStats:
    entries: int = 0
    bad_lines: int = 0
    files: int = 0
    loaded_at: float = 0.0
    load_seconds: float = 0.0


def _normalise_url(url: str) -> str:
    u = url.strip().lower()
    for prefix in ("https://", "http://"):
        if u.startswith(prefix):
            u = u[len(prefix):]
            break
    return u.rstrip("/")


@dataclass
class DomainList:
    """A set of hosts, IPs and URLs from files, reloaded when a file changes."""

    paths: Sequence[Path] = ()
    name: str = "list"
    #: Minimum seconds between two checks of the files' modification times.
    check_every: float = 5.0
    hosts: set[str] = field(default_factory=set)
    urls: set[str] = field(default_factory=set)
    stats: ListStats = field(default_factory=ListStats)
    _signature: tuple[tuple[str, int, int], ...] = ()
    _checked_at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.paths = [Path(p) for p in self.paths]
        if self.paths:
            self.load()

    @classmethod
    def from_entries(cls, entries: Iterable[str], name: str = "list") -> DomainList:
        dl = cls(paths=(), name=name)
        dl._add_lines(entries, dl.hosts, dl.urls, dl.stats)
        return dl

    # -- loading -------------------------------------------------------------

    def _file_signature(self) -> tuple[tuple[str, int, int], ...]:
        sig = []
        for p in self.paths:
            try:
                st = os.stat(p)
                sig.append((str(p), st.st_mtime_ns, st.st_size))
            except OSError:
                sig.append((str(p), -1, -1))
        return tuple(sig)

    def load(self) -> None:
        """Read every file; a missing file is logged and counts as empty."""
        t0 = time.perf_counter()
        hosts: set[str] = set()
        urls: set[str] = set()
        stats = ListStats()
        for p in self.paths:
            try:
                with open(p, encoding="utf-8", errors="replace") as fh:
                    self._add_lines(fh, hosts, urls, stats)
                stats.files += 1
            except OSError as exc:
                log.warning("%s: cannot read %s: %s", self.name, p, exc.strerror)
        stats.loaded_at = time.time()
        stats.load_seconds = time.perf_counter() - t0
        with self._lock:
            self.hosts, self.urls, self.stats = hosts, urls, stats
            self._signature = self._file_signature()
            self._checked_at = time.monotonic()

    def reload_if_changed(self, force_check: bool = False) -> bool:
        """Reload when a file's mtime or size changed; cheap to call per message."""
        now = time.monotonic()
        if not self.paths or (not force_check and now - self._checked_at < self.check_every):
            return False
        self._checked_at = now
        if self._file_signature() == self._signature:
            return False
        self.load()
        log.info("%s reloaded: %d entries", self.name, self.stats.entries)
        return True

    @staticmethod
    def _add_lines(lines: Iterable[str], hosts: set[str], urls: set[str],
                   stats: ListStats) -> None:
        # The hot loop of a million-line load: string methods only, no regex,
        # no per-character Python loops (measured 1.9 s -> see bench/bench_lists.py).
        for raw in lines:
            line = raw.strip()
            if not line or line[0] == "#":
                continue
            if "#" in line:
                line = line.split("#", 1)[0].strip()
            if len(line) > MAX_ENTRY or " " in line or "\t" in line:
                stats.bad_lines += 1
                continue
            low = line.lower()
            if "/" in low:
                urls.add(_normalise_url(low))
                stats.entries += 1
                continue
            host = low.strip(".").strip("[]")
            if "xn--" in host:
                host = to_unicode(host)
            if "." not in host and not _is_ip(host):
                stats.bad_lines += 1
                continue
            hosts.add(host)
            stats.entries += 1

    # -- matching ------------------------------------------------------------

    def match_host(self, host: str, stop_at: str = "") -> str | None:
        """The entry matching ``host`` or one of its parents, if any.

        ``stop_at`` is the host's public suffix: walking up never reaches it.
        """
        hosts = self.hosts
        if host in hosts:
            return host
        h = host
        while True:
            dot = h.find(".")
            if dot < 0:
                return None
            h = h[dot + 1:]
            if not h or h == stop_at or "." not in h:
                return None
            if h in hosts:
                return h

    def match_url(self, host: str, path: str) -> str | None:
        if not self.urls:
            return None
        key = (host + path).rstrip("/")
        return key if key in self.urls else None

    def __len__(self) -> int:
        return len(self.hosts) + len(self.urls)


def _is_ip(s: str) -> bool:
    try:
        ipaddress.ip_address(s)
    except ValueError:
        return False
    return True
