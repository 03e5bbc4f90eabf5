"""Learning from moderators: retrain the content model with their labels, versioned.

A moderator who marks a message spam or ham is the best label the engine
will ever get, and a new campaign is by definition unlike the training data.
Rather than nudging weights online (a few gradient steps move a
strongly-regularised model little and can drift without bound), the model is
retrained from scratch on the base corpus plus every moderator label: ~9 s
for the shipped corpora on this machine, done in the background, so each
version is reproducible from its inputs and any version can be restored.

A reported example is repeated ``REPEAT`` times: ten reports among six
thousand corpus texts must still move the decision boundary for the rest of
their campaign.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from spimguard.learning.corpus import read_corpus
from spimguard.learning.model import ContentModel
from spimguard.learning.shipped import SHIPPED_CORPORA, shipped_path, training_set
from spimguard.learning.train import TrainConfig, train
from spimguard.text import normalize

__all__ = ["REPEAT", "retrain", "shipped_corpus", "version_path"]

#: Weight of one moderator label, as copies of the example.
REPEAT = 5


def shipped_corpus() -> tuple[list[str], list[bool]]:
    """The texts and labels the shipped model was trained on."""
    texts: list[str] = []
    labels: list[bool] = []
    for rel in SHIPPED_CORPORA:
        for item in read_corpus(shipped_path(rel)).items:
            texts.append(item.text)
            labels.append(item.spam)
    return texts, labels


def retrain(base_texts: Sequence[str], base_labels: Sequence[bool],
            examples: Sequence[tuple[str, bool]], config: TrainConfig | None = None,
            chat_ham: bool = True, **meta: object) -> ContentModel:
    """A model of the base corpus plus ``examples`` (text, is spam), each weighing
    ``REPEAT``; with ``chat_ham``, the shipped chat ham corpora as the shipped model has them."""
    texts = list(base_texts)
    labels = list(base_labels)
    weights = [1.0] * len(texts)
    if chat_ham:
        ham, ham_labels, ham_weights, _ = training_set(labelled=False)
        texts += ham
        labels += ham_labels
        weights += ham_weights
    for text, spam in examples:
        texts.append(text)
        labels.append(spam)
        weights.append(float(REPEAT))
    return train([normalize(t).match for t in texts], labels, config,
                 meta={"examples": len(examples), "repeat": REPEAT, **meta},
                 originals=texts, weights=weights)


def version_path(folder: str | Path, version: int) -> Path:
    return Path(folder) / f"content-v{version}.npz"
