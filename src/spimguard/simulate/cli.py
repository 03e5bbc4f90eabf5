"""The simulator behind the command line: attack specs in, a JSON summary out.

:func:`simulate_cli` is what ``spimguard simulate`` calls. It builds the
defence the honest way: the shipped engine (every registered detector, the
policy's settings) with the content model swapped for the held-out one, so
that the ham the simulator sends was never seen in training.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import fields, replace
from pathlib import Path
from typing import Any, Literal

from spimguard.build import build_engine
from spimguard.core.engine import Engine
from spimguard.core.policy import Policy
from spimguard.detectors.content import ContentDetector
from spimguard.simulate.attacks import ATTACKS
from spimguard.simulate.run import SimConfig, SimResult, run_closed_loop
from spimguard.simulate.texts import heldout_model
from spimguard.simulate.world import Attack, JsonEvent, WorldOptions

__all__ = ["ALIASES", "defence_engine", "parse_attacks", "simulate_cli", "write_events"]

#: Short names accepted on the command line.
ALIASES = {"bots": "stranger_bots", "slow": "slow_worm", "all": "all"}


def defence_engine(policy: Policy | str | Path | None = None,
                   model: Literal["heldout", "shipped"] = "heldout") -> Engine:
    """The default engine; with ``model="heldout"`` its content model is the held-out one."""
    base = build_engine(policy)
    if model == "shipped":
        return base
    settings = base.policy.detector_settings.get("content", {})
    content = ContentDetector.from_settings(settings, model=heldout_model())
    detectors = [content if d.name == "content" else d for d in base.detectors]
    return Engine(detectors, policy=base.policy)


def _value(raw: Any) -> Any:
    """Command-line values: numbers, ``none``, and ``lo/hi`` pairs."""
    if not isinstance(raw, str):
        return tuple(raw) if isinstance(raw, list) else raw
    s = raw.strip()
    if s.lower() in ("none", "null", "never"):
        return None
    if "/" in s:
        return tuple(float(x) for x in s.split("/"))
    try:
        return int(s)
    except ValueError:
        return float(s)


def parse_attacks(specs: Iterable[str], params: Mapping[str, Any] | None = None
                  ) -> tuple[Attack, ...]:
    """Build attacks from specs like ``worm``, ``worm:seeds=5,click_prob=0.2`` or ``all``.

    ``params`` adds settings by prefixed name (``worm_seeds=5``,
    ``botnet_accounts=40``), applied to every attack of that kind.
    """
    by_kind: dict[str, dict[str, Any]] = {}
    names = sorted(ATTACKS, key=len, reverse=True)
    for key, raw in (params or {}).items():
        kind = next((n for n in names if key.startswith(n + "_")), None)
        if kind is None:
            raise ValueError(f"attack parameter {key!r} names no attack ({', '.join(ATTACKS)})")
        by_kind.setdefault(kind, {})[key[len(kind) + 1:]] = _value(raw)
    out: list[Attack] = []
    for spec in specs:
        name, _, rest = spec.partition(":")
        name = ALIASES.get(name.strip(), name.strip())
        kinds = list(ATTACKS) if name == "all" else [name]
        for kind in kinds:
            cls = ATTACKS.get(kind)
            if cls is None:
                raise ValueError(f"unknown attack {kind!r} (known: {', '.join(ATTACKS)}, all)")
            kw = dict(by_kind.get(kind, {}))
            for item in filter(None, (x.strip() for x in rest.split(","))):
                k, eq, v = item.partition("=")
                if not eq:
                    raise ValueError(f"attack setting {item!r} is not key=value")
                kw[k.strip()] = _value(v)
            known = {f.name for f in fields(cls) if f.name != "templates"}
            unknown = sorted(set(kw) - known)
            if unknown:
                raise ValueError(f"{kind} has no setting {', '.join(unknown)} "
                                 f"(settings: {', '.join(sorted(known))})")
            out.append(cls(**kw))
    return tuple(out)


def write_events(events: Iterable[JsonEvent], path: Path) -> int:
    """Write a stream as JSON Lines (spec section 2); return the number of lines."""
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        for ev in events:
            fh.write(json.dumps(ev, ensure_ascii=False, separators=(",", ":")))
            fh.write("\n")
            n += 1
    return n


def _table(defended: SimResult, undefended: SimResult) -> dict[str, Any]:
    d, u = defended.compromise, undefended.compromise
    return {
        "reach_defended": d["reach"],
        "reach_undefended": u["reach"],
        "reach_ratio": round(d["reach"] / u["reach"], 3) if u["reach"] else None,
        "secondary_defended": d["secondary"],
        "secondary_undefended": u["secondary"],
    }


def simulate_cli(
    graph: Path | None,
    attacks: list[str],
    defend: bool = True,
    out: Path | None = None,
    seed: int = 0,
    days: float | None = 7.0,
    *,
    compare: bool = False,
    shadow: bool = True,
    policy: Path | None = None,
    model: Literal["heldout", "shipped"] = "heldout",
    n_users: int = 300,
    window_start: float | None = None,
    world: Mapping[str, Any] | None = None,
    **attack_params: Any,
) -> dict[str, Any]:
    """Run one simulation (or a defended/undefended pair) and summarise it as JSON data.

    ``graph``: a SNAP file (None: synthetic, ``n_users`` users); the window is
    the busiest ``days`` unless ``window_start`` is given. ``attacks``: specs
    for :func:`parse_attacks`; ``attack_params`` like ``worm_seeds=5``.
    ``defend``: the engine enforces its verdicts; otherwise nothing is stopped
    (and with ``shadow`` the engine still scores what it would have done).
    ``compare``: run both and add the reach ratio. ``out``: write the stream of
    the first run (defended if ``defend``) as JSON Lines. ``world``: settings
    of :class:`WorldOptions` (e.g. ``{"unlock_after_hours": None}``).
    """
    cfg = SimConfig(seed=seed, graph=graph, n_users=n_users, days=days,
                    window_start=window_start,
                    attacks=parse_attacks(attacks, attack_params),
                    world=replace(WorldOptions(), **dict(world or {})))
    runs: list[SimResult] = []
    modes = [defend, not defend] if compare else [defend]
    for i, mode in enumerate(modes):
        engine = defence_engine(policy, model) if mode or shadow else None
        res = run_closed_loop(cfg, engine if mode else None,
                              shadow=None if mode else engine,
                              record=out is not None and i == 0)
        if i == 0 and out is not None and res.events is not None:
            write_events(res.events, out)
        runs.append(res)
    summary: dict[str, Any] = {
        "graph": str(graph) if graph is not None else f"synthetic({n_users})",
        "seed": seed,
        "attacks": [f"{a.kind}" for a in cfg.attacks],
        "model": model,
        "runs": [r.summary() for r in runs],
    }
    if compare:
        d, u = (runs[0], runs[1]) if defend else (runs[1], runs[0])
        summary["comparison"] = _table(d, u)
    if out is not None:
        summary["out"] = str(out)
    return summary
