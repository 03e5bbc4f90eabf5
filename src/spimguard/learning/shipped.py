"""The model and corpora that ship inside the package (see data/NOTICE.md)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from spimguard.learning.model import ContentModel

__all__ = ["SHIPPED_CORPORA", "load_shipped_model", "shipped_model_path", "shipped_path"]

#: The corpora the shipped model is trained on, in this order.
SHIPPED_CORPORA = ("corpus/sms-spam-collection.tsv", "corpus/tg-spam-samples.tsv")


def shipped_path(relative: str) -> Path:
    return Path(str(resources.files("spimguard").joinpath("data", relative)))


def shipped_model_path() -> Path:
    return shipped_path("model/content.npz")


@lru_cache(maxsize=1)
def load_shipped_model() -> ContentModel:
    """Loaded once per process and shared by every engine."""
    return ContentModel.load(shipped_model_path())
