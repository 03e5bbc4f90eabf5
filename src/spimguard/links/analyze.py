"""Per-link analysis: every finding about one link, shared by the detector and ``spimguard urls``.

The analyser only reports findings (signal name, strength, detail); the
links detector aggregates them per message and the policy weighs them.
Order of trust: a block-list hit is final evidence; an allow-listed link
(popular, not user-content hosting) is only analysed for tricks the allow
list cannot vouch for (text/target mismatch).
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from spimguard.links.domains import HostParts, split_host
from spimguard.links.lists import DomainList
from spimguard.links.lookalike import LookalikeIndex, skeleton

__all__ = ["Finding", "LinkAnalyzer", "LinkLike", "LinkReport", "UrlScorer"]

#: Words that ask for credentials or money; matched as whole words of host or path.
LURE_WORDS = frozenset({
    "login", "logon", "signin", "sign-in", "verify", "verification", "validate", "password",
    "passwd", "account", "accounts", "wallet", "secure", "security", "update", "confirm",
    "unlock", "suspended", "billing", "banking", "webscr", "auth", "authenticate", "2fa",
    "recover", "recovery", "seed", "seedphrase", "restore", "claim", "airdrop", "support",
    "helpdesk", "invoice", "payment", "refund", "kyc", "otp", "reset",
})
SCORE_CACHE_MAX = 100_000
_WORDS = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_URLISH = re.compile(r"(?:[a-z0-9-]+\.)+[a-z]{2,}")


class LinkLike(Protocol):
    """What the analyser needs of an extracted link (see ``links.extract.Link``)."""

    @property
    def host(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def ip(self) -> bool: ...
    @property
    def parts(self) -> HostParts: ...
    @property
    def shown_text(self) -> str | None: ...


class UrlScorer(Protocol):
    def score(self, host: str, path: str) -> float: ...


class TldRater(Protocol):
    def __call__(self, suffix: str) -> tuple[float, str] | None:
        """(strength 0..1, readable detail) for a risky suffix, None otherwise."""


@dataclass(frozen=True, slots=True)
class Finding:
    name: str
    strength: float
    detail: str


@dataclass(slots=True)
class LinkReport:
    host: str
    registrable: str
    findings: list[Finding] = field(default_factory=list)

    def add(self, name: str, strength: float, detail: str) -> None:
        self.findings.append(Finding(name, strength, detail))

    def has(self, name: str) -> bool:
        return any(f.name == name for f in self.findings)


def _scripts(label: str) -> set[str]:
    out = set()
    for ch in label:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            out.add(name.split(" ", 1)[0] if name else "UNKNOWN")
    return out


@dataclass
class LinkAnalyzer:
    blocklist: DomainList
    allowlist: DomainList
    shorteners: DomainList
    user_content: DomainList
    lookalikes: LookalikeIndex
    url_model: UrlScorer | None = None
    tld_risk: TldRater | None = None
    #: URL model probability from which URL_MODEL fires: 0.85 is about 1% of
    #: benign hosts in the time-split evaluation (README, "Links"); the score
    #: assumes even odds, so 0.5 would flag far too many ordinary sites.
    model_from: float = 0.85
    _scores: dict[str, float] = field(default_factory=dict, repr=False)

    def reload(self) -> None:
        for lst in (self.blocklist, self.allowlist):
            lst.reload_if_changed()

    def analyze(self, link: LinkLike) -> LinkReport:
        p = link.parts
        rep = LinkReport(p.host, p.registrable)
        hit = self.blocklist.match_host(p.host, p.suffix) or self.blocklist.match_url(
            p.host, link.path)
        if hit is not None:
            rep.add("URL_BLOCKLISTED", 1.0, f"{p.host} is on the block list ({hit})")
        hosted = self.user_content.match_host(p.host, p.suffix) is not None or p.private_suffix
        allowed = (not hosted and not link.ip
                   and self.allowlist.match_host(p.registrable, p.suffix) is not None)
        self._mismatch(link, rep)
        if allowed:
            rep.add("URL_ALLOWLISTED", 1.0, f"{p.registrable} is a well-known site")
            return rep
        if self.shorteners.match_host(p.host, p.suffix) is not None:
            rep.add("URL_SHORTENER", 1.0, f"{p.host} hides the destination (URL shortener)")
        private = link.ip and _private_ip(p.host)
        if link.ip and not private:
            rep.add("IP_LITERAL_URL", 1.0, f"link to a bare IP address {p.host}")
        self._script(p, rep)
        look = self.lookalikes.check(p)
        if look is not None:
            rep.add("LOOKALIKE_DOMAIN", look.strength, look.detail)
        self._lure(link, rep)
        if self.tld_risk is not None and p.suffix:
            risk = self.tld_risk(p.suffix)
            if risk is not None:
                rep.add("RISKY_TLD", risk[0], risk[1])
        if self.url_model is not None and hit is None and not private:
            prob = self._model_score(p.host)
            if prob >= self.model_from:
                strength = (prob - self.model_from) / (1.0 - self.model_from)
                rep.add("URL_MODEL", strength, f"URL model p={prob:.2f} for {p.host}")
        return rep

    def _model_score(self, host: str) -> float:
        """URL model score per host, remembered: the model reads only the host,
        and campaigns send the same host again and again."""
        cached = self._scores.get(host)
        if cached is None:
            assert self.url_model is not None
            cached = self.url_model.score(host, "")
            if len(self._scores) >= SCORE_CACHE_MAX:
                self._scores.clear()
            self._scores[host] = cached
        return cached

    def analyze_all(self, links: Iterable[LinkLike]) -> list[LinkReport]:
        return [self.analyze(link) for link in links]

    # -- individual checks ---------------------------------------------------

    def _script(self, p: HostParts, rep: LinkReport) -> None:
        if p.host.isascii():
            return
        for label in p.host.split("."):
            if label.isascii():
                continue
            scripts = _scripts(label)
            if len(scripts) > 1:
                rep.add("MIXED_SCRIPT_DOMAIN", 1.0,
                        f"{p.host}: label '{label}' mixes {' and '.join(sorted(scripts)).lower()}"
                        " letters")
                return
            read = skeleton(label)
            if read.isascii() and read != label:
                rep.add("MIXED_SCRIPT_DOMAIN", 1.0,
                        f"{p.host}: '{label}' is {next(iter(scripts)).lower()} letters that "
                        f"look Latin ('{read}')")
                return

    def _lure(self, link: LinkLike, rep: LinkReport) -> None:
        text = (link.parts.subdomain + "." + link.parts.domain + " " + link.path[:512]).lower()
        found = sorted({w for w in _WORDS.findall(text) for w in w.split("-")} & LURE_WORDS)
        if found:
            rep.add("CREDENTIAL_LURE", min(1.0, 0.5 * len(found)),
                    f"{link.host}: asks for credentials or money ({', '.join(found[:4])})")

    def _mismatch(self, link: LinkLike, rep: LinkReport) -> None:
        shown = (link.shown_text or "").strip().lower()
        if not shown:
            return
        m = _URLISH.search(shown)
        if m is None:
            return
        shown_parts = split_host(m.group())
        if shown_parts.suffix and shown_parts.registrable != link.parts.registrable:
            rep.add("LINK_TEXT_MISMATCH", 1.0,
                    f"the link shows {shown_parts.registrable} but goes to {link.parts.host}")


def _private_ip(host: str) -> bool:
    """A private, loopback or link-local address ("192.168.0.1:8080" in a tech chat).

    Such a host is reachable only inside the reader's own network, so it cannot
    serve a phishing page to strangers; people paste them when they talk about
    their servers and routers. Lure words in the path still count.
    """
    try:
        addr = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return addr.is_loopback or addr.is_link_local or any(addr in net for net in _LOCAL_NETS)


#: RFC 1918 and IPv6 unique-local networks (not ``is_private``, which also
#: covers documentation and other reserved ranges that a page can be served from
#: in tests and that attackers' examples use).
_LOCAL_NETS = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"))
