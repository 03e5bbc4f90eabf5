"""Comparing a rebuilt model file with the shipped one."""

import json
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


def test_model_files_may_differ_only_in_float_digits_of_their_metadata(tmp_path: Path) -> None:
    def write(name: str, meta: dict[str, object]) -> Path:
        path = tmp_path / name
        np.savez(path, w=np.zeros(3), meta=np.array(json.dumps(meta)))
        return path

    base = write("a.npz", {"calibration": {"a": 1.7426139, "b": 4.2296}, "version": 2})
    close = write("b.npz", {"calibration": {"a": 1.7426140, "b": 4.22964}, "version": 2})
    other = write("c.npz", {"calibration": {"a": 1.7426140, "b": 4.22964}, "version": 3})
    far = write("d.npz", {"calibration": {"a": 1.8, "b": 4.2296}, "version": 2})
    assert npz_differences(base, close, atol=1e-4) == []
    assert npz_differences(base, other, atol=1e-4) == ["meta: values differ"]
    assert npz_differences(base, far, atol=1e-4) == ["meta: values differ"]
