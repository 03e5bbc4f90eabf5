"""Classification metrics as ``spimguard eval`` prints them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

__all__ = ["classification_metrics", "recall_at_fpr"]


def recall_at_fpr(y: Sequence[bool] | np.ndarray[Any, Any], scores: Sequence[float],
                  fpr: float) -> float:
    """Best spam recall with at most ``fpr`` of ham above the threshold."""
    yt = np.asarray(y, dtype=bool)
    if yt.all() or not yt.any():
        return float("nan")
    f, t, _ = roc_curve(yt, np.asarray(scores, dtype=float))
    ok = f <= fpr + 1e-12
    return float(t[ok].max()) if ok.any() else 0.0


def classification_metrics(
    y: Sequence[bool], predicted: Sequence[bool], scores: Sequence[float]
) -> dict[str, Any]:
    """Counts and rates; ``blocked_ham`` is the share of ham predicted spam."""
    yt = np.asarray(y, dtype=bool)
    yp = np.asarray(predicted, dtype=bool)
    tp = int((yt & yp).sum())
    fp = int((~yt & yp).sum())
    fn = int((yt & ~yp).sum())
    tn = int((~yt & ~yp).sum())
    n = len(yt)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    denom = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    both = yt.any() and not yt.all()
    return {
        "n": n,
        "spam": int(yt.sum()),
        "ham": int((~yt).sum()),
        "accuracy": (tp + tn) / n if n else 0.0,
        "precision": precision,
        "recall": recall,
        "blocked_ham": fp / (fp + tn) if fp + tn else 0.0,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "mcc": (tp * tn - fp * fn) / denom if denom else 0.0,
        "roc_auc": float(roc_auc_score(yt, np.asarray(scores, float))) if both else float("nan"),
        "recall_at_fpr_0.001": recall_at_fpr(yt, scores, 0.001),
        "recall_at_fpr_0.01": recall_at_fpr(yt, scores, 0.01),
        "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
    }
