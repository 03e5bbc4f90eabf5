"""Time-split evaluation of the URL model: does it catch phishing the block list does not know?

Protocol: phishing URLs are sorted by first-seen time; the model is trained on
the older part and tested on the newest ``test_fraction``. Benign domains have
no time, so they are split by a hash of the domain (deterministic, 80/20 by
default), or, with ``test_benign_files``, trained on one list and tested on
another. From the phishing test side we drop every host the block list knows
(the host, or any parent of it down to its registrable domain).

Two test sets are reported, because a phishing campaign reuses hosts:

* ``unlisted``: test hosts not on the block list. A host may also have been
  seen in training, with an older URL: that is memory, not generalisation.
* ``unseen`` (the headline): also drops every test host whose host or
  registrable domain occurs in the phishing training data.

The unit is the distinct host (the model scores hosts only), so a campaign
with fifty URLs on one host counts once. Thresholds are read off the benign
test scores; at FPR 0.1 % fewer than 1,000 benign test hosts means the
threshold rests on zero false positives, and the output says so.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
from sklearn.metrics import roc_auc_score

from spimguard.links.domains import split_host
from spimguard.links.tld_risk import learn_tld_risk
from spimguard.links.url_model import (
    UrlTrainConfig,
    normalise_host,
    service_variant,
    train_url_model,
)

__all__ = ["evaluate_urls", "format_url_eval", "read_host_list", "read_phish_tsv",
           "url_host_path"]

FPRS = (0.001, 0.01)
#: Brands are the registrable labels of the first lines of the first benign
#: file (a ranked list: OpenDNS top, Alexa).
N_BRANDS = 10_000


def url_host_path(url: str) -> tuple[str, str]:
    """(host, path + query) of a URL; never raises (a broken URL gives its best guess)."""
    u = url.strip()
    if "://" not in u[:12]:
        u = "http://" + u
    try:
        parts = urlsplit(u)
        netloc, path, query = parts.netloc, parts.path, parts.query
    except ValueError:
        rest = u.split("://", 1)[1]
        netloc, _, path = rest.partition("/")
        path, query = "/" + path, ""
    return normalise_host(netloc), path + ("?" + query if query else "")


def read_phish_tsv(path: Path) -> list[tuple[datetime, str, str]]:
    """(first_seen, host, path) rows of a ``first_seen<TAB>url`` file, oldest first."""
    rows: list[tuple[datetime, str, str]] = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            ts, sep, url = line.rstrip("\n").partition("\t")
            if not sep:
                continue
            try:
                when = datetime.fromisoformat(ts)
            except ValueError:
                continue  # the header, or a broken line
            host, p = url_host_path(url)
            if host:
                rows.append((when, host, p))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    return rows


def read_host_list(path: Path) -> list[str]:
    """Hosts of a one-per-line list (blank lines and ``#`` comments skipped), in file order."""
    out: list[str] = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            s = line.strip()
            if s and not s.startswith("#"):
                h = normalise_host(s.split("/", 1)[0])
                if h:
                    out.append(h)
    return out


def _parents(host: str) -> list[str]:
    """The host and each parent down to its registrable domain (never the platform)."""
    p = split_host(host)
    if p.ip or not p.suffix:
        return [p.host]
    out = [p.host]
    labels = p.subdomain.split(".") if p.subdomain else []
    for i in range(1, len(labels) + 1):
        out.append(".".join(labels[i:] + [p.registrable]).lstrip("."))
    return list(dict.fromkeys(out))


def _on_list(host: str, raw_hosts: Iterable[str], listed: set[str]) -> bool:
    return any(h in listed for h in raw_hosts) or any(h in listed for h in _parents(host))


def _is_test_benign(host: str, fraction: float) -> bool:
    v = int.from_bytes(hashlib.sha1(host.encode("utf-8")).digest()[:8], "big")
    return v / 2**64 < fraction


def _rates(pos: Sequence[float], neg: Sequence[float]) -> dict[str, Any]:
    """AUC and, per FPR target, the threshold (score > t flags) and TPR."""
    out: dict[str, Any] = {"n_phish": len(pos), "n_benign": len(neg)}
    if not pos or not neg:
        return out
    y = np.r_[np.ones(len(pos), bool), np.zeros(len(neg), bool)]
    out["roc_auc"] = float(roc_auc_score(y, np.r_[pos, neg]))
    nb = np.sort(np.asarray(neg, dtype=float))[::-1]
    ps = np.asarray(pos, dtype=float)
    for fpr in FPRS:
        k = int(math.floor(fpr * len(nb)))
        thr = float(nb[min(k, len(nb) - 1)])
        out[f"tpr_at_fpr_{fpr}"] = float((ps > thr).mean())
        out[f"threshold_at_fpr_{fpr}"] = thr
        out[f"false_positives_at_fpr_{fpr}"] = int((nb > thr).sum())
    return out


def evaluate_urls(
    phish_tsv: Path,
    benign_files: Sequence[Path],
    blocklist_domains: set[str] | None,
    *,
    test_fraction: float = 0.2,
    test_benign_files: Sequence[Path] | None = None,
    config: UrlTrainConfig | None = None,
    brands: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Train on the older phishing URLs, test on the newest ones the block list misses.

    ``blocklist_domains`` holds hosts, registrable domains and IPs (lower
    case); None means no block list. Returns counts, the cut-off time, and per
    test set (``unseen``, ``unlisted``) the ROC AUC and TPR / threshold /
    false positives at FPR 0.1 % and 1 %, for the model and for the learned
    suffix table alone (``tld_only``), plus ``notes`` to print.
    """
    rows = read_phish_tsv(phish_tsv)
    if len(rows) < 2:
        raise ValueError(f"{phish_tsv}: fewer than two readable phishing URLs")
    cut = min(max(int(math.ceil(len(rows) * (1 - test_fraction))), 1), len(rows) - 1)
    cutoff = rows[cut][0]
    train_rows = [r for r in rows if r[0] < cutoff]
    test_rows = [r for r in rows if r[0] >= cutoff]
    listed = {normalise_host(h) for h in blocklist_domains or ()} | set(blocklist_domains or ())
    phish_all = {r[1] for r in rows}

    benign_ranked: list[str] = []
    for f in benign_files:
        benign_ranked.extend(read_host_list(f))
    benign = sorted(set(benign_ranked) - phish_all - listed)
    conflicts = len(set(benign_ranked)) - len(benign)
    if test_benign_files is None:
        b_test = [h for h in benign if _is_test_benign(h, test_fraction)]
        b_train = [h for h in benign if not _is_test_benign(h, test_fraction)]
        benign_protocol = f"hash split of {len(benign):,} benign hosts, {test_fraction:.0%} test"
    else:
        b_train = benign
        held: list[str] = []
        for f in test_benign_files:
            held.extend(read_host_list(f))
        known = set(benign) | {split_host(h).registrable for h in benign}
        b_test = sorted({h for h in held if h not in known and split_host(h).registrable
                         not in known} - phish_all - listed)
        benign_protocol = "train on benign_files, test on test_benign_files minus overlap"
    if brands is None:
        in_train = set(b_train)
        brands = [split_host(h).domain for h in benign_ranked[:N_BRANDS] if h in in_train]

    model = train_url_model([(h, p) for _, h, p in train_rows], [(h, "") for h in b_train],
                            config, brands=brands)
    tld_table = learn_tld_risk([h for _, h, _ in train_rows], b_train, min_count=1)
    train_hosts = {h for _, h, _ in train_rows}
    train_regs = {split_host(h).registrable for h in train_hosts}

    unlisted = sorted({h for _, h, _ in test_rows if not _on_list(h, (h,), listed)})
    unseen = [h for h in unlisted
              if h not in train_hosts and split_host(h).registrable not in train_regs]

    def tld_score(h: str) -> float:
        r = tld_table.get(split_host(h).suffix)
        return -99.0 if r is None else r.log_odds

    neg = [model.score(h) for h in b_test]
    neg_tld = [tld_score(h) for h in b_test]
    result: dict[str, Any] = {
        "protocol": "time split, host level",
        "cutoff_first_seen": cutoff.isoformat(),
        "n_phish_urls": len(rows), "n_train_phish_urls": len(train_rows),
        "n_test_phish_urls": len(test_rows),
        "n_test_urls_on_blocklist": sum(_on_list(h, (h,), listed) for _, h, _ in test_rows),
        "n_train_phish_hosts": model.meta["n_phish_hosts"],
        "n_train_benign_hosts": len(b_train), "n_test_benign_hosts": len(b_test),
        "n_benign_conflicts_dropped": conflicts, "benign_protocol": benign_protocol,
        "model_meta": model.meta,
    }
    for name, hosts in (("unseen", unseen), ("unlisted", unlisted)):
        result[name] = {
            "model": _rates([model.score(h) for h in hosts], neg),
            "tld_only": _rates([tld_score(h) for h in hosts], neg_tld),
        }
    # the same benign test domains, each under an ordinary service label: a
    # model that learned "a subdomain means phishing" fails here
    neg_sub = [model.score(service_variant(h)) for h in b_test]
    result["unseen_vs_service_variants"] = {
        "model": _rates([model.score(h) for h in unseen], neg_sub)}
    notes = [
        "unit: distinct host; 'unseen' drops test hosts whose host or registrable domain "
        "is in the phishing training data, 'unlisted' keeps them",
    ]
    if len(b_test) < 1000:
        notes.append(f"only {len(b_test)} benign test hosts: TPR at FPR 0.1% is not "
                     "meaningful below 1,000")
    else:
        notes.append(f"FPR 0.1% = {int(0.001 * len(b_test))} of {len(b_test):,} benign test "
                     "hosts; FPR 1% = " f"{int(0.01 * len(b_test))}")
    result["notes"] = notes
    return result


def format_url_eval(result: dict[str, Any]) -> str:
    """The figures of :func:`evaluate_urls` as lines of text."""
    lines = [
        f"protocol: {result['protocol']}; phishing test = first seen >= "
        f"{result['cutoff_first_seen']}",
        f"phishing URLs: {result['n_train_phish_urls']:,} train, "
        f"{result['n_test_phish_urls']:,} test ({result['n_test_urls_on_blocklist']:,} of "
        "them on the block list)",
        f"benign hosts: {result['n_train_benign_hosts']:,} train, "
        f"{result['n_test_benign_hosts']:,} test ({result['benign_protocol']})",
    ]
    for name in ("unseen", "unlisted"):
        for which in ("model", "tld_only"):
            r = result[name][which]
            if "roc_auc" not in r:
                lines.append(f"{name:8} {which:8}: no test items")
                continue
            lines.append(
                f"{name:8} {which:8}: n_phish={r['n_phish']:,} n_benign={r['n_benign']:,} "
                f"TPR@FPR0.1%={r['tpr_at_fpr_0.001']:.3f} TPR@FPR1%={r['tpr_at_fpr_0.01']:.3f} "
                f"AUC={r['roc_auc']:.4f}")
    v = result.get("unseen_vs_service_variants", {}).get("model", {})
    if "roc_auc" in v:
        lines.append(
            f"unseen vs benign test domains under a service label (docs., mail. ...): "
            f"TPR@FPR0.1%={v['tpr_at_fpr_0.001']:.3f} TPR@FPR1%={v['tpr_at_fpr_0.01']:.3f} "
            f"AUC={v['roc_auc']:.4f}")
    lines.extend("note: " + n for n in result["notes"])
    return "\n".join(lines)
