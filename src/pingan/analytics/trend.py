"""Mann-Kendall monotonic trend test, vectorised over many series."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from pingan.analytics._arrays import FloatArray, as_float_matrix


@dataclass(frozen=True)
class MannKendall:
    """Per series: Kendall's S, its tie-corrected variance, z, two-sided p and tau."""

    s: FloatArray
    variance: FloatArray
    z: FloatArray
    p: FloatArray
    tau: FloatArray


def _tie_term(series: FloatArray) -> FloatArray:
    """Sum over groups of tied values of ``t (t - 1) (2t + 5)``, per row."""
    rows, steps = series.shape
    ordered = np.sort(series, axis=1)
    new_group = np.ones((rows, steps), dtype=bool)
    new_group[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    starts = np.flatnonzero(new_group.ravel())
    sizes = np.diff(np.append(starts, rows * steps)).astype(np.float64)
    terms = sizes * (sizes - 1) * (2 * sizes + 5)
    out: FloatArray = np.bincount(starts // steps, weights=terms, minlength=rows).astype(np.float64)
    return out


def mann_kendall(series: npt.ArrayLike, *, continuity: bool = True) -> MannKendall:
    """Test each row of ``series`` (locations x time steps) for a monotonic trend.

    ``S = sum_{a < b} sign(x_b - x_a)``; ``Var S = [T(T-1)(2T+5) - sum t(t-1)(2t+5)] / 18``
    over groups of ``t`` tied values; ``z = (S - sign S) / sqrt(Var S)`` with the
    continuity correction (``continuity=False`` drops it). A row with no variance
    (all values tied) gets ``z = 0`` and ``p = 1``.
    """
    x = as_float_matrix(series, "series")
    rows, steps = x.shape
    if steps < 3:
        raise ValueError("a trend test needs at least three time steps")
    s = np.zeros(rows)
    for lag in range(1, steps):
        s += np.sign(x[:, lag:] - x[:, :-lag]).sum(axis=1)
    variance = (steps * (steps - 1) * (2 * steps + 5) - _tie_term(x)) / 18.0
    numerator = s - np.sign(s) if continuity else s
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(variance > 0, numerator / np.sqrt(variance), 0.0)
    p = 2.0 * stats.norm.sf(np.abs(z))
    tau = s / (steps * (steps - 1) / 2.0)
    return MannKendall(s=s, variance=variance, z=z, p=np.minimum(p, 1.0), tau=tau)
