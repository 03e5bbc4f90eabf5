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
