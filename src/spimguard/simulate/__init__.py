"""Simulated IM traffic with attacks, open loop or closed loop with the engine.

A backbone graph (a real temporal network such as SNAP's CollegeMsg, or a
synthetic one) says who writes to whom and when; the simulator overlays ham
texts held out from the content model's training data, contact lists, logins,
and any mix of attacks (phishing worm, slow worm, stranger bots, botnet),
with ground truth (spec section 2). In a closed loop a message the engine
stops is not delivered, so a stopped worm lure compromises nobody; comparing
with the undefended run measures containment.

Quick start::

    from spimguard.simulate import SimConfig, Worm, generate, run_closed_loop
    cfg = SimConfig(seed=1, days=3, attacks=(Worm(seeds=3),))
    for event in generate(cfg): ...                      # open loop
    res = run_closed_loop(cfg, defence_engine())         # closed loop
    base = run_closed_loop(cfg, None)                    # no defence
"""

from spimguard.simulate.attacks import ATTACKS, Botnet, SlowWorm, StrangerBots, Worm
from spimguard.simulate.cli import defence_engine, parse_attacks, simulate_cli, write_events
from spimguard.simulate.graph import TemporalEdges, busiest_window, load_snap, synthetic_graph
from spimguard.simulate.run import Defence, SimConfig, SimResult, generate, run_closed_loop
from spimguard.simulate.texts import HamPool, heldout_model, in_model_part, split_shipped
from spimguard.simulate.world import Attack, World, WorldOptions

__all__ = [
    "ATTACKS",
    "Attack",
    "Botnet",
    "Defence",
    "HamPool",
    "SimConfig",
    "SimResult",
    "SlowWorm",
    "StrangerBots",
    "TemporalEdges",
    "World",
    "WorldOptions",
    "Worm",
    "busiest_window",
    "defence_engine",
    "generate",
    "heldout_model",
    "in_model_part",
    "load_snap",
    "parse_attacks",
    "run_closed_loop",
    "simulate_cli",
    "split_shipped",
    "synthetic_graph",
    "write_events",
]
