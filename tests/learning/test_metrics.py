import pytest

from spimguard.learning.metrics import classification_metrics, recall_at_fpr
from spimguard.learning.perturb import perturb


def test_metrics_by_hand() -> None:
    y = [True, True, False, False, False]
    pred = [True, False, True, False, False]
    m = classification_metrics(y, pred, [0.9, 0.4, 0.6, 0.1, 0.2])
    assert m["precision"] == 0.5 and m["recall"] == 0.5
    assert m["blocked_ham"] == pytest.approx(1 / 3)
    assert m["accuracy"] == pytest.approx(3 / 5)
    assert m["mcc"] == pytest.approx((1 * 2 - 1 * 1) / (2 * 2 * 3 * 3) ** 0.5)
    assert m["roc_auc"] == pytest.approx(5 / 6)


def test_recall_at_fpr() -> None:
    y = [True, True, False, False]
    assert recall_at_fpr(y, [0.9, 0.3, 0.5, 0.1], 0.0) == 0.5
    assert recall_at_fpr(y, [0.9, 0.3, 0.5, 0.1], 0.5) == 1.0


def test_perturb_is_deterministic_and_changes_text() -> None:
    t = "Congratulations you have won a free prize call now to claim"
    assert perturb(t, 3) == perturb(t, 3)
    assert perturb(t, 3) != t
    assert perturb(t, 3) != perturb(t, 4)
