"""The benign traffic of bench_false_positives.py, and the chat day it is replayed in.

A text that the content model lets through can still be held by the engine:
behaviour detectors judge who sends it, to whom, how often and whether the
sender usually writes like that. A false-positive figure from the content
model alone misses those, and one from a stream with no history measures
strangers: every sender would be new, write to people who never added them,
and have no profile. So every data line is sent in a made-up but ordinary
chat day: accounts created 60 days before, a random friend graph (contacts
added both ways), and 30 earlier messages per user spread over the previous
30 days, in the scripts that user writes today (a user who writes Chinese
today wrote Chinese last week; otherwise every message would be "a new
script"). That history is replayed through the engine and never counted; it
comes from a part of the same corpus the counted lines are not in (the chat
corpora's train split) or, when that is missing, from a small neutral list.

Everything depends on ``seed`` only: the timeline starts at a fixed instant,
never the wall clock, so two runs (or two models in one run) see the same day.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import chat_texts  # bench/: on sys.path when run as python bench/...

from spimguard import AccountEvent, ContactEvent, Event, MessageEvent
from spimguard.learning.corpus import read_corpus
from spimguard.text.scripts import dominant_script

__all__ = ["FALLBACK_HARD_HAM", "GREETINGS", "NEUTRAL", "START", "DataSet", "Item", "Stream",
           "build_stream", "data_sets", "friend_graph", "greetings_stream", "read_hard_ham",
           "read_texts"]

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "src" / "spimguard" / "data"
HARD_HAM = [DATA / "hardham" / f"hard-ham-{split}.csv" for split in ("dev", "test")]
CHAT = DATA / "corpus" / "chat"
DAY = 86_400.0
#: The first counted message (2023-11-14 22:13 UTC); history lies before it.
START = 1_700_000_000.0
ACCOUNT_AGE = 60 * DAY
HISTORY_DAYS = 30

#: History of last resort: ordinary chat sentences the other benches send as ham.
NEUTRAL: tuple[str, ...] = tuple(chat_texts.HAM + chat_texts.MORE_HAM)

#: Texts many people send to several friends at once on an ordinary day.
GREETINGS: tuple[str, ...] = ("happy new year!", "ok", "thanks", "congrats 🎉", "on my way",
                              "happy birthday!! 🎂", "good night", "see you tomorrow")

#: Used (and said so) while data/hardham/*.csv do not exist yet: (category, text).
FALLBACK_HARD_HAM: tuple[tuple[str, str], ...] = (
    ("numbers", "my flight is BA2490, lands 14:35, gate 23"),
    ("numbers", "the code for the door is 4821#"),
    ("money", "can you send me the $20 for pizza? paypal is fine"),
    ("money", "WIN! we won the pub quiz, £50 bar tab 🎉"),
    ("urgent", "URGENT call mum, she lost her phone"),
    ("links", "slides are here https://github.com/python/cpython/pull/1"),
    ("links", "free tickets for tonight? https://www.eventbrite.com/e/123"),
    ("codes", "your verification code is 123456 lol jk that's mine"),
    ("shouting", "CONGRATULATIONS!!! YOU DID IT!!!"),
    ("cyrillic", "Привет! Скинь, пожалуйста, адрес, буду через 10 минут"),
)


@dataclass(frozen=True, slots=True)
class Item:
    """One counted message's content: the text and the group it is reported in."""

    text: str
    category: str = ""


@dataclass(slots=True)
class Stream:
    """Events in time order; only the messages in ``counted`` enter the figures."""

    events: list[Event]
    counted: dict[str, Item]
    friends: dict[str, tuple[str, ...]]


def read_texts(path: Path) -> list[str]:
    """Ham texts of a corpus file (spam lines and unreadable lines left out)."""
    return [i.text for i in read_corpus(path).items if not i.spam]


