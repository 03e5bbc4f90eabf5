"""Held-out protocol: the simulator's ham never comes from the model's training part."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

import spimguard.evaluation
from spimguard.learning.model import ContentModel
from spimguard.learning.shipped import training_set
from spimguard.simulate import texts
from spimguard.simulate.texts import HamPool, heldout_model, in_model_part, split_shipped


def test_split_is_deterministic_and_near_70_30() -> None:
    split = split_shipped()
    n_model = len(split.model_texts)
    n_sim = sum(len(v) for v in split.sim_ham.values()) + split.sim_spam
    assert 0.66 < n_model / (n_model + n_sim) < 0.74
    assert in_model_part("hello there") == in_model_part("hello there")
    assert set(split.sim_ham) == {"en", "ru"}


def test_ham_pool_draws_only_from_the_sim_part() -> None:
    pool = HamPool()
    rng = random.Random(0)
    drawn = [pool.draw(lang, rng) for lang in ("en", "ru", "xx") for _ in range(200)]
    # texts are drawn as repaired (lost newlines restored); the split is made on
    # the corpus text, so undo the repair before asking which side it is on
    assert not any(in_model_part(t.replace("\n", "n")) for t in drawn if "\n" in t)
    assert not any(in_model_part(t) for t in drawn if "\n" not in t)
    model_side = set(split_shipped().model_texts)
    assert not model_side & set(drawn)


def test_heldout_model_trains_on_model_part_and_caches(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []

    n_chat = len(training_set(labelled=False)[0])  # chat ham: never in the SIM pool

    def fake_train(xs: list[str], ys: list[bool], **meta: object) -> ContentModel:
        assert not any(not in_model_part(x) for x in xs[:len(xs) - n_chat])
        seen.append(len(xs))
        return ContentModel(bias=-1.0, blocks={"word": {"win": (2.0, 1.0)}, "char": {}})

    monkeypatch.setattr(spimguard.evaluation, "train_on", fake_train)
    heldout_model.cache_clear()
    try:
        m1 = heldout_model(str(tmp_path))
        assert seen
        assert len(list(tmp_path.glob("heldout-*.npz"))) == 1
        heldout_model.cache_clear()
        m2 = heldout_model(str(tmp_path))  # from the disk cache, no training
        assert len(seen) == 1
        assert m2.bias == m1.bias
    finally:
        heldout_model.cache_clear()
    assert texts.MODEL_SHARE == 70


def test_lost_newlines_of_tg_spam_samples_are_restored() -> None:
    from spimguard.simulate.texts import _repair

    assert _repair("Привет, Народ!nУ кого?nГоворит") == "Привет, Народ!\nУ кого?\nГоворит"
    for keep in ("nothing new", "ok!nice", "Hello, nNo", "plan B", "10n", "и n"):
        assert _repair(keep) == keep
    ham = split_shipped().sim_ham
    assert not any("!nУ" in t for texts in ham.values() for t in texts)
