"""Text normalisation shared by every detector: one pass, every trick undone and reported."""

from spimguard.text.normalize import NormalizedText, normalize
from spimguard.text.tricks import ALL_TRICKS

__all__ = ["ALL_TRICKS", "NormalizedText", "normalize"]
