"""The lexical URL model: training, storage, the shipped model, bad input, evaluation."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from spimguard.links.url_eval import (
    evaluate_urls,
    format_url_eval,
    read_host_list,
    read_phish_tsv,
    url_host_path,
)
from spimguard.links.url_model import (
    UrlModel,
    UrlModelError,
    UrlTrainConfig,
    augment_benign,
    host_features,
    load_shipped_url_model,
    normalise_host,
    service_variant,
    shipped_url_model_path,
    train_url_model,
)

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "links"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


def _fixture_model() -> UrlModel:
    phish = [(h, p) for _, h, p in read_phish_tsv(FIX / "phish-first-seen.tsv")]
    benign = [(h, "") for h in read_host_list(FIX / "benign-domains.txt")]
    return train_url_model(phish, benign, UrlTrainConfig(min_df=1),
                           brands=["paypal", "apple", "amazon", "netflix", "microsoft"])


def test_training_is_deterministic_and_file_identical(tmp_path: Path) -> None:
    _fixture_model().save(tmp_path / "a.npz")
    _fixture_model().save(tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def test_round_trip_keeps_scores(tmp_path: Path) -> None:
    m = _fixture_model()
    m.save(tmp_path / "m.npz")
    loaded = UrlModel.load(tmp_path / "m.npz")
    assert loaded.brands == m.brands and loaded.meta["uses_path"] is False
    for host in ["paypal-verify-login.xyz", "kestrelbooks.co.uk", "docs.example.org", "",
                 "10.0.0.1", "xn--80ak6aa92e.com"]:
        assert loaded.score(host) == pytest.approx(m.score(host), abs=1e-12)


def test_fixture_model_separates_classes() -> None:
    m = _fixture_model()
    assert m.score("secure-wallet-restore.pages.dev") > 0.5 > m.score("oakleafgarden.org")


def test_file_holds_no_python_objects(tmp_path: Path) -> None:
    _fixture_model().save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as data:
        for key in data.files:
            assert data[key].dtype != object


def test_pickled_array_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "evil.npz"
    with zipfile.ZipFile(bad, "w") as zf:
        buf = io.BytesIO()
        np.lib.format.write_array(buf, np.array([{"x": 1}], dtype=object), allow_pickle=True)
        zf.writestr("meta.npy", buf.getvalue())
    with pytest.raises(UrlModelError):
        UrlModel.load(bad)


@pytest.mark.parametrize("content", [b"", b"not a zip", b"PK\x03\x04broken"])
def test_corrupt_file_is_a_model_error(tmp_path: Path, content: bytes) -> None:
    p = tmp_path / "m.npz"
    p.write_bytes(content)
    with pytest.raises(UrlModelError):
        UrlModel.load(p)


def test_unknown_format_version_is_refused(tmp_path: Path) -> None:
    _fixture_model().save(tmp_path / "m.npz")
    with zipfile.ZipFile(tmp_path / "m.npz") as zf, zipfile.ZipFile(tmp_path / "v.npz", "w") as out:
        for info in zf.infolist():
            data = zf.read(info)
            if info.filename == "meta.npy":
                buf = io.BytesIO()
                np.lib.format.write_array(buf, np.array('{"format_version": 999}'))
                data = buf.getvalue()
            out.writestr(info, data)
    with pytest.raises(UrlModelError, match="format"):
        UrlModel.load(tmp_path / "v.npz")


def test_training_needs_both_classes() -> None:
    with pytest.raises(ValueError):
        train_url_model([("evil-login.xyz", "/")], [])


# -- the shipped model ---------------------------------------------------------

ORDINARY = [
    "https://www.bbc.co.uk/news/world-123",
    "https://github.com/python/cpython/pull/1",
    "https://docs.python.org/3/library/re.html",
    "https://en.wikipedia.org/wiki/Phishing",
    "https://www.amazon.co.uk/dp/B08N5WRWNW",
    "https://mail.google.com/mail/u/0/",
    "https://accounts.google.com/signin",
    "https://developer.mozilla.org/en-US/docs/Web",
    "https://www.irs.gov/refunds",
]
PHISH = [
    "http://paypal.com.account-verify.xyz/login",
    "https://secure-login-microsoft365.web.app/",
    "http://192.0.2.7/wp-includes/bank/",
    "https://appleid.apple.com.verify-id.info/",
    "http://usps.com-tracking-update.top/info",
    "https://metamask-wallet-restore.pages.dev/",
]


def test_shipped_model_is_small_and_loads() -> None:
    assert shipped_url_model_path().stat().st_size < 3_000_000
    m = load_shipped_url_model()
    assert m.meta["uses_path"] is False and m.brands


@pytest.mark.parametrize("url", ORDINARY)
def test_shipped_model_lets_ordinary_links_through(url: str) -> None:
    host, path = url_host_path(url)
    assert load_shipped_url_model().score(host, path) < 0.2


@pytest.mark.parametrize("url", PHISH)
def test_shipped_model_flags_typical_phish(url: str) -> None:
    host, path = url_host_path(url)
    assert load_shipped_url_model().score(host, path) > 0.9


def test_path_does_not_move_the_score() -> None:
    """The bias trap: benign training data has no paths, so paths must carry no weight."""
    m = load_shipped_url_model()
    assert m.score("www.bbc.co.uk", "/news/articles/c0abc123") == m.score("bbc.co.uk", "")


def test_subdomain_alone_is_not_evidence() -> None:
    m = load_shipped_url_model()
    for label in ("docs", "en", "mail", "blog"):
        assert m.score(f"{label}.python.org") < 0.2


def test_explain_names_features() -> None:
    top = load_shipped_url_model().explain("paypal.com.account-verify.xyz", 3)
    assert 0 < len(top) <= 3 and all(v > 0 for _, v in top)


@pytest.mark.skipif(not (SHARED / "phishing-database").is_dir(), reason="needs ../shared")
def test_shipped_files_are_reproducible(tmp_path: Path) -> None:
    """Rebuilding from ../shared gives the shipped model, up to library drift.

    A newer tldextract suffix list moves a few hosts' parts (seen: 2 of 77k
    n-grams), and solvers round differently, so the rebuilt model must score
    like the shipped one rather than match it byte for byte.
    """
    from spimguard.links.build_data import build_shipped
    from spimguard.links.tld_risk import shipped_tld_risk_path
    from spimguard.links.url_model import UrlModel

    build_shipped(SHARED, tmp_path)
    assert (tmp_path / "tld_risk.json").read_bytes() == shipped_tld_risk_path().read_bytes()
    rebuilt, shipped = UrlModel.load(tmp_path / "url_model.npz"), load_shipped_url_model()
    hosts = ["paypal.com.account-verify.xyz", "docs.python.org", "secure-login-chase.top",
             "github.com", "xn--pypal-4ve.com", "bit.ly", "mail.google.com", "a1b2c3.tk"]
    hosts += [f"{w}-{n}.example-{n % 7}.com" for n, w in enumerate(
        ["login", "verify", "shop", "news", "wallet", "support"] * 5)]
    gaps = [abs(rebuilt.score(h) - shipped.score(h)) for h in hosts]
    assert max(gaps) < 1e-3, max(gaps)


# -- bad input -----------------------------------------------------------------

BAD_HOSTS = [
    "", " ", ".", "..", "[]", "[::1", ":::", "@", "user@", "a..b.com", "-.com",
    "xn--.com", "xn--zz--qq.com", "xn--80ak6aa92e.xn--", "пример.рф", "例子.测试",
    "\x00\x01\x02", "host\twith\ttabs", "a" * 65_536, ("ab." * 20_000) + "com",
    "user:pass@evil.com:8080", "[2001:db8::1]:443", "256.256.256.256", "1.2.3.4.5",
    "EXAMPLE.COM.", "\u202eexample.com", "xn--\ud800.com",
]


@pytest.mark.parametrize("host", BAD_HOSTS)
def test_bad_hosts_do_not_raise(host: str) -> None:
    m = load_shipped_url_model()
    s = m.score(host, "/" + "x" * 65_536)
    assert 0.0 <= s <= 1.0
    assert isinstance(m.explain(host), list)


def test_empty_host_has_no_opinion() -> None:
    assert load_shipped_url_model().score("", "/login") == 0.0
    assert host_features("") is None


@pytest.mark.parametrize("url", [
    "", "http://", "http://[::1", "https://exa mple.com/x", "//no-scheme.com/a",
    "example.com/path?q=1", "http://a.com:notaport/x", "ftp://\x00/", "http://" + "a" * 70_000,
])
def test_url_host_path_never_raises(url: str) -> None:
    host, path = url_host_path(url)
    assert isinstance(host, str) and isinstance(path, str)


@pytest.mark.parametrize(("raw", "norm"), [
    ("WWW.BBC.co.uk.", "bbc.co.uk"),
    ("user:pw@Example.com:8443", "example.com"),
    ("www.com", "www.com"),
    ("[2001:db8::1]:443", "[2001:db8::1]"),
])
def test_normalise_host(raw: str, norm: str) -> None:
    assert normalise_host(raw) == norm


def test_augmentation_is_deterministic_and_replaces() -> None:
    hosts = read_host_list(FIX / "benign-domains.txt")
    a = augment_benign(hosts, 0.5, ["pages.dev"], 0.1)
    assert a == augment_benign(hosts, 0.5, ["pages.dev"], 0.1) and len(a) == len(hosts)
    assert any(h != o for h, o in zip(a, hosts, strict=True))
    assert service_variant("10.0.0.1") == "10.0.0.1"
    assert service_variant("kestrelbooks.co.uk").endswith(".kestrelbooks.co.uk")


# -- evaluation ----------------------------------------------------------------


def test_evaluate_urls_on_fixtures() -> None:
    block = set(read_host_list(FIX / "blocklist.txt"))
    r = evaluate_urls(FIX / "phish-first-seen.tsv", [FIX / "benign-domains.txt"], block,
                      config=UrlTrainConfig(min_df=1))
    assert r["n_test_phish_urls"] == 10 and r["n_test_urls_on_blocklist"] >= 2
    assert r["n_train_benign_hosts"] + r["n_test_benign_hosts"] == 50
    for name in ("unseen", "unlisted"):
        m = r[name]["model"]
        assert {"n_phish", "n_benign"} <= m.keys()
        if m["n_phish"] and m["n_benign"]:
            assert {"roc_auc", "tpr_at_fpr_0.001", "tpr_at_fpr_0.01"} <= m.keys()
    assert any("1,000" in n for n in r["notes"])
    text = format_url_eval(r)
    assert "TPR" in text or "no test items" in text


def test_evaluate_urls_drops_listed_hosts() -> None:
    with_list = evaluate_urls(FIX / "phish-first-seen.tsv", [FIX / "benign-domains.txt"],
                              set(read_host_list(FIX / "blocklist.txt")),
                              config=UrlTrainConfig(min_df=1))
    without = evaluate_urls(FIX / "phish-first-seen.tsv", [FIX / "benign-domains.txt"], None,
                            config=UrlTrainConfig(min_df=1))
    assert without["n_test_urls_on_blocklist"] == 0
    assert (with_list["unlisted"]["model"]["n_phish"]
            < without["unlisted"]["model"]["n_phish"])
