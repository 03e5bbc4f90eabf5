"""Attack texts: spintax, evasion tricks that spare links, rotating domains."""

from __future__ import annotations

import random

from spimguard.simulate.lures import (
    BOTNET,
    STRANGER,
    WORM,
    DomainPool,
    homoglyphs,
    spin,
    vary_lightly,
    zero_width,
)


def test_spin_fills_alternatives_and_slots() -> None:
    rng = random.Random(0)
    out = {spin("{a|b} {link} {other}", rng, link="L") for _ in range(50)}
    assert out == {"a L {other}", "b L {other}"}


def test_tricks_never_touch_links() -> None:
    rng = random.Random(1)
    text = "Claim your reward here https://gift-example.xyz/a?b=c now"
    for _ in range(30):
        for mutated in (homoglyphs(text, rng, 1.0), zero_width(text, rng, 1.0)):
            assert "https://gift-example.xyz/a?b=c" in mutated
            assert mutated != text


def test_vary_lightly_keeps_the_words() -> None:
    rng = random.Random(2)
    for _ in range(20):
        assert "is this you" in vary_lightly("lol is this you? {link}", rng).lower()


def test_domain_pool_rotates_over_its_hosts() -> None:
    pool = DomainPool(random.Random(3), size=4)
    urls = [pool.url() for _ in range(40)]
    assert len(set(urls)) == 40
    assert all(any(h in u for h in pool.hosts) for u in urls)
    assert DomainPool(random.Random(3), size=4).hosts == pool.hosts


def test_templates_cover_languages_and_have_links() -> None:
    assert {"en", "ru"} <= set(WORM) and len(WORM) >= 4
    for pool in (WORM, STRANGER, BOTNET):
        for lang, templates in pool.items():
            assert templates, lang
            assert all("{link}" in t for t in templates)
