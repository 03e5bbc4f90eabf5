"""Build the shipped URL model and suffix-risk table from the shared data sets.

Only data that may be shipped goes in: Phishing.Database (MIT) and the
OpenDNS lists (public domain). The Alexa list has no licence and is used for
evaluation only (:mod:`spimguard.links.url_eval`), never here.

Why the phishing *domain* list trains the suffix table but not the model: on
a time split inside the training period, adding it lowered TPR at FPR 1 % on
newer phishing hosts (0.848 -> 0.830). It is a snapshot of domains still
alive months later, which look unlike the hosts of new campaigns.

Usage: ``python -m spimguard.links.build_data [--shared DIR] [--out DIR]``.
The same inputs give the same bytes (sorted inputs, seeded solver, fixed zip
timestamps, sorted JSON).
"""

from __future__ import annotations

import argparse
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from spimguard.links.domains import split_host
from spimguard.links.tld_risk import learn_tld_risk
from spimguard.links.url_eval import read_host_list, read_phish_tsv
from spimguard.links.url_model import UrlTrainConfig, train_url_model

__all__ = ["BENIGN_FILES", "PHISH_DOMAINS", "PHISH_URLS", "build_shipped", "main"]

PHISH_URLS = "phishing-database/phishing-links-first-seen.sample50k.tsv"
PHISH_DOMAINS = "phishing-database/phishing-domains-ACTIVE.sample50k.txt"
#: Ranked list first: its labels are the candidate brand names.
BENIGN_FILES = ("benign-domains/opendns/opendns-top-domains.txt",
                "benign-domains/opendns/opendns-random-domains.txt")
MODEL_FILE = "url_model.npz"
TLD_FILE = "tld_risk.json"


def _data_dir(shared_dir: Path) -> Path:
    return shared_dir / "data" if (shared_dir / "data").is_dir() else shared_dir


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_shipped(shared_dir: Path, out_dir: Path) -> dict[str, Any]:
    """Train and write ``url_model.npz`` and ``tld_risk.json`` into ``out_dir``.

    ``shared_dir`` is the shared folder (or its ``data/``). Returns what was
    written, with sizes and checksums, for the build log and NOTICE.
    """
    data = _data_dir(shared_dir)
    rows = read_phish_tsv(data / PHISH_URLS)
    phish = [(h, p) for _, h, p in rows]
    benign_ranked: list[str] = []
    for rel in BENIGN_FILES:
        benign_ranked.extend(read_host_list(data / rel))
    top = read_host_list(data / BENIGN_FILES[0])
    brands = sorted({split_host(h).domain for h in top})
    sources = {rel: _sha256(data / rel) for rel in (PHISH_URLS, PHISH_DOMAINS, *BENIGN_FILES)}
    model = train_url_model(
        phish, [(h, "") for h in benign_ranked], UrlTrainConfig(), brands=brands,
        meta={"sources_sha256": sources, "built_by": "spimguard.links.build_data"})
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save(out_dir / MODEL_FILE)
    domains = read_host_list(data / PHISH_DOMAINS)
    table = learn_tld_risk([h for h, _ in phish] + domains, benign_ranked,
                           meta={"sources_sha256": sources})
    table.save(out_dir / TLD_FILE)
    return {
        "model": str(out_dir / MODEL_FILE),
        "model_bytes": (out_dir / MODEL_FILE).stat().st_size,
        "model_sha256": _sha256(out_dir / MODEL_FILE),
        "tld_table": str(out_dir / TLD_FILE),
        "tld_suffixes": len(table.counts),
        "tld_sha256": _sha256(out_dir / TLD_FILE),
        "model_meta": model.meta,
    }


def _default_shared() -> Path:
    # src/spimguard/links/build_data.py -> the repository's sibling "shared"
    return Path(__file__).resolve().parents[4] / "shared"


def _default_out() -> Path:
    return Path(__file__).resolve().parents[1] / "data" / "links"


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--shared", type=Path, default=_default_shared())
    ap.add_argument("--out", type=Path, default=_default_out())
    args = ap.parse_args(argv)
    info = build_shipped(args.shared, args.out)
    for key in ("model", "model_bytes", "model_sha256", "tld_table", "tld_suffixes",
                "tld_sha256"):
        print(f"{key}: {info[key]}")


if __name__ == "__main__":
    main()
