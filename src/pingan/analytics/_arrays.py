"""Array type aliases and input checks shared by the analytics kernels."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
UInt8Array = npt.NDArray[np.uint8]


def as_float_vector(values: npt.ArrayLike, name: str, *, allow_nan: bool = False) -> FloatArray:
    """Return ``values`` as a 1-D float64 array, rejecting non-finite entries."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if not allow_nan and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def as_float_matrix(values: npt.ArrayLike, name: str) -> FloatArray:
    """Return ``values`` as a finite 2-D float64 array."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be two-dimensional, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def check_positive(value: float, name: str) -> float:
    """Return ``value`` as float if it is finite and > 0, else raise ValueError."""
    out = float(value)
    if not np.isfinite(out) or out <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return out


def check_same_length(name_a: str, a: Any, name_b: str, b: Any) -> None:
    """Raise ValueError when two 1-D inputs differ in length."""
    if len(a) != len(b):
        raise ValueError(f"{name_a} and {name_b} differ in length ({len(a)} vs {len(b)})")
