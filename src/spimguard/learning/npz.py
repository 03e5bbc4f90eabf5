"""Deterministic, pickle-free ``.npz`` files for every model spimguard ships.

``numpy.savez`` stamps each member with the current time, so the same model
saved twice differs byte for byte; a model file must be reproducible from its
data (a test rebuilds the shipped ones and compares bytes). Arrays are written
with ``allow_pickle=False``: object arrays are refused, so a model file can
never carry code.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["write_npz"]

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
