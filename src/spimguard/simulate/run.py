"""Running a simulation: open loop (just the stream) or closed loop (with a defence).

Open loop, :func:`generate`, delivers everything: the stream is what the
attacks would do unopposed, ready for ``spimguard replay --score``. Closed loop,
:func:`run_closed_loop`, asks the engine about each event as it is emitted,
and a message held or blocked reaches nobody: a worm lure that is stopped
compromises no one, and an account the engine locks or challenges loses its
attacker. The undefended baseline is the same call with ``engine=None``
(optionally with a ``shadow`` engine whose verdicts are scored but ignored).

Both loops are lazy: generation is a queue of future tasks, so what happens
next can depend on what the defence did.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from spimguard.core.events import Event, MessageEvent, parse_event
from spimguard.core.scoring import ReplayScorer
from spimguard.core.verdicts import AccountAction, AccountNotice, Action, Verdict
from spimguard.simulate.graph import (
    SYNTHETIC_EPOCH,
    Edge,
    busiest_window,
    load_snap,
    synthetic_graph,
)
from spimguard.simulate.metrics import compromise_summary
from spimguard.simulate.texts import HamPool
from spimguard.simulate.world import Attack, JsonEvent, World, WorldOptions

__all__ = ["Defence", "SimConfig", "SimResult", "generate", "run_closed_loop"]


class Defence(Protocol):
    """What the simulator needs of an engine (:class:`spimguard.Engine` fits)."""

    def observe(self, event: Event) -> Verdict | None: ...

    def account_state(self, user: str, now: float | None = None) -> AccountAction | None: ...


@dataclass(frozen=True)
class SimConfig:
    seed: int = 0
    #: A SNAP ``src dst ts`` file, or the edges themselves; None: a synthetic graph.
    graph: Path | Sequence[Edge] | None = None
    #: Synthetic graph: number of users.
    n_users: int = 300
    #: Length of the simulated window in days; None: the whole graph (not synthetic).
    days: float | None = 7.0
    #: Synthetic graph: days of chat before the window that only fill contact lists.
    history_days: float = 1.0
    #: Real graph: where the window starts (Unix time); None: the busiest ``days``.
    #: Every edge before the window is history (it fills contact lists).
    window_start: float | None = None
    #: Real graph: read at most this many edges.
    max_events: int | None = None
    attacks: tuple[Attack, ...] = ()
    world: WorldOptions = field(default_factory=WorldOptions)


@dataclass(slots=True)
class SimResult:
    defended: bool
    #: The replay scorer's figures (shared/spec/formats.md, section 4).
    score: dict[str, Any]
    #: Reach and containment over every compromise (see ``compromise_summary``).
    compromise: dict[str, Any]
    #: Per message kind (``ham`` and each attack): sent, stopped, delivered, ...
    kinds: dict[str, dict[str, Any]]
    window: tuple[float, float]
    n_events: int
    elapsed_s: float
    events: list[JsonEvent] | None = None

    @property
    def reach(self) -> int:
        return int(self.compromise["reach"])

    def summary(self) -> dict[str, Any]:
        """Everything but the events, JSON-ready."""
        return {
            "defended": self.defended,
            "window": {"start": self.window[0], "end": self.window[1],
                       "days": round((self.window[1] - self.window[0]) / 86_400.0, 3)},
            "events": self.n_events,
            "elapsed_s": round(self.elapsed_s, 2),
            "compromise": self.compromise,
            "kinds": self.kinds,
            "score": self.score,
        }


def _prepare(cfg: SimConfig) -> tuple[Sequence[Edge], float, float, float | None]:
    """(edges, start, end, young_after) for the configured graph."""
    if cfg.graph is None:
        days = cfg.days if cfg.days is not None else 7.0
        synth = synthetic_graph(cfg.n_users, cfg.history_days + days, cfg.seed)
        start = SYNTHETIC_EPOCH + cfg.history_days * 86_400.0
        return synth, start, start + days * 86_400.0, None
    edges: Sequence[Edge]
    if isinstance(cfg.graph, str | Path):
        edges = load_snap(cfg.graph, cfg.max_events)
    else:
        edges = sorted(cfg.graph, key=lambda e: e[2])
    if not edges:
        raise ValueError("the graph has no edges")
    first, last = edges[0][2], edges[-1][2]
    if cfg.window_start is not None:
        start = cfg.window_start
        end = start + cfg.days * 86_400.0 if cfg.days is not None else last + 1.0
    elif cfg.days is not None:
        start, end = busiest_window(edges, cfg.days)
    else:
        start, end = first, last + 1.0
    return edges, start, end, first + 2 * 86_400.0


def _world(cfg: SimConfig, **kw: Any) -> World:
    edges, start, end, young = _prepare(cfg)
    world = World(edges, start, end, cfg.seed, HamPool(), cfg.world, young_after=young, **kw)
    for i, attack in enumerate(cfg.attacks):
        attack.install(world, random.Random(f"{cfg.seed}:attack:{i}:{attack.kind}"))
    return world


def generate(config: SimConfig) -> Iterator[JsonEvent]:
    """The open-loop stream: time-ordered JSON-ready events, everything delivered."""
    return _world(config).run()


def _drain(observer: Defence | None) -> list[AccountNotice]:
    drain = getattr(observer, "drain_notices", None)
    return list(drain()) if drain is not None else []


def run_closed_loop(
    config: SimConfig,
    engine: Defence | None,
    *,
    shadow: Defence | None = None,
    record: bool = True,
) -> SimResult:
    """Run with ``engine`` enforcing its verdicts; ``engine=None`` is the undefended run.

    ``shadow`` (only without ``engine``) sees every event and its verdicts are
    scored, but nothing is stopped: what the engine *would* have flagged when
    the attack runs unopposed. Without either, every message scores ``allow``.
    ``record`` keeps the stream in ``SimResult.events``.
    """
    observer = engine if engine is not None else shadow
    scorer = ReplayScorer()

    def judge(event: JsonEvent) -> Verdict | None:
        parsed = parse_event(event)
        verdict = observer.observe(parsed) if observer is not None else None
        scorer.event(parsed)
        if isinstance(parsed, MessageEvent):
            scorer.message(parsed, verdict or Verdict(parsed.id, Action.ALLOW, 0.0, ()))
        else:  # feedback may act on an account outside any verdict
            for notice in _drain(observer):
                scorer.account_action(notice.user)
                if engine is not None:
                    world.on_account_action(notice.user, notice.session,
                                            notice.action.value)
        return verdict

    def actioned(user: str, now: float) -> bool:
        return engine is not None and engine.account_state(user, now) is not None

    t0 = time.perf_counter()
    world = _world(config, judge=judge, enforce=engine is not None, account_actioned=actioned)
    events: list[JsonEvent] = []
    n = 0
    for ev in world.run():
        n += 1
        if record:
            events.append(ev)
    kinds: dict[str, dict[str, Any]] = {k: s.to_dict() for k, s in sorted(world.stats.items())}
    for kind in kinds:
        recs = [r for r in world.records if r.kind == kind]
        if recs:
            kinds[kind]["compromise"] = compromise_summary(recs)
    return SimResult(
        defended=engine is not None,
        score=scorer.result(),
        compromise=compromise_summary(world.records),
        kinds=kinds,
        window=(world.start, world.end),
        n_events=n,
        elapsed_s=time.perf_counter() - t0,
        events=events if record else None,
    )
