"""Any policy table either loads or fails with one PolicyError naming the problem."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from spimguard.core.errors import PolicyError
from spimguard.core.policy import Policy

SCALARS = (st.none() | st.booleans() | st.integers(-10**6, 10**6)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20))
KNOWN = {
    "actions": st.fixed_dictionaries({}, optional={k: SCALARS for k in ("warn", "hold", "block")}),
    "account": st.fixed_dictionaries({}, optional={
        "challenge": SCALARS, "lock": SCALARS, "challenged_messages": SCALARS,
        "locked_messages": SCALARS, "forced": st.dictionaries(st.text(max_size=12), SCALARS,
                                                             max_size=2)}),
    "weights": st.dictionaries(st.sampled_from(["CONTENT_SPAM", "FANOUT_BURST", "NOPE", ""]),
                               SCALARS, max_size=3),
    "forced": st.dictionaries(st.sampled_from(["DECOY_HIT", "CAMPAIGN_TAKEDOWN", "X"]), SCALARS,
                              max_size=2),
    "detectors": st.fixed_dictionaries({}, optional={
        "disabled": st.lists(st.text(max_size=10), max_size=3) | SCALARS,
        "content": st.dictionaries(st.sampled_from(["hold_at", "model", "odd"]), SCALARS,
                                   max_size=2),
        "campaigns": st.dictionaries(st.sampled_from(["similarity", "min_tokens", "expiry",
                                                      "confirm_senders", "junk"]), SCALARS,
                                     max_size=3)}),
    "unknown_section": st.dictionaries(st.text(max_size=5), SCALARS, max_size=2),
}


@settings(max_examples=400, deadline=None)
@given(st.fixed_dictionaries({}, optional=KNOWN))
def test_any_policy_loads_or_fails_cleanly(data: dict[str, Any]) -> None:
    try:
        policy = Policy.from_dict(data)
    except PolicyError as e:
        assert str(e) and len(str(e)) < 500
        return
    assert policy.warn <= policy.hold <= policy.block
