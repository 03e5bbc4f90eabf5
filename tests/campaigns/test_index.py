"""The near-duplicate index contract, on every implementation."""

from collections.abc import Callable

import numpy as np
import pytest

from spimguard.campaigns import BandIndex, DatasketchIndex, MinHasher, NearDuplicateIndex

HASHER = MinHasher()
INDEXES: list[Callable[[], NearDuplicateIndex]] = [
    lambda: BandIndex(HASHER),
    lambda: DatasketchIndex(HASHER),
]


def _sig(seed: int, like: np.ndarray | None = None, keep: int = 0) -> np.ndarray:
    sig = np.random.default_rng(seed).integers(0, 2**32, 64, dtype=np.uint32)
    if like is not None:
        sig[:keep] = like[:keep]
    return sig


@pytest.mark.parametrize("make", INDEXES)
def test_contract(make: Callable[[], NearDuplicateIndex]) -> None:
    idx = make()
    assert idx.query(_sig(0)) == [] and len(idx) == 0
    base = _sig(1)
    near = _sig(2, base, keep=8)  # shares the first two bands
    idx.insert(1, base)
    idx.insert(2, near)
    idx.insert(3, _sig(3))
    assert len(idx) == 3
    assert sorted(idx.query(base)) == [1, 2]
    assert idx.query(_sig(4)) == []
    idx.remove(1, base)
    idx.remove(1, base)  # twice: ignored
    idx.remove(99, _sig(99))
    assert idx.query(base) == [2] and len(idx) == 2
    idx.remove(2, near)
    assert idx.query(base) == [] and len(idx) == 1


def test_band_index_finds_what_datasketch_finds() -> None:
    ours, theirs = BandIndex(HASHER), DatasketchIndex(HASHER)
    rng = np.random.default_rng(5)
    bases = [_sig(100 + i) for i in range(50)]
    sigs = {}
    for k in range(400):
        base = bases[k % 50]
        sig = base.copy()
        flip = rng.random(64) < rng.random()  # copies with anything from 0 to 100% changed
        sig[flip] = rng.integers(0, 2**32, int(flip.sum()), dtype=np.uint32)
        sigs[k] = sig
        ours.insert(k, sig)
        theirs.insert(k, sig)
    for q in [*bases, *(_sig(900 + i) for i in range(20))]:
        assert sorted(ours.query(q)) == sorted(theirs.query(q))
    for k in range(0, 400, 3):
        ours.remove(k, sigs[k])
        theirs.remove(k, sigs[k])
    assert len(ours) == len(theirs) == 400 - 134
    for q in bases:
        assert sorted(ours.query(q)) == sorted(theirs.query(q))


def test_bad_shapes_are_rejected() -> None:
    with pytest.raises(ValueError):
        BandIndex(HASHER, bands=32, rows=4)
    with pytest.raises(ValueError):
        DatasketchIndex(HASHER, bands=32, rows=4)
