from pathlib import Path

import pytest

from spimguard.core.errors import PolicyError
from spimguard.core.policy import Policy
from spimguard.core.signals import Hit, SignalSpec
from spimguard.core.verdicts import AccountAction, Action

SPECS = {"A": SignalSpec("A", 10.0, "a"), "B": SignalSpec("B", -1.0, "b")}


@pytest.mark.parametrize("strength,action", [
    (0.0, Action.ALLOW), (0.39, Action.ALLOW), (0.4, Action.WARN), (0.6, Action.HOLD),
    (0.9, Action.BLOCK), (1.5, Action.BLOCK),
])
def test_thresholds_pick_the_action(strength: float, action: Action) -> None:
    d = Policy.load().decide([Hit("A", strength, "x")], SPECS)
    assert d.action is action
    assert d.score == pytest.approx(10 * strength)


def test_signals_carry_score_and_detail_sorted_by_weight() -> None:
    d = Policy.load().decide([Hit("B", 1.0, "friendly"), Hit("A", 0.5, "p=0.75")], SPECS)
    assert [s.name for s in d.signals] == ["A", "B"]
    assert d.signals[0].detail == "p=0.75" and d.score == pytest.approx(4.0)


def test_local_file_overrides_weights_and_forced(tmp_path: Path) -> None:
    f = tmp_path / "local.toml"
    f.write_text('[weights]\nA = 1.0\n[forced]\nB = "block"\n[actions]\nwarn = 0.5\n')
    pol = Policy.load(f)
    assert pol.hold == 6.0  # untouched defaults survive the merge
    d = pol.decide([Hit("A", 0.6, "x")], SPECS)
    assert d.action is Action.WARN
    assert pol.decide([Hit("B", 1.0, "x")], SPECS).action is Action.BLOCK
    assert "local.toml" in pol.source


def test_account_actions_from_score() -> None:
    pol = Policy.load()
    assert pol.decide([Hit("A", 1.7, "")], SPECS).account_action is AccountAction.CHALLENGE
    assert pol.decide([Hit("A", 2.5, "")], SPECS).account_action is AccountAction.LOCK


@pytest.mark.parametrize("content,needle", [
    ("[actions]\nwarn = 'high'\n", "actions.warn"),
    ("[actions]\nwarn = 9\nhold = 1\n", "warn <= "),
    ("[bogus]\nx = 1\n", "bogus"),
    ("[forced]\nA = 'explode'\n", "forced.A"),
    ("[detectors]\ndisabled = 'content'\n", "disabled"),
    ("not toml [", "not valid TOML"),
])
def test_invalid_policy_is_a_clear_error(tmp_path: Path, content: str, needle: str) -> None:
    f = tmp_path / "p.toml"
    f.write_text(content)
    with pytest.raises(PolicyError, match=needle):
        Policy.load(f)


def test_unknown_signal_in_weights_is_caught() -> None:
    pol = Policy.from_dict({"weights": {"TYPO_SIGNAL": 1.0}})
    with pytest.raises(PolicyError, match="TYPO_SIGNAL"):
        pol.check_signals(SPECS)


def test_missing_policy_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read"):
        Policy.load(tmp_path / "nope.toml")


def test_account_forced_signal_acts_on_the_account(tmp_path: Path) -> None:
    f = tmp_path / "p.toml"
    f.write_text('[account.forced]\nB = "lock"\n')
    pol = Policy.load(f)
    d = pol.decide([Hit("B", 1.0, "decoy")], SPECS)
    assert d.account_action is AccountAction.LOCK and d.action is Action.ALLOW
    assert pol.as_dict()["account"]["forced"]["B"] == "lock"


def test_account_forced_rejects_bad_values(tmp_path: Path) -> None:
    f = tmp_path / "p.toml"
    f.write_text('[account.forced]\nB = "ban"\n')
    with pytest.raises(PolicyError, match="account.forced.B"):
        Policy.load(f)
