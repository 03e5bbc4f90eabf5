"""The composition root: the one place that knows every detector.

Every interface builds its engine here, so the CLI, the HTTP service and the
Synapse module judge a message the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from spimguard.core.engine import Engine
from spimguard.core.events import MessageEvent
from spimguard.core.policy import Policy
from spimguard.detectors import REGISTRY
from spimguard.detectors.links import LinksDetector
from spimguard.links.analyze import LinkAnalyzer
from spimguard.state.base import Store

__all__ = ["build_engine", "build_link_analyzer", "warm_up"]


def build_engine(
    policy: Policy | str | Path | None = None,
    store: Store | None = None,
    clock: Callable[[], float] | None = None,
    only: Iterable[str] | None = None,
) -> Engine:
    """An engine with every registered detector the policy does not disable.

    ``only`` restricts the detectors (e.g. ``["content"]`` for corpus evaluation).
    """
    pol = policy if isinstance(policy, Policy) else Policy.load(policy)
    wanted = set(only) if only is not None else None
    detectors = [
        factory(pol.detector_settings.get(name, {}))
        for name, factory in REGISTRY.items()
        if (wanted is None or name in wanted) and name not in pol.disabled
    ]
    return Engine(detectors, policy=pol, store=store, clock=clock)


def build_link_analyzer(policy: Policy | str | Path | None = None) -> LinkAnalyzer:
    """The links detector's analyser, configured as the engine would be (for ``spimguard urls``)."""
    pol = policy if isinstance(policy, Policy) else Policy.load(policy)
    return LinksDetector.from_settings(pol.detector_settings.get("links", {})).analyzer


def warm_up(policy: Policy | str | Path | None = None) -> None:
    """Load what the first check would load (suffix list, link lists, model tables).

    The first check of a process otherwise takes ~75 ms instead of ~1 ms: a
    service or a Synapse module calls this at start, so no user's message pays
    for it. It checks one made-up message on a throwaway engine and in-memory
    store; the shared, read-only data it loads stays for every engine.
    """
    engine = build_engine(policy)
    engine.check(MessageEvent(
        ts=1_700_000_000.0, id="warm-up", sender="warm-up", recipients=("warm-up-2",),
        text="warm up: see https://example.com/a and hxxp://warm-up[.]example/b",
        html="<a href='https://example.org/c'>c</a>"))
