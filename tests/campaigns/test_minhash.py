"""MinHasher: datasketch-identical signatures, computed in numpy."""

import numpy as np
import pytest
from datasketch import LeanMinHash, MinHash

from spimguard.campaigns import MinHasher


def _set(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2**32, n, dtype=np.uint32)


@pytest.mark.parametrize("num_perm,seed,n", [(64, 1, 1), (64, 1, 30), (128, 7, 500), (16, 3, 5)])
def test_signature_is_datasketch_affine32(num_perm: int, seed: int, n: int) -> None:
    values = _set(n, seed)
    ours = MinHasher(num_perm, seed).signature(values)
    ref = MinHash(num_perm=num_perm, seed=seed, hashfunc=lambda x: x, scheme="affine32")
    ref.update_batch([int(v) for v in values])
    assert ours.dtype == np.uint32
    assert np.array_equal(ours, ref.hashvalues)


def test_lean_minhash_compares_like_datasketch() -> None:
    h = MinHasher()
    a, b = _set(40, 1), _set(40, 2)
    b[:30] = a[:30]  # true Jaccard 30 / 50 = 0.6
    la, lb = h.lean(h.signature(a)), h.lean(h.signature(b))
    assert isinstance(la, LeanMinHash)
    assert la.jaccard(lb) == pytest.approx(MinHasher.similarity(la.hashvalues, lb.hashvalues))
    assert abs(la.jaccard(lb) - 0.6) < 0.15


@pytest.mark.parametrize("shared,total", [(0, 40), (20, 40), (36, 40), (40, 40)])
def test_similarity_estimates_jaccard(shared: int, total: int) -> None:
    h = MinHasher()
    a = _set(total, 10)
    b = np.concatenate([a[:shared], _set(total - shared, 11)])
    true = shared / (2 * total - shared)
    assert abs(MinHasher.similarity(h.signature(a), h.signature(b)) - true) < 0.15


def test_duplicates_do_not_change_the_signature() -> None:
    h = MinHasher()
    a = _set(10, 4)
    assert np.array_equal(h.signature(a), h.signature(np.concatenate([a, a[:5]])))


def test_bytes_round_trip_and_size() -> None:
    h = MinHasher()
    sig = h.signature(_set(12, 5))
    raw = h.to_bytes(sig)
    assert len(raw) == 4 * 64
    assert np.array_equal(h.from_bytes(raw), sig)
    with pytest.raises(ValueError):
        h.from_bytes(raw[:-4])


def test_bad_input() -> None:
    with pytest.raises(ValueError):
        MinHasher().signature(np.zeros(0, dtype=np.uint32))
    with pytest.raises(ValueError):
        MinHasher(num_perm=4)
