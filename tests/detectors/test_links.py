"""The links detector in the engine: each signal, and bad input."""

from pathlib import Path

import pytest

from spimguard import Engine, MessageEvent, Policy, build_engine
from spimguard.detectors.links import LinksDetector


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine([LinksDetector.from_settings({"url_model": False})], Policy())


def check(engine: Engine, text: str, html: str | None = None) -> dict[str, str]:
    v = engine.check(MessageEvent(ts=1.0, id="m", sender="a", recipients=("b",), text=text,
                                  html=html))
    return {s.name: s.detail for s in v.signals}


@pytest.mark.parametrize("text,signal,needle", [
    ("lol is this you? http://paypal.com.account-verify.xyz/login", "LOOKALIKE_DOMAIN",
     "paypal.com is only a subdomain"),
    ("free gift at rnicrosoft.com/promo", "LOOKALIKE_DOMAIN", "reads as microsoft.com"),
    ("go to micros0ft-login.com/x", "LOOKALIKE_DOMAIN", "microsoft"),
    ("see login-live.com.example.net/x", "LOOKALIKE_DOMAIN", "live.com"),
    ("hey see аррӏе.com/id now", "MIXED_SCRIPT_DOMAIN", "look Latin"),
    ("hey see аррӏе.com/id now", "LOOKALIKE_DOMAIN", "apple"),
    ("click bit.ly/3xYz go", "URL_SHORTENER", "bit.ly"),
    ("router at http://192.0.2.7/admin", "IP_LITERAL_URL", "192.0.2.7"),
    ("http://3221225991/login", "IP_LITERAL_URL", "192.0.2.7"),
    ("update at https://example-site.top/account/verify", "CREDENTIAL_LURE", "verify"),
    ("hxxp://evil-wallet[.]top/restore", "CREDENTIAL_LURE", "wallet"),
    ("look javascript:alert(1)", "ODD_SCHEME_LINK", "javascript"),
    ("watch https://www.bbc.co.uk/news/world-123", "URL_ALLOWLISTED", "bbc.co.uk"),
])
def test_signal(engine: Engine, text: str, signal: str, needle: str) -> None:
    found = check(engine, text)
    assert signal in found, found
    assert needle in found[signal]


def test_markdown_and_html_text_mismatch(engine: Engine) -> None:
    md = check(engine, "log in at [paypal.com](http://evil-pay.example.xyz/x)")
    assert "LINK_TEXT_MISMATCH" in md and "paypal.com" in md["LINK_TEXT_MISMATCH"]
    html = check(engine, "log in", html='<a href="https://evil.example.xyz/">www.chase.com</a>')
    assert "LINK_TEXT_MISMATCH" in html


@pytest.mark.parametrize("host", ["sites.google.com", "foo.web.app", "x.weebly.com"])
def test_user_content_hosting_gets_no_allow_credit(engine: Engine, host: str) -> None:
    assert "URL_ALLOWLISTED" not in check(engine, f"see https://{host}/form")


def test_allow_credit_needs_every_link_allowed(engine: Engine) -> None:
    found = check(engine, "https://www.bbc.co.uk/news and http://unknown-site-123.top/x")
    assert "URL_ALLOWLISTED" not in found


def test_block_list_from_settings_and_reload(tmp_path: Path) -> None:
    block = tmp_path / "block.txt"
    block.write_text("evil-one.com\n")
    det = LinksDetector.from_settings({"block_lists": [str(block)], "url_model": False})
    det.analyzer.blocklist.check_every = 0.0
    eng = Engine([det], Policy())
    assert "URL_BLOCKLISTED" in check(eng, "see http://www.evil-one.com/x")
    assert "URL_BLOCKLISTED" not in check(eng, "see http://evil-two.com/x")
    block.write_text("evil-one.com\nevil-two.com\n")
    import os
    import time
    later = time.time() + 5
    os.utime(block, (later, later))
    assert "URL_BLOCKLISTED" in check(eng, "see http://evil-two.com/x")


def test_shipped_block_list_hits_a_listed_domain(engine: Engine) -> None:
    from spimguard.links.shipped import data_path

    lines = data_path("blocklist-phishing-database.txt").read_text().splitlines()
    entry = next(x for x in lines if x and not x.startswith("#") and x[0].isalpha())
    assert "URL_BLOCKLISTED" in check(engine, f"look http://{entry}/x")


