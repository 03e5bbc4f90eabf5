"""The content model: a linear classifier scored straight from its weights.

Why not call scikit-learn at check time: one ``predict`` costs ~0.5 ms of
overhead, ten times the whole per-message budget. The model is trained with
scikit-learn (see :mod:`spimguard.learning.train`) and reduced to two
vocabularies, term -> (idf * coef, idf**2). Scoring a message is a handful of
dictionary look-ups (see :mod:`spimguard.learning.features` for why the char
block costs one look-up per word).

Storage is a plain ``.npz`` (numpy arrays of strings and floats, written with
fixed zip timestamps so the same training data gives byte-identical files),
loaded with ``allow_pickle=False``: a model file can never execute code.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spimguard.learning.features import char_grams, shape_tokens, tokens
from spimguard.learning.npz import read_npz, write_npz

__all__ = ["ContentModel", "ModelError", "Score"]

FORMAT_VERSION = 1
BLOCKS = ("word", "char")
#: Bound on the per-word cache of char-block sums (words outside the training
#: vocabulary are added as they are seen, until the bound; then it is reset).
WORD_CACHE_MAX = 200_000


class ModelError(ValueError):
    """A model file is missing, corrupt, or of an unknown format version."""


@dataclass(frozen=True, slots=True)
class Score:
    """A model's opinion of one message."""

    p_spam: float
    #: Distinct words of the message that the model saw in training.
    known_words: int
    #: Tokens read (the message may have been longer: see ``MAX_TOKENS``).
    tokens: int


@dataclass(slots=True)
class ContentModel:
    """Word + char n-gram logistic regression, ready to score one message fast."""

    bias: float
    #: Per block: term -> (idf * coef, idf ** 2).
    blocks: dict[str, dict[str, tuple[float, float]]]
    meta: dict[str, Any] = field(default_factory=dict)
    #: Below this many known words the model abstains.
    min_known_words: int = 1
    _ids: dict[str, dict[str, int]] = field(default_factory=dict, repr=False)
    #: Word block, per id: complex(idf * coef, idf ** 2). One ``sum`` over
    #: complex numbers gives both sums in a single C loop (measured 2x faster).
    _weights: list[complex] = field(default_factory=list, repr=False)
    #: Char block: contiguous arrays of idf * coef and idf ** 2; a message's
    #: char ids are hundreds, where numpy gathers beat Python objects.
    _char_num: np.ndarray[Any, np.dtype[np.float64]] = field(
        default_factory=lambda: np.zeros(0), repr=False)
    _char_den: np.ndarray[Any, np.dtype[np.float64]] = field(
        default_factory=lambda: np.zeros(0), repr=False)
    #: word -> sorted char-gram ids of that word (int32).
    _word_cache: dict[str, np.ndarray[Any, np.dtype[np.int32]]] = field(
        default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        words: dict[str, int] = {}
        for term, (a, b) in self.blocks["word"].items():
            words[term] = len(self._weights)
            self._weights.append(complex(a, b))
        self._ids["word"] = words
        chars = self.blocks["char"]
        self._ids["char"] = {term: i for i, term in enumerate(chars)}
        self._char_num = np.array([a for a, _ in chars.values()], dtype=np.float64)
        self._char_den = np.array([b for _, b in chars.values()], dtype=np.float64)

    def score(self, match_text: str, original: str | None = None) -> Score | None:
        """Probability of spam, or ``None`` when the model has no opinion.

        ``original`` is the text before normalisation, used only for the
        shape of the message (share of capitals); pass it when you have it,
        as training did.

        No opinion means no word of the message was seen in training (empty
        text, emoji only, a language never seen): blocking such a message on
        the model's prior would punish people for being brief.
        """
        toks = tokens(match_text)
        if not toks:
            return None
        word_ids = self._ids["word"]
        uni = {i for t in set(toks) if (i := word_ids.get(t)) is not None}
        if len(uni) < self.min_known_words:
            return None
        ids = uni.union([i for a, b in zip(toks, toks[1:], strict=False)
                         if (i := word_ids.get(a + " " + b)) is not None])
        ids.update([i for t in shape_tokens(match_text, original)
                    if (i := word_ids.get(t)) is not None])
        total = sum(map(self._weights.__getitem__, ids), 0j)
        margin = self.bias
        if total.imag > 0.0:
            margin += total.real / math.sqrt(total.imag)
        cache = self._word_cache
        cat = np.concatenate(
            [c if (c := cache.get(t)) is not None else self._char_ids(t) for t in toks])
        if cat.shape[0]:
            cat.sort()
            keep = np.empty(cat.shape[0], dtype=bool)  # distinct ids: binary features
            keep[0] = True
            np.not_equal(cat[1:], cat[:-1], out=keep[1:])
            idx = cat[keep]
            den = float(self._char_den[idx].sum())
            if den > 0.0:
                margin += float(self._char_num[idx].sum()) / math.sqrt(den)
        return Score(p_spam=_sigmoid(margin), known_words=len(uni), tokens=len(toks))

    def _char_ids(self, word: str) -> np.ndarray[Any, np.dtype[np.int32]]:
        char_ids = self._ids["char"]
        found = np.array(
            sorted(i for g in char_grams(word) if (i := char_ids.get(g)) is not None),
            dtype=np.int32,
        )
        if len(self._word_cache) >= WORD_CACHE_MAX:
            self._word_cache.clear()
        self._word_cache[word] = found
        return found

    def warm(self) -> None:
        """Pre-fill the word cache with the training vocabulary's words."""
        for term in self.blocks["word"]:
            if " " not in term and not term.startswith("#"):
                self._char_ids(term)

    # -- persistence -------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """Write the model as a deterministic ``.npz``."""
        arrays: dict[str, np.ndarray[Any, Any]] = {}
        for name in BLOCKS:
            vocab = self.blocks[name]
            terms = sorted(vocab)
            idf = np.array([math.sqrt(vocab[t][1]) for t in terms], dtype=np.float64)
            coef = np.array(
                [vocab[t][0] / i if i else 0.0 for t, i in zip(terms, idf, strict=True)],
                dtype=np.float64,
            )
            arrays[f"{name}_terms"] = np.array(terms, dtype=np.str_)
            arrays[f"{name}_idf"] = idf
            arrays[f"{name}_coef"] = coef
        arrays["bias"] = np.array(self.bias, dtype=np.float64)
        meta = {**self.meta, "format_version": FORMAT_VERSION,
                "min_known_words": self.min_known_words}
        arrays["meta"] = np.array(json.dumps(meta, sort_keys=True), dtype=np.str_)
        write_npz(path, arrays)

    @classmethod
    def load(cls, path: str | Path) -> ContentModel:
        """Read a model written by :meth:`save`; never unpickles."""
        data, meta = read_npz(path, FORMAT_VERSION, ModelError)
        try:
            blocks: dict[str, dict[str, tuple[float, float]]] = {}
            for name in BLOCKS:
                terms = data[f"{name}_terms"].tolist()
                idf = data[f"{name}_idf"].tolist()
                coef = data[f"{name}_coef"].tolist()
                blocks[name] = {
                    t: (i * c, i * i) for t, i, c in zip(terms, idf, coef, strict=True)
                }
            bias = float(data["bias"])
        except (KeyError, ValueError, TypeError) as exc:
            raise ModelError(f"cannot read model {path}: {exc}") from exc
        model = cls(
            bias=bias, blocks=blocks, meta=meta,
            min_known_words=int(meta.get("min_known_words", 1)),
        )
        model.warm()
        return model


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)
