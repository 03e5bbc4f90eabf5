"""Who messages whom, and when: the backbone of a simulation.

Two sources give the same shape, a time-sorted list of ``(sender, recipient,
ts)``: a real temporal network in SNAP's ``src dst ts`` format (CollegeMsg, for
instance; read from a path the user gives, never shipped: it has no licence),
or :func:`synthetic_graph`, which imitates what such data shows: a few people
write most messages (heavy-tailed activity and degree), friends of friends are
friends (communities, triangles), people sleep (diurnal rhythm), and chat comes
in bursts of back-and-forth replies.

The backbone carries no text and no labels: the simulator overlays both.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Sequence
from itertools import accumulate
from pathlib import Path

__all__ = ["Edge", "TemporalEdges", "busiest_window", "load_snap", "synthetic_graph"]

#: One message of the backbone: sender, recipient, Unix time.
Edge = tuple[str, str, float]

#: 2024-01-01 00:00 UTC: where synthetic time starts (a Monday midnight, so the
#: diurnal and weekly rhythms line up with the calendar).
SYNTHETIC_EPOCH = 1_704_067_200.0

#: Relative activity per hour of the day (UTC), lowest before dawn, highest in
#: the evening, as in published IM and SMS traffic curves.
_DIURNAL = (0.30, 0.16, 0.08, 0.05, 0.05, 0.08, 0.20, 0.45, 0.60, 0.70, 0.75, 0.80,
            0.90, 0.85, 0.80, 0.80, 0.85, 0.95, 1.00, 1.10, 1.20, 1.20, 1.00, 0.60)


class TemporalEdges(list[Edge]):
    """A list of edges that also remembers the lines it could not read."""

    def __init__(self, edges: Sequence[Edge] = (), bad_lines: list[tuple[int, str]] | None = None):
        super().__init__(edges)
        #: (line number, reason) for every line skipped by :func:`load_snap`.
        self.bad_lines: list[tuple[int, str]] = bad_lines if bad_lines is not None else []


def load_snap(path: str | Path, max_events: int | None = None) -> TemporalEdges:
    """Read a SNAP temporal edge list: ``src dst ts`` a line, space or tab separated.

    Comment lines (``#`` or ``%``) and blank lines are ignored. A line that is
    not two ids and a finite number, or a self-loop, is skipped and counted in
    ``bad_lines`` (with its number), never silently dropped. Extra columns are
    ignored. The result is sorted by time (stable, so equal times keep file
    order); ``max_events`` keeps the first that many readable lines.
    """
    edges: list[Edge] = []
    bad: list[tuple[int, str]] = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, start=1):
            s = line.strip()
            if not s or s[0] in "#%":
                continue
            parts = s.split()
            if len(parts) < 3:
                bad.append((n, "expected 'src dst ts'"))
                continue
            try:
                ts = float(parts[2])
            except ValueError:
                bad.append((n, f"timestamp is not a number: {parts[2][:30]!r}"))
                continue
            if not math.isfinite(ts):
                bad.append((n, "timestamp is not finite"))
                continue
            if parts[0] == parts[1]:
                bad.append((n, "self-loop"))
                continue
            edges.append((parts[0], parts[1], ts))
            if max_events is not None and len(edges) >= max_events:
                break
    edges.sort(key=lambda e: e[2])
    return TemporalEdges(edges, bad)


def busiest_window(edges: Sequence[Edge], days: float) -> tuple[float, float]:
    """The ``days``-long window (start, end) holding the most messages.

    Only windows starting at a message are tried (the best one always does).
    ``edges`` must be sorted by time.
    """
    if not edges:
        return (0.0, 0.0)
    span = days * 86_400.0
    times = [e[2] for e in edges]
    best, best_i = -1, 0
    for i, t in enumerate(times):
        if i and t == times[i - 1]:
            continue
        n = bisect.bisect_left(times, t + span, lo=i) - i
        if n > best:
            best, best_i = n, i
    return (times[best_i], times[best_i] + span)


def synthetic_graph(n_users: int = 300, days: float = 7, seed: int = 0) -> TemporalEdges:
    """A plausible IM backbone: about ``9 * n_users`` messages a day.

    Built in two steps. First a friendship graph: users fall in communities of
    8 to 40; each wants a heavy-tailed number of friends (log-normal, median
    about 7), found mostly in their own community, often among friends of
    friends (closing triangles), sometimes anywhere, preferring active users.
    Then conversations: each day, about ``2.4 * n_users`` conversations start at
    times drawn from a diurnal curve (fewer at weekends); the initiator is
    drawn by a heavy-tailed activity weight, the partner by tie strength; a
    conversation is a burst of 1 to ~40 messages, 80% of them answered, with
    gaps of seconds to minutes. Users are named ``u0000``, ``u0001``, ...
    """
    if n_users < 2:
        raise ValueError("a graph needs at least two users")
    rng = random.Random(f"synthetic-graph:{seed}")
    users = [f"u{i:04d}" for i in range(n_users)]
    activity = [min(40.0, rng.paretovariate(1.6)) for _ in users]
    community = _communities(n_users, rng)
    members: dict[int, list[int]] = {}
    for u, c in enumerate(community):
        members.setdefault(c, []).append(u)
    ties: list[dict[int, float]] = [{} for _ in users]
    act_cum = list(accumulate(activity))

    def befriend(a: int, b: int) -> None:
        if a != b and b not in ties[a]:
            w = rng.paretovariate(1.3)
            ties[a][b] = w
            ties[b][a] = w

    for u in range(n_users):
        want = min(60, max(2, round(math.exp(rng.gauss(1.9, 0.7)))))
        for _ in range(want * 3):
            if len(ties[u]) >= want:
                break
            r = rng.random()
            if r < 0.55:
                befriend(u, rng.choice(members[community[u]]))
            elif r < 0.85 and ties[u]:
                friend = rng.choice(sorted(ties[u]))
                if ties[friend]:
                    befriend(u, rng.choice(sorted(ties[friend])))
            else:
                befriend(u, bisect.bisect_left(act_cum, rng.random() * act_cum[-1]))
    friends = [sorted(t) for t in ties]
    friend_cum = [list(accumulate(ties[u][f] for f in friends[u])) for u in range(n_users)]
    hour_cum = list(accumulate(_DIURNAL))

    out: list[tuple[float, int, int]] = []
    n_days = math.ceil(days)
    end = SYNTHETIC_EPOCH + days * 86_400.0
    for day in range(n_days):
        weekend = (day % 7) >= 5
        n_conv = round(2.4 * n_users * (0.8 if weekend else 1.0) * rng.uniform(0.85, 1.15))
        for _ in range(n_conv):
            a = bisect.bisect_left(act_cum, rng.random() * act_cum[-1])
            if not friends[a]:
                continue
            cum = friend_cum[a]
            b = friends[a][bisect.bisect_left(cum, rng.random() * cum[-1])]
            hour = bisect.bisect_left(hour_cum, rng.random() * hour_cum[-1])
            t = SYNTHETIC_EPOCH + day * 86_400.0 + hour * 3600.0 + rng.uniform(0, 3600)
            _conversation(a, b, t, rng, out)
    out.sort()
    return TemporalEdges([(users[a], users[b], round(t, 3)) for t, a, b in out if t < end])


def _communities(n: int, rng: random.Random) -> list[int]:
    sizes: list[int] = []
    while sum(sizes) < n:
        sizes.append(rng.randint(8, 40))
    labels = [c for c, s in enumerate(sizes) for _ in range(s)][:n]
    rng.shuffle(labels)
    return labels


def _conversation(a: int, b: int, t: float, rng: random.Random,
                  out: list[tuple[float, int, int]]) -> None:
    """One burst of chat: geometric length, replies with probability 0.8 at first."""
    length = 1 + min(40, int(rng.expovariate(1 / 4.5)))
    answered = rng.random() < 0.8
    speaker, other = a, b
    for i in range(length):
        out.append((t, speaker, other))
        if i == 0 and not answered:
            return
        if rng.random() < 0.65:
            speaker, other = other, speaker
        t += min(1200.0, math.exp(rng.gauss(math.log(35.0), 1.0)))
