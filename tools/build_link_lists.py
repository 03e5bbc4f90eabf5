"""Build the shipped block and allow lists from ../shared/data (run once; output is committed).

Usage: python tools/build_link_lists.py [SHARED_DATA_DIR]

* ``data/links/blocklist-phishing-database.txt``: the Phishing.Database domain
  sample and active IPs (MIT), minus anything also on the allow list's
  source (a list conflict is resolved in favour of not blocking a popular
  site: yotpo.com is on both) and minus whole shorteners and user-content
  platforms (bit.ly is on the feed; its phishing links are judged one by one).
* ``data/links/allowlist-opendns-top.txt``: OpenDNS top-10k (public domain),
  minus user-content hosts, shorteners and any domain on the phishing lists.
  The Alexa 2016 list has no licence and is not shipped.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src/spimguard/data/links"


def _lines(p: Path) -> list[str]:
    out = []
    for raw in p.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.split("#", 1)[0].strip().lower().strip(".")
        if line:
            out.append(line)
    return out


def main() -> None:
    shared = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared/data"
    phish_domains = _lines(shared / "phishing-database/phishing-domains-ACTIVE.sample50k.txt")
    phish_ips = _lines(shared / "phishing-database/phishing-IPs-ACTIVE.txt")
    top = _lines(shared / "benign-domains/opendns/opendns-top-domains.txt")
    excluded = set(_lines(OUT / "user-content-hosts.txt")) | set(_lines(OUT / "shorteners.txt"))
    phish_set = set(phish_domains)

    def hosted(d: str) -> bool:
        return any(d == e or d.endswith("." + e) for e in excluded)

    allow = [d for d in dict.fromkeys(top) if d not in phish_set and not hosted(d)]
    allow_set = set(allow)
    # Whole platforms (a shortener, a site builder) are never blocked: only the
    # phishing site on them is (foo.000webhostapp.com); bit.ly is on the feed.
    block = sorted({d for d in phish_domains if d not in allow_set and d not in excluded
                    and " " not in d and "/" not in d and "?" not in d} | set(phish_ips))
    header_b = ("# Phishing.Database (MIT, Copyright (c) 2018-2025 Mitchell Krog, Nissar Chababy\n"
                "# and contributors): sample of phishing-domains-ACTIVE.txt and\n"
                "# phishing-IPs-ACTIVE.txt; see NOTICE.md. Built by tools/build_link_lists.py.\n")
    header_a = ("# OpenDNS Top Domains List (public domain), minus user-content hosts,\n"
                "# shorteners and domains on the phishing lists; see NOTICE.md.\n"
                "# Built by tools/build_link_lists.py.\n")
    (OUT / "blocklist-phishing-database.txt").write_text(header_b + "\n".join(block) + "\n")
    (OUT / "allowlist-opendns-top.txt").write_text(header_a + "\n".join(allow) + "\n")
    print(f"block: {len(block)} entries; allow: {len(allow)} entries")


if __name__ == "__main__":
    main()
