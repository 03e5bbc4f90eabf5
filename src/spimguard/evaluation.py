"""Corpus evaluation behind ``spimguard eval``.

Predictions come from a real engine (content detector + policy), so the
figures describe what the product does at its default thresholds, not a bare
classifier at a hand-picked cut-off. ROC figures use the model's probability.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold

from spimguard.core.engine import Engine
from spimguard.core.events import MessageEvent
from spimguard.core.policy import Policy
from spimguard.detectors.content import ContentDetector
from spimguard.learning.corpus import Corpus
from spimguard.learning.metrics import classification_metrics
from spimguard.learning.model import ContentModel
from spimguard.learning.perturb import perturb as perturb_text
from spimguard.learning.train import TrainConfig, train
from spimguard.text import normalize

__all__ = ["evaluate", "match_texts", "predict", "train_on"]

Progress = Callable[[int], None]


def match_texts(texts: Sequence[str]) -> list[str]:
    return [normalize(t).match for t in texts]


def train_on(texts: Sequence[str], labels: Sequence[bool],
             config: TrainConfig | None = None, weights: Sequence[float] | None = None,
             **meta: Any) -> ContentModel:
    return train(match_texts(texts), labels, config, meta=meta or None, originals=texts,
                 weights=weights)


def predict(model: ContentModel, texts: Sequence[str], policy: Policy | None = None,
            progress: Progress | None = None) -> tuple[list[bool], list[float]]:
    """Stopped (held or blocked by the content detector at the policy's thresholds)
    and the model's probability (0 when it abstains), per text."""
    policy = policy or Policy()
    settings = policy.detector_settings.get("content", {})
    engine = Engine([ContentDetector.from_settings(settings, model)], policy=policy)
    stopped: list[bool] = []
    probs: list[float] = []
    for i, t in enumerate(texts):
        v = engine.check(MessageEvent(ts=0.0, id=str(i), sender="eval", recipients=("r",),
                                      text=t))
        stopped.append(v.action.stops)
        s = model.score(normalize(t).match, t)
        probs.append(s.p_spam if s is not None else 0.0)
        if progress is not None:
            progress(1)
    return stopped, probs


def evaluate(
    corpus: Corpus,
    split: str = "almeida",
    model: ContentModel | None = None,
    perturb: bool = False,
    policy: Policy | None = None,
    config: TrainConfig | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Metrics for one protocol; see ``spimguard eval --help`` for the protocols."""
    pol = policy or Policy()
    texts, labels = corpus.texts, corpus.labels
    if not texts:
        raise ValueError(f"{corpus.path}: no readable labelled message")

    def test_texts(ts: Sequence[str], offset: int) -> list[str]:
        return [perturb_text(t, offset + i) for i, t in enumerate(ts)] if perturb else list(ts)

    info: dict[str, Any] = {"protocol": "model" if model else split, "perturb": perturb}
    if model is not None:
        y = labels
        stopped, probs = predict(model, test_texts(texts, 0), pol, progress)
        info["train_n"] = 0
    elif split == "almeida":
        cut = int(len(texts) * 0.3)
        m = train_on(texts[:cut], labels[:cut], config)
        y = labels[cut:]
        stopped, probs = predict(m, test_texts(texts[cut:], cut), pol, progress)
        info["train_n"] = cut
    elif split == "cv5":
        seen: dict[str, int] = {}
        for i, t in enumerate(texts):
            seen.setdefault(t, i)
        keep = sorted(seen.values())
        tx = [texts[i] for i in keep]
        ly = np.array([labels[i] for i in keep], dtype=bool)
        y_all: list[bool] = []
        stopped, probs = [], []
        folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
        for tr, te in folds.split(np.zeros(len(tx)), ly):
            m = train_on([tx[i] for i in tr], ly[tr].tolist(), config)
            s, p = predict(m, test_texts([tx[i] for i in te], int(te[0])), pol, progress)
            stopped += s
            probs += p
            y_all += ly[te].tolist()
        y = y_all
        info["deduplicated_n"] = len(tx)
    else:
        raise ValueError(f"unknown split {split!r} (almeida or cv5)")
    out = classification_metrics(y, stopped, probs)
    out.update(info)
    out["skipped_lines"] = len(corpus.errors)
    return out
