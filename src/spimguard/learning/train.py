"""Deterministic training of the content model.

The same texts and labels always give the same model: the vocabulary is built
in sorted order, liblinear's solver and the calibration folds are seeded.

Calibration is fitted on out-of-fold margins (each training message scored by
a model that did not see it), with the evidence shrinkage of
:class:`~spimguard.learning.model.Calibration` inside the fit: the fitted
probability is the one the engine uses, not an intermediate.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.sparse import csr_matrix, hstack
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from spimguard.learning.features import (
    char_grams,
    evidence,
    model_view,
    shape_tokens,
    tokens,
    word_terms,
)
from spimguard.learning.model import BLOCKS, Calibration, ContentModel
from spimguard.text.scripts import dominant_script

__all__ = ["TrainConfig", "train"]


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """Hyper-parameters, chosen on the Almeida training part only (see README)."""

    #: Inverse regularisation strength of the logistic regression.
    c: float = 100.0
    #: A word/bigram must occur in this many training messages to be kept
    #: (2 drops hapax bigrams: a smaller dictionary scores faster, and MCC
    #: on the Almeida split rose from 0.952 to 0.956).
    min_df: int = 2
    #: The same for character n-grams.
    min_df_char: int = 1
    seed: int = 0
    #: Folds for the out-of-fold margins the calibration is fitted on (0: no calibration).
    calibration_folds: int = 5
    #: Known words at which the model's opinion counts half (see Calibration).
    shrink_k: float = 3.0
    #: Known words below which the model abstains.
    min_evidence: int = 2
    #: Training messages of each class a script needs for the model to judge it.
    min_script_ham: int = 100
    min_script_spam: int = 30


def _block_sets(match_text: str, original: str | None) -> dict[str, set[str]]:
    match_text, original = model_view(match_text, original)
    toks = tokens(match_text)
    chars: set[str] = set()
    for t in toks:
        if t[0] != "#":
            chars |= char_grams(t)
    words = word_terms(toks)
    if toks:
        words.update(shape_tokens(match_text, original))
    return {"word": words, "char": chars, "toks": set(toks)}


def train(
    texts: Sequence[str],
    labels: Sequence[bool],
    config: TrainConfig | None = None,
    meta: dict[str, Any] | None = None,
    originals: Sequence[str] | None = None,
    weights: Sequence[float] | None = None,
) -> ContentModel:
    """Fit the model on normalised ``match`` texts (True = spam).

    ``originals`` are the texts before normalisation (for shape features);
    without them the model learns no capitals features. ``weights`` weigh
    each example (moderators' labels, a large ham corpus kept from drowning
    the rest).
    """
    cfg = config or TrainConfig()
    if len(texts) != len(labels):
        raise ValueError("texts and labels differ in length")
    y = np.asarray(labels, dtype=bool)
    if y.all() or not y.any():
        raise ValueError("training needs both spam and ham examples")
    if originals is not None and len(originals) != len(texts):
        raise ValueError("texts and originals differ in length")
    raw: Sequence[str | None] = originals if originals is not None else [None] * len(texts)
    sw = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    if sw.shape != y.shape or not np.all(np.isfinite(sw)) or (sw <= 0).any():
        raise ValueError("weights must be positive numbers, one per text")
    counts = [_block_sets(t, o) for t, o in zip(texts, raw, strict=True)]
    matrices = []
    vocabs: dict[str, tuple[list[str], np.ndarray[Any, Any]]] = {}
    for name in BLOCKS:
        rows = [c[name] for c in counts]
        terms, idf = _vocabulary(rows, cfg.min_df if name == "word" else cfg.min_df_char)
        matrices.append(_matrix(rows, {t: i for i, t in enumerate(terms)}, idf))
        vocabs[name] = (terms, idf)
    x = hstack(matrices).tocsr()
    clf = _fit(x, y, sw, cfg)
    coef = clf.coef_.ravel()
    blocks: dict[str, dict[str, tuple[float, float]]] = {}
    offset = 0
    for name in BLOCKS:
        terms, idf = vocabs[name]
        part = coef[offset : offset + len(terms)]
        offset += len(terms)
        blocks[name] = {
            t: (float(i * c), float(i * i)) for t, i, c in zip(terms, idf, part, strict=True)
        }
    known_vocab = set(blocks["word"])
    known = np.array([evidence(list(c["toks"]), known_vocab) for c in counts])
    scripts: dict[str, list[int]] = {}
    for o, t, label in zip(raw, texts, y.tolist(), strict=True):
        counted = scripts.setdefault(dominant_script(o if o is not None else t), [0, 0])
        counted[int(label)] += 1
    calibration = _calibrate(x, y, sw, known, cfg, scripts, [
        dominant_script(o if o is not None else t) for o, t in zip(raw, texts, strict=True)])
    info = {
        "n_train": int(len(y)),
        "n_spam": int(y.sum()),
        "train_config": asdict(cfg),
        "vocab_sizes": {k: len(v) for k, v in blocks.items()},
        **(meta or {}),
    }
    model = ContentModel(bias=float(clf.intercept_[0]), blocks=blocks, meta=info,
                         calibration=calibration)
    model.warm()
    return model


def _fit(x: csr_matrix, y: np.ndarray[Any, Any], sw: np.ndarray[Any, Any],
         cfg: TrainConfig) -> LogisticRegression:
    clf = LogisticRegression(
        C=cfg.c, solver="liblinear", max_iter=10_000, random_state=cfg.seed, tol=1e-6
    )
    clf.fit(x, y, sample_weight=sw)
    return clf


def _calibrate(x: csr_matrix, y: np.ndarray[Any, Any], sw: np.ndarray[Any, Any],
               known: np.ndarray[Any, Any], cfg: TrainConfig,
               scripts: dict[str, list[int]], script_of: list[str]) -> Calibration:
    """Platt scaling with the evidence shrinkage inside, on out-of-fold margins."""
    spam_w, ham_w = float(sw[y].sum()), float(sw[~y].sum())
    # A small corpus (a deployment's own, a test's) covers its scripts with
    # fewer examples: at most a twentieth of each class is asked for.
    min_ham = min(cfg.min_script_ham, max(1, int((~y).sum()) // 20))
    min_spam = min(cfg.min_script_spam, max(1, int(y.sum()) // 20))
    base = Calibration(prior_logit=math.log(spam_w / ham_w), shrink_k=cfg.shrink_k,
                       min_evidence=cfg.min_evidence, scripts=scripts,
                       min_script_ham=min_ham, min_script_spam=min_spam)
    if cfg.calibration_folds < 2 or min(int(y.sum()), int((~y).sum())) < cfg.calibration_folds:
        return base
    margins = np.zeros(len(y))
    folds = StratifiedKFold(n_splits=cfg.calibration_folds, shuffle=True, random_state=cfg.seed)
    for tr, te in folds.split(np.zeros(len(y)), y):
        margins[te] = _fit(x[tr], y[tr], sw[tr], cfg).decision_function(x[te])
    judged = (known >= cfg.min_evidence) & np.array([base.covers(s) for s in script_of])
    if judged.sum() < 10 or y[judged].all() or not y[judged].any():
        return base
    m, t, w = margins[judged], y[judged].astype(float), sw[judged]
    shrink = known[judged] / (known[judged] + cfg.shrink_k) if cfg.shrink_k > 0 else 1.0
    prior = base.prior_logit

    def loss(params: np.ndarray[Any, Any]) -> tuple[float, np.ndarray[Any, Any]]:
        a, b = params
        z = prior + (a * m + b - prior) * shrink
        p = 1.0 / (1.0 + np.exp(-z))
        ll = np.logaddexp(0.0, z) - t * z  # -log-likelihood of a logistic model
        g = (p - t) * w * shrink
        return float((ll * w).sum()), np.array([float((g * m).sum()), float(g.sum())])

    fit = minimize(loss, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B")
    a, b = (float(v) for v in fit.x)
    return Calibration(a=a, b=b, prior_logit=prior, shrink_k=cfg.shrink_k,
                       min_evidence=cfg.min_evidence, scripts=scripts,
                       min_script_ham=min_ham, min_script_spam=min_spam)


def _vocabulary(
    rows: list[set[str]], min_df: int
) -> tuple[list[str], np.ndarray[Any, Any]]:
    df: Counter[str] = Counter()
    for r in rows:
        df.update(r)
    terms = sorted(t for t, c in df.items() if c >= min_df)
    n = len(rows)
    idf = np.array([math.log((1 + n) / (1 + df[t])) + 1.0 for t in terms])
    return terms, idf


def _matrix(
    rows: list[set[str]], vocab: dict[str, int], idf: np.ndarray[Any, Any]
) -> csr_matrix:
    """Rows scaled as the scorer does: binary idf, L2-normalised per block."""
    indptr = [0]
    indices: list[int] = []
    data: list[float] = []
    for r in rows:
        cols = sorted(vocab[g] for g in r if g in vocab)
        vals = idf[cols]
        norm = math.sqrt(float((vals * vals).sum())) or 1.0
        indices.extend(cols)
        data.extend((vals / norm).tolist())
        indptr.append(len(indices))
    return csr_matrix(
        (np.array(data), np.array(indices, dtype=np.int64), np.array(indptr)),
        shape=(len(rows), len(vocab)),
    )
