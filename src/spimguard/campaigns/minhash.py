"""MinHash signatures of shingle hashes, computed in a few numpy operations.

``datasketch.MinHash.update`` hashes and permutes one value at a time in
Python (tens of µs for a short message). Here the caller hashes its shingles
to 32-bit integers once, and the whole signature is one broadcast multiply-add
and one ``min`` over a ``num_perm x shingles`` array. The arithmetic is
datasketch's own ``"affine32"`` scheme (MurmurHash3 finalizer, then
``a * h + b`` mod 2**32 with odd ``a``), with the permutations of
``MinHash(num_perm, seed)``: the signature equals, bit for bit, what
``MinHash(num_perm, seed, hashfunc=identity, scheme="affine32").update_batch``
computes on the same integers (``tests/campaigns/test_minhash.py`` checks it),
so a :class:`datasketch.LeanMinHash` built from it goes into any datasketch
index, and signatures stay comparable across processes and restarts (no
per-process hash seed is involved).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from datasketch import LeanMinHash, MinHash

__all__ = ["MinHasher", "Signature"]

Signature = npt.NDArray[np.uint32]

_U16 = np.uint32(16)
_U13 = np.uint32(13)
_M1 = np.uint32(0x85EBCA6B)
_M2 = np.uint32(0xC2B2AE35)


def _fmix32(h: Signature) -> Signature:
    """MurmurHash3's finalizer: datasketch's pre-mix for the affine schemes."""
    h = h ^ (h >> _U16)
    h = h * _M1
    h = h ^ (h >> _U13)
    h = h * _M2
    return h ^ (h >> _U16)


class MinHasher:
    """Signatures of ``num_perm`` values for sets of 32-bit shingle hashes.

    64 permutations estimate a Jaccard similarity of 0.5 within about ±0.06
    (one standard deviation) and take 256 bytes per signature; more cost
    proportionally more time and memory.
    """

    SCHEME = "affine32"

    def __init__(self, num_perm: int = 64, seed: int = 1) -> None:
        if num_perm < 8:
            raise ValueError(f"num_perm must be at least 8, got {num_perm}")
        perms = MinHash(num_perm=num_perm, seed=seed, scheme=self.SCHEME).permutations
        self.num_perm = num_perm
        self.seed = seed
        # Row vectors: the shingles go down the rows, so ``min`` reduces along
        # axis 0, which numpy does row against row (about twice as fast).
        self._a: Signature = perms[0].astype(np.uint32).reshape(1, -1)
        self._b: Signature = perms[1].astype(np.uint32).reshape(1, -1)

    def signature(self, hashes: Signature) -> Signature:
        """The signature of a non-empty set of shingle hashes (duplicates are harmless)."""
        if hashes.size == 0:
            raise ValueError("cannot sign an empty set")
        mixed = _fmix32(hashes).reshape(-1, 1)
        out: Signature = (mixed * self._a + self._b).min(axis=0)
        return out

    def lean(self, sig: Signature) -> LeanMinHash:
        """``sig`` as a datasketch LeanMinHash, for datasketch's indexes.

        Built without LeanMinHash's constructor, which re-validates every value
        (about 6 µs); the slots it sets are the documented public attributes.
        """
        lm: LeanMinHash = LeanMinHash.__new__(LeanMinHash)
        lm.seed = self.seed
        lm.scheme = self.SCHEME
        lm.hashvalues = sig
        return lm

    @staticmethod
    def similarity(a: Signature, b: Signature) -> float:
        """Estimated Jaccard similarity: the share of equal positions."""
        return float(np.count_nonzero(a == b)) / len(a)

    def to_bytes(self, sig: Signature) -> bytes:
        """Compact form for storage (4 bytes a permutation, little-endian)."""
        return sig.astype("<u4").tobytes()

    def from_bytes(self, data: bytes) -> Signature:
        sig: Signature = np.frombuffer(data, dtype="<u4").astype(np.uint32)
        if len(sig) != self.num_perm:
            raise ValueError(f"expected {self.num_perm} values, got {len(sig)}")
        return sig
