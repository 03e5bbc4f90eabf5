from pathlib import Path

import numpy as np
import pytest

from spimguard.learning.model import ContentModel, ModelError
from spimguard.learning.train import train

TEXTS = ["win a free prize now call", "free cash prize claim now", "urgent you won call now",
         "see you at lunch", "are we still on for tonight", "ok thanks see you later"] * 3
LABELS = [True, True, True, False, False, False] * 3


def test_training_is_deterministic_and_file_identical(tmp_path: Path) -> None:
    a, b = train(TEXTS, LABELS), train(TEXTS, LABELS)
    a.save(tmp_path / "a.npz")
    b.save(tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def test_round_trip_keeps_scores(tmp_path: Path) -> None:
    m = train(TEXTS, LABELS)
    m.save(tmp_path / "m.npz")
    loaded = ContentModel.load(tmp_path / "m.npz")
    for t in ["free prize now", "see you tonight", "something else entirely new"]:
        s1, s2 = m.score(t), loaded.score(t)
        assert (s1 is None) == (s2 is None)
        if s1 and s2:
            assert s1.p_spam == pytest.approx(s2.p_spam, abs=1e-9)


def test_model_separates_classes() -> None:
    m = train(TEXTS, LABELS)
    spam, ham = m.score("claim your free prize now"), m.score("see you at lunch later")
    assert spam is not None and ham is not None and spam.p_spam > 0.5 > ham.p_spam


@pytest.mark.parametrize("text", ["", "!!!", "zzzqqq xxyyzz"])
def test_no_opinion(text: str) -> None:
    assert train(TEXTS, LABELS).score(text) is None


def test_model_file_is_not_a_pickle(tmp_path: Path) -> None:
    p = tmp_path / "m.npz"
    train(TEXTS, LABELS).save(p)
    with np.load(p, allow_pickle=False) as data:  # would raise if any array needed pickle
        assert {"word_terms", "char_terms", "bias", "meta"} <= set(data.files)


@pytest.mark.parametrize("content", [b"", b"not a zip", b"PK\x03\x04garbage"])
def test_corrupt_model_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    p = tmp_path / "bad.npz"
    p.write_bytes(content)
    with pytest.raises(ModelError, match="bad.npz"):
        ContentModel.load(p)


def test_training_needs_both_classes() -> None:
    with pytest.raises(ValueError, match="both"):
        train(["a b", "c d"], [True, True])
