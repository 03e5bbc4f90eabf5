import pytest

from spimguard.links.domains import split_host, to_ascii, to_unicode


@pytest.mark.parametrize("host,registrable,suffix,private", [
    ("www.BBC.co.uk.", "bbc.co.uk", "co.uk", False),
    ("foo.github.io", "foo.github.io", "github.io", True),
    ("evil.blogspot.com", "evil.blogspot.com", "blogspot.com", True),
    ("paypal.com.account-verify.xyz", "account-verify.xyz", "xyz", False),
    ("xn--80ak6aa92e.com", "аррӏе.com", "com", False),
])
def test_split_host(host: str, registrable: str, suffix: str, private: bool) -> None:
    p = split_host(host)
    assert (p.registrable, p.suffix, p.private_suffix) == (registrable, suffix, private)


def test_subdomain_depth() -> None:
    assert split_host("a.b.example.com").depth == 2
    assert split_host("example.com").depth == 0


@pytest.mark.parametrize("host", ["1.2.3.4", "[2001:db8::1]", "::1"])
def test_ip_hosts(host: str) -> None:
    p = split_host(host)
    assert p.ip and p.registrable == host.strip("[]")


@pytest.mark.parametrize("host", ["xn--zz.com", "xn--.com", "a" * 400 + ".com", "", ".", "..."])
def test_broken_hosts_do_not_raise(host: str) -> None:
    p = split_host(host)
    assert len(p.host) <= 253


def test_idn_round_trip() -> None:
    assert to_unicode("xn--bcher-kva.de") == "bücher.de"
    assert to_ascii("bücher.de") == "xn--bcher-kva.de"
    assert to_ascii("аррӏе.com") == "xn--80ak6aa92e.com"
