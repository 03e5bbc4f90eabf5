"""Token-bucket rate limits in the real engine."""

import pytest

from spimguard import Engine, MessageEvent, Policy
from spimguard.detectors.profile import ProfileDetector
from spimguard.detectors.ratelimit import RateLimitDetector

T0 = 1_700_000_000.0


def engine(**kw: float) -> Engine:
    return Engine([ProfileDetector(), RateLimitDetector(**kw)], Policy())


def names(eng: Engine, i: int, sender: str, rcpt: str, text: str, t: float) -> dict[str, str]:
    v = eng.check(MessageEvent(t, f"m{i}", sender, (rcpt,), text))
    return {s.name: s.detail for s in v.signals}


def test_sender_flood_is_limited_then_refills() -> None:
    eng = engine(per_minute=10, new_per_hour=1000)
    hits = [names(eng, i, "a", "b", "hi", T0 + i * 0.1) for i in range(15)]
    assert all("RATE_LIMIT" not in h for h in hits[:10])
    assert all("RATE_LIMIT" in h for h in hits[10:])
    assert "messages a minute" in hits[-1]["RATE_LIMIT"]
    assert "RATE_LIMIT" not in names(eng, 99, "a", "b", "hi", T0 + 120)  # refilled
    assert "RATE_LIMIT" not in names(eng, 100, "other", "b", "hi", T0 + 1.6)  # per sender


def test_new_recipients_are_limited_but_friends_are_not() -> None:
    eng = engine(per_minute=1000, new_per_hour=5)
    hits = [names(eng, i, "h", f"stranger{i}", "hello", T0 + i) for i in range(8)]
    assert "RATE_LIMIT" in hits[-1] and "new people" in hits[-1]["RATE_LIMIT"]
    eng2 = engine(per_minute=1000, new_per_hour=5)
    for i in range(3):
        names(eng2, i, "f", "friend", "hello", T0 + i)
    assert all("RATE_LIMIT" not in names(eng2, 10 + i, "f", "friend", "x", T0 + 10 + i)
               for i in range(10))


def test_a_day_old_account_may_reach_fewer_new_people() -> None:
    from spimguard.core.events import AccountEvent

    def run(created: float) -> list[dict[str, str]]:
        eng = engine(per_minute=1000, new_per_hour=20)
        eng.observe(AccountEvent(T0, "u", created_ts=created))
        return [names(eng, i, "u", f"stranger{i}", "hello", T0 + i) for i in range(8)]

    young = run(T0 - 3600)  # an hour old: a quarter of 20
    assert all("RATE_LIMIT" not in h for h in young[:5])
    assert "RATE_LIMIT" in young[5] and "less than a day old" in young[5]["RATE_LIMIT"]
    assert all("RATE_LIMIT" not in h for h in run(T0 - 2 * 86400))  # two days: the full 20


def test_viral_link_domain_is_limited_platform_wide() -> None:
    eng = engine(per_minute=1000, new_per_hour=1000, link_per_minute=5)
    hits = [names(eng, i, f"s{i}", "r", "see https://viral.example.xyz/x", T0 + i * 0.01)
            for i in range(8)]
    assert "RATE_LIMIT" in hits[-1] and "example.xyz" in hits[-1]["RATE_LIMIT"]


@pytest.mark.parametrize("settings", [{"per_minute": 0}, {"new_per_hour": "x"}])
def test_bad_settings(settings: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="detectors.ratelimit"):
        RateLimitDetector.from_settings(settings)
