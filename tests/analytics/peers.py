"""Test-only access to the peers (esda, libpysal) and the real data they ship.

esda is imported with numba hidden, so it runs its documented pure-Python
fallback instead of spending ~16 s compiling its JIT engine in every test run;
the numba engine is measured in ``benchmarks/hotspots.py``.
"""

from __future__ import annotations

import sys
import warnings
from types import ModuleType
from typing import Any

import numpy as np
import pyogrio.raw
import shapely

_MISSING = object()


def _import_peers() -> tuple[ModuleType, ModuleType]:
    saved = sys.modules.get("numba", _MISSING)
    sys.modules["numba"] = None  # type: ignore[assignment]  # `import numba` now fails
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import esda
            import libpysal
    finally:
        if saved is _MISSING:
            del sys.modules["numba"]
        else:
            sys.modules["numba"] = saved  # type: ignore[assignment]
    return esda, libpysal


esda, libpysal = _import_peers()


def example_path(name: str) -> str:
    """A file shipped inside the libpysal wheel (never downloaded)."""
    path: str = libpysal.examples.get_path(name)
    return path


def columbus() -> tuple[np.ndarray[Any, Any], dict[str, np.ndarray[Any, Any]]]:
    """Columbus 1980 neighbourhood polygons and their attribute columns."""
    meta, _, wkb, fields = pyogrio.raw.read(example_path("columbus.shp"))
    columns = {name: np.asarray(col) for name, col in zip(meta["fields"], fields, strict=True)}
    return shapely.from_wkb(wkb), columns


def gal_weights(name: str) -> Any:
    """A libpysal W read from a shipped .gal file."""
    return libpysal.io.open(example_path(name)).read()


def column(name: str, file: str) -> np.ndarray[Any, Any]:
    """One column of a shipped .txt/.dbf table."""
    handle = libpysal.io.open(example_path(file))
    values = handle.by_col(name) if callable(handle.by_col) else handle.by_col[name]
    return np.asarray(values, dtype=np.float64)
