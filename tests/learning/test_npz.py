"""Comparing a rebuilt model file with the shipped one."""

from pathlib import Path

import numpy as np

from spimguard.learning.npz import npz_differences, write_npz


def test_npz_differences_tolerates_rounding_not_changes(tmp_path: Path) -> None:
    base = {"coef": np.array([0.5, -1.25]), "terms": np.array(["ab", "cd"])}
    write_npz(tmp_path / "a.npz", base)
    write_npz(tmp_path / "b.npz", {**base, "coef": base["coef"] + 4e-8})
    write_npz(tmp_path / "c.npz", {**base, "coef": base["coef"] + 1e-3})
    write_npz(tmp_path / "d.npz", {**base, "terms": np.array(["ab", "ce"])})
    write_npz(tmp_path / "e.npz", {"coef": base["coef"]})
    assert npz_differences(tmp_path / "a.npz", tmp_path / "b.npz") == []
    assert "coef" in npz_differences(tmp_path / "a.npz", tmp_path / "c.npz")[0]
    assert npz_differences(tmp_path / "a.npz", tmp_path / "d.npz") == ["terms: values differ"]
    assert "arrays" in npz_differences(tmp_path / "a.npz", tmp_path / "e.npz")[0]
