"""Deterministic, pickle-free ``.npz`` files for every model spimguard ships.

``numpy.savez`` stamps each member with the current time, so the same model
saved twice differs byte for byte; a model file must be reproducible from its
data (a test rebuilds the shipped ones and compares bytes). Arrays are written
with ``allow_pickle=False``: object arrays are refused, so a model file can
never carry code.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["read_npz", "write_npz"]

_EPOCH = (1980, 1, 1, 0, 0, 0)


def write_npz(path: str | Path, arrays: Mapping[str, np.ndarray[Any, Any]]) -> None:
    """Write ``arrays`` (sorted by name, fixed timestamps) as a compressed ``.npz``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key in sorted(arrays):
            info = zipfile.ZipInfo(f"{key}.npy", date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            buf = io.BytesIO()
            np.lib.format.write_array(buf, arrays[key], allow_pickle=False)
            zf.writestr(info, buf.getvalue())


def read_npz(path: str | Path, format_version: int, error: type[Exception],
             what: str = "model") -> tuple[dict[str, np.ndarray[Any, Any]], dict[str, Any]]:
    """Every array of a file written by :func:`write_npz`, and its ``meta`` JSON.

    Never unpickles. Any failure (missing file, not a zip, a pickled array, no
    ``meta``, another format version) is raised as ``error`` naming the path.
    """
    try:
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        meta: dict[str, Any] = json.loads(str(arrays.pop("meta")))
    except Exception as exc:  # EOFError, UnpicklingError, BadZipFile, KeyError, ...
        raise error(f"cannot read {what} {path}: {exc}") from exc
    if meta.get("format_version") != format_version:
        raise error(f"{path}: {what} format {meta.get('format_version')!r}, "
                    f"this spimguard reads {format_version}")
    return arrays, meta


def npz_differences(a: str | Path, b: str | Path, atol: float = 1e-5) -> list[str]:
    """How two model files differ beyond float rounding (empty: the same model).

    A rebuilt model is compared this way rather than byte for byte: the
    solvers' last bits change between numpy/scikit-learn releases and BLAS
    builds (seen: 4e-8 between scikit-learn 1.8 and 1.9), while vocabularies,
    integer arrays and metadata must match exactly.
    """
    out: list[str] = []
    with np.load(a, allow_pickle=False) as x, np.load(b, allow_pickle=False) as y:
        if sorted(x.files) != sorted(y.files):
            return [f"arrays {sorted(x.files)} != {sorted(y.files)}"]
        for name in sorted(x.files):
            u, v = x[name], y[name]
            if u.shape != v.shape or u.dtype.kind != v.dtype.kind:
                out.append(f"{name}: {u.dtype}{u.shape} != {v.dtype}{v.shape}")
            elif u.dtype.kind == "f":
                gap = float(np.max(np.abs(u - v))) if u.size else 0.0
                if not gap <= atol:
                    out.append(f"{name}: differs by up to {gap:.3g} (> {atol:g})")
            elif u.dtype.kind == "U" and u.shape == () and _json_close(str(u), str(v), atol):
                continue  # metadata whose only differences are floats within atol
            elif not np.array_equal(u, v):
                out.append(f"{name}: values differ")
    return out


def _json_close(a: str, b: str, atol: float) -> bool:
    """Two JSON texts equal but for floats within ``atol`` (a fitted calibration's last
    digits move with the solver like the weights do)."""
    try:
        x, y = json.loads(a), json.loads(b)
    except ValueError:
        return False
    return _close(x, y, atol)


def _close(x: Any, y: Any, atol: float) -> bool:
    if isinstance(x, float) and isinstance(y, float):
        return abs(x - y) <= atol
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() == y.keys() and all(_close(x[k], y[k], atol) for k in x)
    if isinstance(x, list) and isinstance(y, list):
        return len(x) == len(y) and all(_close(u, v, atol) for u, v in zip(x, y, strict=True))
    return bool(x == y)
