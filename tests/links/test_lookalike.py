import pytest

from spimguard.links.domains import split_host
from spimguard.links.lookalike import LookalikeIndex, load_brand_words, load_brands, skeleton


@pytest.fixture(scope="module")
def index() -> LookalikeIndex:
    return LookalikeIndex(load_brands(), ["wikipedia.org", "stackoverflow.com"],
                          load_brand_words())


@pytest.mark.parametrize("host,target,kind", [
    ("rnicrosoft.com", "microsoft", "homoglyph"),
    ("аррӏе.com", "apple", "homoglyph"),
    ("paypa1.com", "paypal", "homoglyph"),
    ("disc0rd.gift", "discord", "homoglyph"),
    ("bankofarnerica.com", "bankofamerica", "homoglyph"),
    ("paypall.com", "paypal", "typo"),
    ("googlle.com", "google", "typo"),
    ("wikipedla.org", "wikipedia.org", "typo"),
    ("micros0ft-login.com", "microsoft", "combo"),
    ("paypal-secure.web.app", "paypal", "combo"),
    ("paypal.xyz", "paypal", "combo"),
    ("ups-delivery-track.com", "ups", "combo"),
    ("paypal.com.account-verify.xyz", "paypal", "subdomain"),
    ("login-live.com.example.net", "microsoft", "subdomain"),
    ("secure.chase.com.verify.info", "chase", "subdomain"),
])
def test_lookalikes_are_caught(index: LookalikeIndex, host: str, target: str, kind: str) -> None:
    found = index.check(split_host(host))
    assert found is not None, host
    assert (found.target, found.kind) == (target, kind)
    assert host in found.detail or found.detail.startswith(split_host(host).host)


@pytest.mark.parametrize("host", [
    "paypal.com", "www.paypal.com", "login.live.com", "appleid.apple.com", "groups.io",
    "bbc.co.uk", "github.com", "icloud.com", "cloudflare.com", "stackoverflow.com",
    "en.wikipedia.org", "192.0.2.1", "groups.google.com", "signalgroup.com.au",
])
def test_real_sites_are_not(index: LookalikeIndex, host: str) -> None:
    assert index.check(split_host(host)) is None


def test_skeleton() -> None:
    assert skeleton("аррӏе") == "apple"
    assert skeleton("rnicrosoft", pairs=True) == "microsoft"
    assert skeleton("icloud") == "icloud"
