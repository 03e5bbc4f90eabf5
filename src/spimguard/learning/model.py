"""The content model: a linear classifier scored straight from its weights.

Why not call scikit-learn at check time: one ``predict`` costs ~0.5 ms of
overhead, ten times the whole per-message budget. The model is trained with
scikit-learn (see :mod:`spimguard.learning.train`) and reduced to two
vocabularies, term -> (idf * coef, idf**2). Scoring a message is a handful of
dictionary look-ups (see :mod:`spimguard.learning.features` for why the char
block costs one look-up per word).

The raw margin is not the answer. It is calibrated (Platt scaling fitted on
out-of-fold margins of the training data, so it reflects data the model did
not see) and then shrunk toward the training base rate by how much the
message gives to go on: ``w = e / (e + shrink_k)`` where ``e`` counts the
distinct known words. A two-word message moves the base rate a little, a
paragraph a lot; under ``min_evidence`` known words, or in a script the
training data barely covers, the model abstains (:class:`Abstention`).

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

from spimguard.learning.features import char_grams, model_view, shape_tokens, tokens
from spimguard.learning.npz import read_npz, write_npz
from spimguard.text.scripts import dominant_script

__all__ = ["Abstention", "Calibration", "ContentModel", "ModelError", "Score"]

#: 2: numbers by kind, calibration, evidence shrinkage, script coverage.
FORMAT_VERSION = 2
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
    #: The linear model's margin before calibration and shrinkage.
    margin: float = 0.0


@dataclass(frozen=True, slots=True)
class Abstention:
    """Why the model has no opinion of a message (shown in the trace)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Calibration:
    """From raw margin to probability; see the module docstring."""

    #: Platt scaling: calibrated logit = a * margin + b.
    a: float = 1.0
    b: float = 0.0
    #: Logit of the training base rate, the value a message without evidence gets.
    prior_logit: float = -2.0
    #: Known words at which the calibrated logit counts half.
    shrink_k: float = 3.0
    #: Below this many known words the model abstains.
    min_evidence: int = 2
    #: Per script: [ham, spam] training messages. Empty: every script is covered.
    scripts: dict[str, list[int]] = field(default_factory=dict)
    #: A script needs this many training messages of each class to be judged.
    min_script_ham: int = 100
    min_script_spam: int = 30

    def covers(self, script: str) -> bool:
        if not self.scripts or script == "none":
            return True
        ham, spam = self.scripts.get(script, (0, 0))
        return ham >= self.min_script_ham and spam >= self.min_script_spam

    def probability(self, margin: float, known: int) -> float:
        z = self.a * margin + self.b
        w = known / (known + self.shrink_k) if self.shrink_k > 0 else 1.0
        return _sigmoid(self.prior_logit + (z - self.prior_logit) * w)

    def as_dict(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "prior_logit": self.prior_logit,
                "shrink_k": self.shrink_k, "min_evidence": self.min_evidence,
                "scripts": self.scripts, "min_script_ham": self.min_script_ham,
                "min_script_spam": self.min_script_spam}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Calibration:
        return cls(a=float(d["a"]), b=float(d["b"]), prior_logit=float(d["prior_logit"]),
                   shrink_k=float(d["shrink_k"]), min_evidence=int(d["min_evidence"]),
                   scripts={str(k): [int(v[0]), int(v[1])] for k, v in d["scripts"].items()},
                   min_script_ham=int(d["min_script_ham"]),
                   min_script_spam=int(d["min_script_spam"]))


@dataclass(slots=True)
class ContentModel:
    """Word + char n-gram logistic regression, ready to score one message fast."""

    bias: float
    #: Per block: term -> (idf * coef, idf ** 2).
    blocks: dict[str, dict[str, tuple[float, float]]]
    meta: dict[str, Any] = field(default_factory=dict)
    calibration: Calibration = field(default_factory=Calibration)
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
        """Probability of spam, or ``None`` when the model has no opinion (see :meth:`judge`)."""
        out = self.judge(match_text, original)
        return out if isinstance(out, Score) else None

    def judge(self, match_text: str, original: str | None = None) -> Score | Abstention:
        """The model's opinion of one message, or why it has none.

        ``original`` is the text before normalisation: the model reads its
        shape (capitals) and finds code and quotes in it; pass it when you
        have it, as training did.

        No opinion: fewer than ``min_evidence`` known words (a number, one
        word, emoji, a language never seen) or a script the training data
        barely covers. Holding such a message on the model's prior would
        punish people for being brief, or for writing Persian.
        """
        cal = self.calibration
        match_text, original = model_view(match_text, original)
        script = dominant_script(original if original is not None else match_text)
        if not cal.covers(script):
            return Abstention(f"mostly {script} text, which the model barely saw in training")
        toks = tokens(match_text)
        word_ids = self._ids["word"]
        distinct = set(toks)
        uni: set[int] = set()
        known = 0  # = features.evidence(), counted in the same pass
        for t in distinct:
            i = word_ids.get(t)
            if i is not None:
                uni.add(i)
                known += t.isalpha()
        if known < cal.min_evidence:
            return Abstention(f"too little to judge ({known} known word{'s' * (known != 1)})")
        margin = self.margin_of(toks, match_text, original, uni, distinct)
        return Score(p_spam=cal.probability(margin, known), known_words=known,
                     tokens=len(toks), margin=margin)

    def margin_of(self, toks: list[str], match_text: str, original: str | None,
                  uni: set[int] | None = None, distinct: set[str] | None = None) -> float:
        """The linear model's raw margin (before calibration) for tokenised text
        (``uni`` and ``distinct``: the known unigram ids and distinct tokens, if the
        caller has them)."""
        word_ids = self._ids["word"]
        if distinct is None:
            distinct = set(toks)
        ids = uni if uni is not None else {
            i for t in distinct if (i := word_ids.get(t)) is not None}
        ids.update([i for a, b in zip(toks, toks[1:], strict=False)
                    if (i := word_ids.get(a + " " + b)) is not None])
        if toks:
            ids.update([i for t in shape_tokens(match_text, original)
                        if (i := word_ids.get(t)) is not None])
        total = sum(map(self._weights.__getitem__, ids), 0j)
        margin = self.bias
        if total.imag > 0.0:
            margin += total.real / math.sqrt(total.imag)
        cache = self._word_cache
        parts = [c if (c := cache.get(t)) is not None else self._char_ids(t)
                 for t in distinct if t[0] != "#"]
        if not parts:
            return margin
        cat = np.concatenate(parts)
        if cat.shape[0]:
            cat.sort()
            keep = np.empty(cat.shape[0], dtype=bool)  # distinct ids: binary features
            keep[0] = True
            np.not_equal(cat[1:], cat[:-1], out=keep[1:])
            idx = cat[keep]
            den = float(self._char_den[idx].sum())
            if den > 0.0:
                margin += float(self._char_num[idx].sum()) / math.sqrt(den)
        return margin

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
            if " " not in term and term[0] != "#":
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
                "calibration": self.calibration.as_dict()}
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
            calibration = Calibration.from_dict(meta["calibration"])
        except (KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:
            raise ModelError(f"cannot read model {path}: {exc}") from exc
        meta.pop("calibration", None)
        model = cls(bias=bias, blocks=blocks, meta=meta, calibration=calibration)
        model.warm()
        return model


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)
