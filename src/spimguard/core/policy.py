"""Policy: turns a message's hits into scored signals, an action and an account action.

Pure: no I/O beyond reading its TOML file, no state. Shipped defaults live in
``spimguard/conf/defaults.toml``; an operator's file is merged over them key by
key (like Rspamd's ``local.d``), so an upgrade that adds a setting never needs
the operator to edit anything.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from spimguard.core.errors import PolicyError
from spimguard.core.escalation import EscalationSettings
from spimguard.core.signals import Hit, Signal, SignalSpec
from spimguard.core.verdicts import AccountAction, Action

__all__ = ["Decision", "Policy", "load_policy_dict"]

_ACTIONS = {a.value: a for a in Action}


def _defaults() -> dict[str, Any]:
    text = resources.files("spimguard").joinpath("conf/defaults.toml").read_text("utf-8")
    return tomllib.loads(text)


def _merge(base: dict[str, Any], over: Mapping[str, Any], where: str = "") -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        path = f"{where}.{key}" if where else key
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value, path)
        else:
            out[key] = value
    return out


def load_policy_dict(path: str | Path | None = None) -> dict[str, Any]:
    """Defaults merged with an operator file (if any), as plain data."""
    data = _defaults()
    if path is not None:
        try:
            with open(path, "rb") as fh:
                local = tomllib.load(fh)
        except OSError as exc:
            raise PolicyError(f"cannot read policy file {path}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise PolicyError(f"policy file {path} is not valid TOML: {exc}") from exc
        data = _merge(data, local)
    return data


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    score: float
    signals: tuple[Signal, ...]
    account_action: AccountAction | None


@dataclass(frozen=True)
class Policy:
    warn: float = 4.0
    hold: float = 6.0
    block: float = 9.0
    challenge: float = 16.0
    lock: float = 24.0
    challenged_messages: Action = Action.HOLD
    locked_messages: Action = Action.BLOCK
    weights: Mapping[str, float] = field(default_factory=dict)
    forced: Mapping[str, Action] = field(default_factory=dict)
    disabled: frozenset[str] = frozenset()
    detector_settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: Signals that act on the sending account whenever they fire.
    account_forced: Mapping[str, AccountAction] = field(default_factory=dict)
    #: Rules that act on an account from evidence over several messages.
    escalation: EscalationSettings = field(default_factory=EscalationSettings)
    source: str = "defaults"

    @classmethod
    def load(cls, path: str | Path | None = None) -> Policy:
        """The shipped defaults, with ``path`` merged over them."""
        pol = cls.from_dict(load_policy_dict(path), merge_defaults=False)
        return pol if path is None else replace(pol, source=f"defaults + {path}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], merge_defaults: bool = True) -> Policy:
        """Build from TOML-shaped data, merged over the shipped defaults."""
        if merge_defaults:
            data = _merge(_defaults(), data)
        known = {"actions", "account", "weights", "forced", "detectors"}
        for key in data:
            if key not in known:
                raise PolicyError(f"unknown policy section [{key}]")
        actions = _table(data, "actions")
        account = _table(data, "account")
        detectors = _table(data, "detectors")
        thresholds = {k: _num(actions, k, "actions") for k in ("warn", "hold", "block")}
        for k in actions:
            if k not in thresholds:
                raise PolicyError(f"unknown key actions.{k}")
        if not thresholds["warn"] <= thresholds["hold"] <= thresholds["block"]:
            raise PolicyError(
                "thresholds must satisfy actions.warn <= actions.hold <= actions.block")
        acct = {k: _num(account, k, "account") for k in ("challenge", "lock")}
        account_forced = {
            str(k): _account_action(v, f"account.forced.{k}")
            for k, v in _table(account, "forced").items()
        }
        msg_actions = {
            k: _action(account.get(k, "hold" if k.startswith("challenged") else "block"),
                       f"account.{k}")
            for k in ("challenged_messages", "locked_messages")
        }
        for k in account:
            if k not in acct and k not in msg_actions and k not in ("forced", "escalation"):
                raise PolicyError(f"unknown key account.{k}")
        weights = {str(k): _num(_table(data, "weights"), k, "weights")
                   for k in _table(data, "weights")}
        forced = {str(k): _action(v, f"forced.{k}") for k, v in _table(data, "forced").items()}
        disabled = detectors.get("disabled", [])
        if not isinstance(disabled, list) or not all(isinstance(d, str) for d in disabled):
            raise PolicyError("detectors.disabled must be a list of detector names")
        settings = {k: dict(v) for k, v in detectors.items() if isinstance(v, Mapping)}
        return cls(
            warn=thresholds["warn"], hold=thresholds["hold"], block=thresholds["block"],
            challenge=acct["challenge"], lock=acct["lock"],
            challenged_messages=msg_actions["challenged_messages"],
            locked_messages=msg_actions["locked_messages"],
            weights=weights, forced=forced, disabled=frozenset(disabled),
            detector_settings=settings, account_forced=account_forced,
            escalation=EscalationSettings.from_table(_table(account, "escalation")),
        )

    def check_signals(self, known: Iterable[str]) -> None:
        """Fail on policy keys naming signals no detector emits (typos).

        Names from the shipped defaults are exempt: an engine built with only
        some detectors (``build_engine(only=...)``) must not trip over rules
        for detectors it left out.
        """
        names = set(known) | _shipped_signal_names()
        for section, keys in (("weights", self.weights), ("forced", self.forced),
                              ("account.forced", self.account_forced)):
            for k in keys:
                if k not in names:
                    raise PolicyError(f"[{section}] names unknown signal {k!r}")

    def weight(self, spec: SignalSpec) -> float:
        return self.weights.get(spec.name, spec.weight)

    def decide(self, hits: Iterable[Hit], specs: Mapping[str, SignalSpec]) -> Decision:
        """Score the hits and pick the message and account actions."""
        signals = []
        total = 0.0
        forced: Action | None = None
        account: AccountAction | None = None
        for h in hits:
            spec = specs.get(h.name)
            w = self.weights.get(h.name, spec.weight if spec else 1.0)
            s = w * h.strength
            total += s
            signals.append(Signal(h.name, s, h.detail))
            f = self.forced.get(h.name)
            if f is not None and (forced is None or f.rank > forced.rank):
                forced = f
            fa = self.account_forced.get(h.name)
            if fa is not None and (account is None or fa is AccountAction.LOCK):
                account = fa
        action = self.action_for(total)
        if forced is not None and forced.rank > action.rank:
            action = forced
        if total >= self.lock:
            account = AccountAction.LOCK
        elif total >= self.challenge and account is None:
            account = AccountAction.CHALLENGE
        signals.sort(key=lambda sig: -abs(sig.score))
        return Decision(action, total, tuple(signals), account)

    def action_for(self, score: float) -> Action:
        if score >= self.block:
            return Action.BLOCK
        if score >= self.hold:
            return Action.HOLD
        if score >= self.warn:
            return Action.WARN
        return Action.ALLOW

    def as_dict(self) -> dict[str, Any]:
        """The effective policy, in the shape of the TOML file."""
        return {
            "actions": {"warn": self.warn, "hold": self.hold, "block": self.block},
            "account": {
                "challenge": self.challenge, "lock": self.lock,
                "challenged_messages": self.challenged_messages.value,
                "locked_messages": self.locked_messages.value,
                "forced": {k: v.value for k, v in self.account_forced.items()},
                "escalation": {k: getattr(self.escalation, k)
                               for k in EscalationSettings.__dataclass_fields__},
            },
            "weights": dict(self.weights),
            "forced": {k: v.value for k, v in self.forced.items()},
            "detectors": {"disabled": sorted(self.disabled),
                          **{k: dict(v) for k, v in self.detector_settings.items()}},
        }


@lru_cache(maxsize=1)
def _shipped_signal_names() -> frozenset[str]:
    d = _defaults()
    names = set(d.get("weights", {})) | set(d.get("forced", {}))
    names |= set(d.get("account", {}).get("forced", {}))
    return frozenset(names)


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    v = data.get(key, {})
    if not isinstance(v, Mapping):
        raise PolicyError(f"[{key}] must be a table")
    return v


def _num(table: Mapping[str, Any], key: str, section: str) -> float:
    v = table.get(key)
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise PolicyError(f"{section}.{key} must be a number, got {v!r}")
    return float(v)


def _account_action(v: Any, where: str) -> AccountAction:
    if v == "challenge":
        return AccountAction.CHALLENGE
    if v == "lock":
        return AccountAction.LOCK
    raise PolicyError(f"{where} must be 'challenge' or 'lock', got {v!r}")


def _action(v: Any, where: str) -> Action:
    if not isinstance(v, str) or v not in _ACTIONS:
        raise PolicyError(f"{where} must be one of {sorted(_ACTIONS)}, got {v!r}")
    return _ACTIONS[v]
