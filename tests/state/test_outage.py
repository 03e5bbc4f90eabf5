"""The outage bookkeeping shared by the Redis fallback and the campaign log."""

from spimguard.state.outage import Outage


def test_one_warning_per_outage_retry_pacing_and_recovery_count() -> None:
    now = [0.0]
    o = Outage(retry_after=1.0, clock=lambda: now[0])
    assert o.due() and o.recovered() is None
    assert o.failed() is True and o.degraded and not o.due()
    assert o.failed() is False  # same outage: no second warning
    now[0] = 1.5
    assert o.due()
    assert o.recovered() == 2 and not o.degraded and o.errors == 2
    assert o.failed() is True and o.recovered() == 1 and o.errors == 3
