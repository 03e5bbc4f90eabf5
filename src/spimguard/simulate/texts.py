"""Ham texts for simulated chat, kept apart from what the content model learns.

A simulation that draws its ham from the texts the shipped model was trained
on measures memory, not judgement. So the shipped labelled corpora are split
by a hash of each text (a duplicate always lands on the same side) into a
MODEL part (70%) and a SIM part (30%): :func:`heldout_model` trains on the
MODEL part only, and :class:`HamPool` draws only from the SIM part. Attack
texts never come from the corpora at all (see :mod:`spimguard.simulate.lures`).

Languages: the SMS Spam Collection is English; tg-spam's ham is mostly
Russian. A text with Cyrillic letters goes to the ``ru`` pool, any other to
``en``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import re
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from spimguard.learning.corpus import read_corpus
from spimguard.learning.model import ContentModel, ModelError
from spimguard.learning.shipped import (
    CHAT_WEIGHT,
    SHIPPED_CORPORA,
    chat_corpora,
    shipped_path,
    training_set,
)

__all__ = ["MODEL_SHARE", "HamPool", "HeldOut", "heldout_model", "in_model_part",
           "split_shipped"]

log = logging.getLogger("spimguard.simulate")

#: Share of the labelled texts (by hash) that the held-out model trains on.
MODEL_SHARE = 70

#: Sources whose bytes, with the corpora, key the on-disk model cache: a change
#: to training code retrains instead of reusing a stale model.
_TRAINING_SOURCES = ("learning/train.py", "learning/features.py", "learning/model.py",
                     "evaluation.py", "text/normalize.py", "text/numbers.py",
                     "text/markup.py", "learning/shipped.py")


def in_model_part(text: str) -> bool:
    """True for the MODEL part (70%), False for the SIM part; stable across runs."""
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % 100 < MODEL_SHARE


#: tg-spam's samples lost the backslash of their "\n": "Народ!nУ кого". A lone
#: "n" after sentence punctuation or a Cyrillic letter and before a Cyrillic
#: or capital letter is that newline (17 of 614 lines). Chat users type real
#: newlines, so the simulator says them; without the repair the text reads as
#: a word mixing scripts, an obfuscation trick. The model's part is untouched.
_LOST_NEWLINE = re.compile(r"(?<=[\u0400-\u04ff!?.,):;])n(?=[\u0400-\u04ffA-Z])")


def _repair(text: str) -> str:
    return _LOST_NEWLINE.sub("\n", text) if "n" in text else text


def _language(text: str) -> str:
    return "ru" if any("\u0400" <= c <= "\u04ff" for c in text) else "en"


@dataclass(frozen=True, slots=True)
class HeldOut:
    """The shipped corpora split in two: what the model sees, what the simulator says."""

    model_texts: tuple[str, ...]
    model_labels: tuple[bool, ...]
    #: language -> ham texts of the SIM part.
    sim_ham: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sim_spam: int = 0


@lru_cache(maxsize=1)
def split_shipped() -> HeldOut:
    texts: list[str] = []
    labels: list[bool] = []
    ham: dict[str, list[str]] = {}
    sim_spam = 0
    for name in SHIPPED_CORPORA:
        for item in read_corpus(shipped_path(name)).items:
            if in_model_part(item.text):
                texts.append(item.text)
                labels.append(item.spam)
            elif item.spam:
                sim_spam += 1
            else:
                ham.setdefault(_language(item.text), []).append(_repair(item.text))
    return HeldOut(tuple(texts), tuple(labels),
                   {k: tuple(v) for k, v in sorted(ham.items())}, sim_spam)


def _cache_key(split: HeldOut) -> str:
    h = hashlib.sha256()
    for text, label in zip(split.model_texts, split.model_labels, strict=True):
        h.update(b"1" if label else b"0")
        h.update(text.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    root = Path(__file__).resolve().parent.parent
    for chat in chat_corpora("train"):
        h.update(chat.read_bytes())
    h.update(str(CHAT_WEIGHT).encode())
    for rel in _TRAINING_SOURCES:
        p = root / rel
        h.update(p.read_bytes() if p.exists() else rel.encode())
    return h.hexdigest()[:16]


@lru_cache(maxsize=1)
def heldout_model(cache_dir: str | None = None) -> ContentModel:
    """A content model trained on the MODEL part (and the chat ham train splits) only
    (about a minute the first time).

    Cached in this process and on disk (``$TMPDIR/spimguard-sim/``, keyed by the
    training data and the training code), so later runs load it in a second.
    An unreadable cache file is ignored and rewritten.
    """
    from spimguard.evaluation import train_on  # sklearn import only when training

    split = split_shipped()
    folder = Path(cache_dir) if cache_dir else Path(tempfile.gettempdir()) / "spimguard-sim"
    path = folder / f"heldout-{_cache_key(split)}.npz"
    if path.exists():
        try:
            return ContentModel.load(path)
        except ModelError as exc:
            log.warning("ignoring the cached held-out model: %s", exc)
    ham, ham_labels, ham_weights, _ = training_set(labelled=False)
    model = train_on(list(split.model_texts) + ham, list(split.model_labels) + ham_labels,
                     weights=[1.0] * len(split.model_texts) + ham_weights,
                     protocol="simulate-heldout", model_share=MODEL_SHARE)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        model.save(tmp)
        tmp.replace(path)
    except OSError as exc:  # a read-only temp dir costs a retrain next time, nothing more
        log.warning("cannot cache the held-out model in %s: %s", folder, exc)
    return model


class HamPool:
    """Draws ham texts of the SIM part, by language (falling back to English)."""

    def __init__(self, texts: dict[str, tuple[str, ...]] | None = None) -> None:
        self.texts = texts if texts is not None else split_shipped().sim_ham
        if not any(self.texts.values()):
            raise ValueError("the ham pool is empty")
        self._fallback = self.texts.get("en") or next(v for v in self.texts.values() if v)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(k for k, v in self.texts.items() if v)

    def draw(self, language: str, rng: random.Random) -> str:
        pool = self.texts.get(language) or self._fallback
        return pool[rng.randrange(len(pool))]