def test_platforms_are_not_blocked_whole(engine: Engine) -> None:
    assert "URL_BLOCKLISTED" not in check(engine, "http://bit.ly/abc")


@pytest.mark.parametrize("text", [
    "see you at 5.30", "v1.2.3 is out", "ok.so what", "e.g. this", "lol...", "12.50 pounds",
])
def test_ordinary_chat_has_no_link_signal(engine: Engine, text: str) -> None:
    assert check(engine, text) == {}


@pytest.mark.parametrize("text", [
    " ".join(f"http://site{i}.com/x" for i in range(10_000)),
    "http://" + "a" * 65_536 + ".com/",
    "http://xn--zz.com/ and xn--.com/x",
    "data:text/html;base64,PHNjcmlwdD4= javascript:void(0)",
    "https://t.co/r?u=https%3A%2F%2Fevil.example.xyz%2Flogin",
    "a." * 50_000,
])
def test_bad_input_is_bounded(engine: Engine, text: str) -> None:
    v = engine.check(MessageEvent(ts=1.0, id="m", sender="a", recipients=("b",), text=text))
    assert {t.status for t in v.trace} == {"ran"}


def test_many_links_are_capped_and_said(engine: Engine) -> None:
    text = " ".join(f"http://site{i}.com/x" for i in range(200))
    assert "LINKS_CAPPED" in check(engine, text)


def test_nested_redirect_target_is_analysed(engine: Engine) -> None:
    found = check(engine, "https://t.co/r?u=https%3A%2F%2Fpaypal.com.evil.xyz%2Flogin")
    assert "LOOKALIKE_DOMAIN" in found


def test_encrypted_message_abstains(engine: Engine) -> None:
    v = engine.check(MessageEvent(ts=1.0, id="m", sender="a", recipients=("b",), text=None,
                                  encrypted=True))
    assert [t.status for t in v.trace] == ["abstained"]


@pytest.fixture(scope="module")
def full_engine() -> Engine:
    return Engine([LinksDetector.from_settings({})], Policy())


def test_risky_tld_is_learned_and_explained(full_engine: Engine) -> None:
    found = check(full_engine, "see https://some-new-site-4821.xyz/x")
    assert "RISKY_TLD" in found
    assert "suffix .xyz" in found["RISKY_TLD"] and "phishing" in found["RISKY_TLD"]
    assert "RISKY_TLD" not in check(full_engine, "see https://some-new-site-4821.de/x")


def test_url_model_flags_phishy_hosts_not_ordinary_ones(full_engine: Engine) -> None:
    phishy = check(full_engine, "https://secure-login-microsoft365-verify.web.app/")
    assert "URL_MODEL" in phishy and "p=" in phishy["URL_MODEL"]
    for ok in ("https://www.bbc.co.uk/news/world-123", "https://grandmas-recipes.com/pie",
               "https://docs.python.org/3/library/re.html"):
        assert "URL_MODEL" not in check(full_engine, ok), ok


def test_url_model_can_be_switched_off() -> None:
    eng = Engine([LinksDetector.from_settings({"url_model": False})], Policy())
    assert "URL_MODEL" not in check(eng, "https://secure-login-microsoft365-verify.web.app/")


@pytest.mark.parametrize("settings,needle", [
    ({"max_links": 0}, "max_links"),
    ({"max_links": "many"}, "max_links"),
    ({"block_lists": "one.txt"}, "block_lists"),
])
def test_bad_settings_are_clear_errors(settings: dict[str, object], needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        LinksDetector.from_settings(settings)


@pytest.mark.parametrize("text", ["the server is on 172.16.4.20:8080", "ssh 192.168.1.20",
                                  "nginx on 10.1.2.3:443", "open http://127.0.0.1:8000/docs",
                                  "router page http://192.168.0.1"])
def test_private_addresses_are_not_evidence(text: str) -> None:
    v = build_engine(only=["links"]).check(
        MessageEvent(ts=1.0, id="m", sender="a", recipients=("b",), text=text))
    assert not {"IP_LITERAL_URL", "URL_MODEL"} & {s.name for s in v.signals}