def read_hard_ham(path: Path) -> tuple[list[Item], int]:
    """(ham items with their category, rows skipped) of a label,category,script,text CSV."""
    items: list[Item] = []
    skipped = 0
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            text, label = row.get("text"), (row.get("label") or "").strip().lower()
            if not text or label != "ham":
                skipped += 1
                continue
            items.append(Item(text, (row.get("category") or "").strip() or "-"))
    return items, skipped


def friend_graph(rng: random.Random, n_users: int, lo: int = 5, hi: int = 20
                 ) -> dict[str, tuple[str, ...]]:
    """Undirected random graph: every user gets between ``lo`` and ``hi`` friends."""
    users = [f"u{i:03d}" for i in range(n_users)]
    if n_users <= lo:
        raise ValueError(f"need more than {lo} users")
    adj: dict[str, set[str]] = {u: set() for u in users}
    target = {u: rng.randint(lo, hi) for u in users}
    for u in rng.sample(users, n_users):
        free = [v for v in users if v != u and v not in adj[u] and len(adj[v]) < hi]
        rng.shuffle(free)
        # Prefer partners still below their own target, so degrees stay spread.
        free.sort(key=lambda v: len(adj[v]) >= target[v])
        for v in free[:max(0, target[u] - len(adj[u]))]:
            adj[u].add(v)
            adj[v].add(u)
    for u in users:  # top up the few left short (everyone near them was full)
        while len(adj[u]) < lo:
            free = [v for v in users if v != u and v not in adj[u]]
            v = rng.choice([v for v in free if len(adj[v]) < hi] or free)
            adj[u].add(v)
            adj[v].add(u)
    return {u: tuple(sorted(adj[u])) for u in users}


