"""Links: where a message wants its reader to go.

Spim exists to make people click, so a link is the strongest single clue in
a message. Each link is analysed (``spimguard.links.analyze``); per signal the
strongest finding across the message's links is kept, and its detail names
the host. Work is capped (``max_links``), and the cap is itself reported.

Blind spots: a brand-new phishing domain with an innocent name, on an
ordinary suffix, with no lure words, gets only the URL model's opinion;
content behind a shortener is not followed (nothing is fetched, ever).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from spimguard.core.context import MessageContext
from spimguard.core.signals import Abstain, Hit, SignalSpec
from spimguard.detectors.base import DetectorBase
from spimguard.detectors.shared import ALL_LINKS_WELL_KNOWN, message_links
from spimguard.links.analyze import LinkAnalyzer, LinkReport
from spimguard.links.extract import extract_links
from spimguard.links.shipped import build_analyzer

__all__ = ["LinksDetector"]


class LinksDetector(DetectorBase):
    name = "links"
    signals = (
        SignalSpec("URL_BLOCKLISTED", 12.0, "A link's domain, URL or IP is on a block list."),
        SignalSpec("URL_ALLOWLISTED", -1.0, "Every link goes to a well-known site (never "
                   "credited for user-content hosting such as sites.google.com or *.web.app)."),
        SignalSpec("LOOKALIKE_DOMAIN", 8.0, "A link's domain imitates a brand or a popular "
                   "site: homoglyphs (аррӏе.com), typos (paypall.com), combos "
                   "(paypal-secure.web.app) or a brand domain as subdomain "
                   "(paypal.com.account-verify.xyz)."),
        SignalSpec("MIXED_SCRIPT_DOMAIN", 6.0, "A link's host mixes scripts or is written in "
                   "letters of another script that look Latin."),
        SignalSpec("URL_SHORTENER", 1.5, "A link goes through a URL shortener, hiding where "
                   "it leads."),
        SignalSpec("IP_LITERAL_URL", 3.0, "A link points at a bare IP address."),
        SignalSpec("CREDENTIAL_LURE", 2.5, "A link's host or path asks for credentials or "
                   "money (login, verify, password, wallet, ...); 0.5 per word, up to 1."),
        SignalSpec("LINK_TEXT_MISMATCH", 5.0, "A markup link shows one domain and goes to "
                   "another."),
        SignalSpec("RISKY_TLD", 2.0, "A link's suffix is mostly used for phishing in the "
                   "training data (rates learned, not a hand list)."),
        SignalSpec("URL_MODEL", 5.0, "The lexical URL model finds a link's host "
                   "phishing-like (strength 0 at p=0.85, about 1% of benign hosts, to 1 at "
                   "p=1); never for allow-listed or block-listed links."),
        SignalSpec("ODD_SCHEME_LINK", 3.0, "A javascript:, data: or similar link."),
        SignalSpec("LINKS_CAPPED", 1.0, "More links than the detector analyses; the rest "
                   "were skipped."),
    )

    def __init__(self, analyzer: LinkAnalyzer, max_links: int = 20) -> None:
        self.analyzer = analyzer
        self.max_links = max_links

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> LinksDetector:
        def paths(key: str) -> list[Path] | None:
            v = settings.get(key)
            if v is None:
                return None
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise ValueError(f"detectors.links.{key} must be a list of file paths")
            return [Path(x) for x in v]

        max_links = settings.get("max_links", 20)
        if isinstance(max_links, bool) or not isinstance(max_links, int) or max_links < 1:
            raise ValueError(f"detectors.links.max_links must be a positive integer, "
                             f"got {max_links!r}")
        analyzer = build_analyzer(
            block_lists=paths("block_lists"), allow_lists=paths("allow_lists"),
            url_model=bool(settings.get("url_model", True)),
        )
        return cls(analyzer, max_links=max_links)

    def check(self, ctx: MessageContext) -> Iterable[Hit]:
        if ctx.text is None:
            raise Abstain("no readable text (encrypted)")
        ex = message_links(ctx)
        if ex is None or not (ex.links or ex.odd_schemes or ex.nested or ex.truncated):
            return ()
        self.analyzer.reload()
        hits: list[Hit] = []
        if ex.odd_schemes:
            hits.append(Hit("ODD_SCHEME_LINK", 1.0,
                            f"{', '.join(sorted(set(ex.odd_schemes)))}: link(s)"))
        links = list(ex.links)
        for nested in ex.nested[:3]:
            links.extend(extract_links(nested, limit=1).links)
        if ex.truncated or len(links) > self.max_links:
            hits.append(Hit("LINKS_CAPPED", 1.0,
                            f"analysed {min(len(links), self.max_links)} link(s); the text, a "
                            "URL or the number of links exceeded the limits"))
        if not links:
            return hits
        reports = self.analyzer.analyze_all(links[: self.max_links])
        found = _aggregate(reports)
        # Read by the behaviour detectors (a link to a well-known site is weaker
        # evidence of a stolen session than a link to an unknown one).
        ctx.memo[ALL_LINKS_WELL_KNOWN] = any(h.name == "URL_ALLOWLISTED" for h in found)
        return hits + found


def _aggregate(reports: list[LinkReport]) -> list[Hit]:
    best: dict[str, tuple[float, str]] = {}
    allowed = 0
    for rep in reports:
        for f in rep.findings:
            if f.name == "URL_ALLOWLISTED":
                continue
            cur = best.get(f.name)
            if cur is None or f.strength > cur[0]:
                best[f.name] = (f.strength, f.detail)
        if rep.has("URL_ALLOWLISTED") and len(rep.findings) == 1:
            allowed += 1
    hits = [Hit(name, s, d) for name, (s, d) in best.items()]
    if allowed == len(reports):
        sites = ", ".join(sorted({r.registrable for r in reports})[:3])
        hits.append(Hit("URL_ALLOWLISTED", 1.0, f"all links go to well-known sites ({sites})"))
    return hits
