"""The backbone: reading SNAP files and generating plausible synthetic traffic."""

from __future__ import annotations

import statistics
from collections import Counter
from pathlib import Path

from spimguard.simulate.graph import busiest_window, load_snap, synthetic_graph

FIXTURE = Path(__file__).parent / "fixtures" / "snap-small.txt"


def test_load_snap_skips_and_counts_bad_lines() -> None:
    edges = load_snap(FIXTURE)
    assert edges[0] == ("1", "2", 1000.0)
    assert len(edges) == 10
    assert [n for n, _ in edges.bad_lines] == [7, 8, 9]
    assert "self-loop" in edges.bad_lines[1][1]
    assert [e[2] for e in edges] == sorted(e[2] for e in edges)


def test_load_snap_max_events() -> None:
    assert len(load_snap(FIXTURE, max_events=3)) == 3


def test_busiest_window() -> None:
    edges = load_snap(FIXTURE)
    assert busiest_window(edges, 0.01) == (1000.0, 1864.0)
    assert busiest_window([], 1) == (0.0, 0.0)


def test_synthetic_graph_is_deterministic() -> None:
    assert synthetic_graph(80, 2, seed=3) == synthetic_graph(80, 2, seed=3)
    assert synthetic_graph(80, 2, seed=3) != synthetic_graph(80, 2, seed=4)


def test_synthetic_graph_looks_like_chat() -> None:
    edges = synthetic_graph(300, 2, seed=0)
    per_day = len(edges) / 2
    assert 1500 < per_day < 6000
    assert [e[2] for e in edges] == sorted(e[2] for e in edges)
    pairs = {(a, b) for a, b, _ in edges}
    reciprocity = sum((b, a) in pairs for a, b in pairs) / len(pairs)
    assert reciprocity > 0.6
    sent = sorted(Counter(a for a, _, _ in edges).values())
    assert sent[-1] > 8 * statistics.median(sent)  # heavy-tailed activity
    hours = Counter(int(t % 86_400 // 3600) for _, _, t in edges)
    assert hours[20] > 5 * hours[4]  # people sleep
    # triangles: friends of friends talk
    nbrs: dict[str, set[str]] = {}
    for a, b in pairs:
        nbrs.setdefault(a, set()).add(b)
        nbrs.setdefault(b, set()).add(a)
    closed = sum(1 for a, b in pairs if nbrs[a] & nbrs[b])
    assert closed / len(pairs) > 0.3
