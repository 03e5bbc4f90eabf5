"""Fingerprints: what counts as the same text, which links group, and bounded work."""

import time

import pytest

from spimguard.campaigns import Fingerprint, Fingerprinter
from spimguard.text import normalize

BASE = ("Hey, is this you in this video? Everyone in the group is talking about it, "
        "have a look before it gets deleted: http://clips-share.xyz/v/8812")


@pytest.fixture(scope="module")
def fp() -> Fingerprinter:
    return Fingerprinter()


def of(f: Fingerprinter, text: str, html: str | None = None) -> Fingerprint:
    return f(normalize(text), html)


@pytest.mark.parametrize("text", [
    "", "ok", "lol", "see you at 5", "lol lol lol lol lol lol", "ok ok ok ok ok ok ok ok",
    "haha yes", "\u200b\u200b\u200b", "x" * 5000,
])
def test_short_texts_cannot_form_campaigns(fp: Fingerprinter, text: str) -> None:
    f = of(fp, text)
    assert not f.text_ok and not f.usable and f.exact is None and len(f.shingles) == 0


@pytest.mark.parametrize("variant", [
    BASE.upper(),
    BASE.replace("this", "th\u200bis"),  # zero-width space
    BASE.replace("e", "\u0435"),  # Cyrillic e
    BASE.replace("video", "v1de0"),  # leetspeak
    BASE.replace("8812", "1234?ref=abc"),  # another URL on the same domain
    BASE.replace("clips-share.xyz", "watch-now.top"),  # rotating domain
    BASE.replace(", ", " ").replace("?", "!!!"),  # punctuation
])
def test_trivial_mutations_give_the_same_exact_key(fp: Fingerprinter, variant: str) -> None:
    assert of(fp, variant).exact == of(fp, BASE).exact


def test_links_reduce_to_registrable_domains(fp: Fingerprinter) -> None:
    f = of(fp, "look https://login.secure.evil-pay.co.uk/a?b=1 and www.youtube.com/x now pls")
    assert f.domains == ("evil-pay.co.uk", "youtube.com")
    assert f.link_keys == ("d:evil-pay.co.uk",)  # allow-listed youtube.com keys nothing


@pytest.mark.parametrize("text,key", [
    ("free stuff at bit.ly/3xYz grab it", "u:bit.ly/3xyz"),
    ("read https://sites.google.com/view/page1 now", "u:sites.google.com/view/page1"),
    ("go to http://198.51.100.7/login now", "d:198.51.100.7"),
    ("see https://my-shop.web.app/x now", "d:my-shop.web.app"),
    ("join https://t.me/some_group now", "u:t.me/some_group"),
])
def test_shared_hosts_group_by_url(fp: Fingerprinter, text: str, key: str) -> None:
    assert of(fp, text).link_keys == (key,)


def test_custom_predicates() -> None:
    f = Fingerprinter(allow=lambda reg, suffix: reg == "friendly.xyz",
                      per_url=lambda host, suffix: False)
    assert of(f, "see friendly.xyz/a and evil.xyz/b").link_keys == ("d:evil.xyz",)
    assert of(f, "see bit.ly/abc").link_keys == ("d:bit.ly",)


def test_short_text_with_link_can_still_join_by_link(fp: Fingerprinter) -> None:
    f = of(fp, "lol evil-clips.xyz/v")
    assert not f.text_ok and f.usable and f.link_keys == ("d:evil-clips.xyz",)


def test_html_links_count(fp: Fingerprinter) -> None:
    f = of(fp, "click here", html='<a href="https://evil-clips.xyz/v">click here</a>')
    assert f.link_keys == ("d:evil-clips.xyz",)


def test_unrelated_texts_share_little() -> None:
    f = Fingerprinter(near_all=True)
    a = set(of(f, "are you coming to the party at john's place tonight").shingles.tolist())
    b = set(of(f, "can you send me the report before the meeting tomorrow").shingles.tolist())
    assert len(a & b) / len(a | b) < 0.1


def test_near_duplicate_shingles_only_for_texts_with_link_keys(fp: Fingerprinter) -> None:
    chat = "are you coming to the party at john's place tonight"
    plain, linked = of(fp, chat), of(fp, chat + " https://party-invite.example/x")
    popular = of(fp, chat + " https://www.youtube.com/watch?v=1")
    assert plain.text_ok and not plain.near and plain.exact is not None
    assert linked.near and not popular.near
    assert of(Fingerprinter(near_all=True), chat).near


@pytest.mark.parametrize("text", ["word " * 200_000, "a.b " * 200_000, "x" * 1_000_000,
                                  "http://" + "a" * 1_000_000 + ".com"])
def test_huge_input_is_bounded(fp: Fingerprinter, text: str) -> None:
    t0 = time.perf_counter()
    f = of(fp, text[:65_536])  # the engine's own cut
    assert time.perf_counter() - t0 < 0.5
    assert f.words <= fp.max_words and len(f.sample) <= 280


def test_identical_texts_are_cached(fp: Fingerprinter) -> None:
    n = normalize(BASE)
    assert fp(n) is fp(n)