def _history(rng: random.Random, friends: dict[str, tuple[str, ...]], pool: Sequence[str],
             scripts: dict[str, list[str]], per_user: int) -> list[Event]:
    """Accounts, contacts both ways, then ``per_user`` earlier messages per user."""
    created = START - ACCOUNT_AGE
    events: list[Event] = []
    t = created
    for u in friends:
        events.append(AccountEvent(t, u, created_ts=created))
        t += 1.0
    for u, fs in friends.items():
        for v in fs:
            events.append(ContactEvent(t, u, v))  # both directions: (u, v) and later (v, u)
            t += 1.0
    by_script: dict[str, list[str]] = {}
    for text in pool or NEUTRAL:
        by_script.setdefault(dominant_script(text), []).append(text)
    everything = list(pool or NEUTRAL)
    slots: list[tuple[str, str]] = []
    for u, fs in friends.items():
        cycle = list(fs) * (per_user // len(fs) + 1)  # every friend written to, evenly
        rng.shuffle(cycle)
        slots += [(u, v) for v in cycle[:per_user]]
    rng.shuffle(slots)
    begin = START - HISTORY_DAYS * DAY
    times = sorted(rng.uniform(begin, START - 60.0) for _ in slots)
    for j, ((u, v), ts) in enumerate(zip(slots, times, strict=True)):
        script = rng.choice(scripts.get(u) or ["latin"])
        text = rng.choice(by_script.get(script) or everything)
        events.append(MessageEvent(ts, f"w{j:06d}", u, (v,), text=text))
    return events


def build_stream(items: Sequence[Item], history: Sequence[str], *, seed: int,
                 n_users: int = 300, per_user: int = 30, mean_gap: float = 3.0) -> Stream:
    """Each item sent by a random user to one random friend, ``mean_gap`` s apart on average.

    ``history``: texts for the uncounted earlier messages (empty: ``NEUTRAL``).
    """
    rng = random.Random(f"fp:{seed}")
    friends = friend_graph(rng, n_users)
    users = list(friends)
    senders = [rng.choice(users) for _ in items]
    scripts: dict[str, list[str]] = {}
    for item, u in zip(items, senders, strict=True):
        scripts.setdefault(u, []).append(dominant_script(item.text))
    events = _history(rng, friends, history, scripts, per_user)
    counted: dict[str, Item] = {}
    t = START
    for i, (item, u) in enumerate(zip(items, senders, strict=True)):
        mid = f"m{i:06d}"
        events.append(MessageEvent(t, mid, u, (rng.choice(friends[u]),), text=item.text))
        counted[mid] = item
        t += max(1e-3, rng.expovariate(1.0 / mean_gap))
    return Stream(events, counted, friends)


def greetings_stream(history: Sequence[str], *, seed: int, n_users: int = 300,
                     senders: int = 50, fanout: int = 3, window: float = 600.0,
                     greetings: Sequence[str] = GREETINGS) -> Stream:
    """For each greeting (an hour apart), ``senders`` users send it to ``fanout`` friends each.

    Each copy is its own direct message, all within ``window`` seconds: the
    pattern of a campaign, with nothing else of one.
    """
    rng = random.Random(f"fp-greetings:{seed}")
    friends = friend_graph(rng, n_users)
    events = _history(rng, friends, history, {}, 30)
    counted: dict[str, Item] = {}
    sends: list[tuple[float, str, str, str, int]] = []
    for g, text in enumerate(greetings):
        base = START + g * 3600.0
        for u in rng.sample(list(friends), min(senders, n_users)):
            for v in rng.sample(friends[u], min(fanout, len(friends[u]))):
                sends.append((base + rng.uniform(0.0, window), u, v, text, g))
    for k, (ts, u, v, text, g) in enumerate(sorted(sends)):
        mid = f"g{g}-{k:05d}"
        events.append(MessageEvent(ts, mid, u, (v,), text=text))
        counted[mid] = Item(text, text)
    return Stream(events, counted, friends)


@dataclass(frozen=True)
class DataSet:
    """A data set to replay: ``build`` makes its stream (each model replays the same one)."""

    name: str
    kind: str
    file: str
    note: str
    build: Callable[[], Stream]


def data_sets(split: str, seed: int, users: int, notes: list[str]) -> list[DataSet]:
    """Every data set of (a) and (b) that exists, with the history it is replayed after."""
    chat = sorted(CHAT.glob(f"*.{split}.tsv"))
    train = {p.name.split(".")[0]: CHAT / p.name.replace(f".{split}.", ".train.") for p in chat}
    pooled = [t for p in train.values() if p.exists() for t in read_texts(p)]
    out: list[DataSet] = []

    def stream(items: list[Item], history: list[str]) -> Callable[[], Stream]:
        return lambda: build_stream(items, history, seed=seed, n_users=users)

    hard = [p for p in HARD_HAM if p.exists()]
    for path in hard:
        items, skipped = read_hard_ham(path)
        note = f"{skipped} non-ham or empty rows skipped" if skipped else ""
        out.append(DataSet(path.stem, "hard_ham", str(path.relative_to(ROOT)), note,
                           stream(items, pooled)))
    if not hard:
        notes.append("hard ham: data/hardham/hard-ham-{dev,test}.csv absent; used the "
                     f"{len(FALLBACK_HARD_HAM)}-line fallback list in bench/fp_data.py")
        items = [Item(t, c) for c, t in FALLBACK_HARD_HAM]
        out.append(DataSet("hard-ham (fallback list)", "hard_ham", "bench/fp_data.py",
                           "fallback", stream(items, pooled)))
    out.append(DataSet("repeated greetings", "greetings", "bench/fp_data.py",
                       "50 users x 3 friends per text, within 10 min",
                       lambda: greetings_stream(pooled, seed=seed, n_users=users)))
    if not chat:
        notes.append(f"chat corpora: no {CHAT.relative_to(ROOT)}/*.{split}.tsv; (b) skipped")
    for path in chat:
        source = path.name.split(".")[0]
        history = read_texts(train[source]) if train[source].exists() else []
        note = (f"history from {train[source].name}" if history
                else "history from the neutral list (no train split)")
        items = [Item(t, source) for t in read_texts(path)]
        out.append(DataSet(f"chat {source}.{split}", "chat", str(path.relative_to(ROOT)), note,
                           stream(items, history)))
    return out
