"""Emerging hotspot analysis on a space-time cube (locations x time steps).

1. Gi* for every bin of the cube: neighbours are the location and its spatial
   neighbours, in the same time step and the ``time_window`` steps before it;
   mean and spread are taken over the whole cube.
2. The Mann-Kendall trend of each location's Gi* z-scores over time.
3. Each location's class from its hot/cold history and trend. The classes are
   defined precisely in ``docs/analytics.md``; ``classify`` implements exactly that.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse, stats

from pingan.analytics._arrays import BoolArray, FloatArray, as_float_matrix
from pingan.analytics.significance import benjamini_hochberg
from pingan.analytics.trend import mann_kendall
from pingan.analytics.weights import as_weights, without_diagonal

# Share of time steps that makes a location persistently hot (or cold).
PERSISTENT_SHARE = 0.9

CATEGORY_NAMES: dict[int, str] = {
    0: "no pattern",
    1: "new hot spot",
    2: "consecutive hot spot",
    3: "intensifying hot spot",
    4: "persistent hot spot",
    5: "diminishing hot spot",
    6: "sporadic hot spot",
    7: "oscillating hot spot",
    8: "historical hot spot",
    -1: "new cold spot",
    -2: "consecutive cold spot",
    -3: "intensifying cold spot",
    -4: "persistent cold spot",
    -5: "diminishing cold spot",
    -6: "sporadic cold spot",
    -7: "oscillating cold spot",
    -8: "historical cold spot",
}
NEW, CONSECUTIVE, INTENSIFYING, PERSISTENT, DIMINISHING, SPORADIC, OSCILLATING, HISTORICAL = range(
    1, 9
)


@dataclass(frozen=True)
class CubeGiStar:
    """Gi* z-scores and two-sided p-values for every bin, shape (locations, steps)."""

    z: FloatArray
    p: FloatArray


def cube_gi_star(cube: npt.ArrayLike, w: object, *, time_window: int = 0) -> CubeGiStar:
    """Gi* of every bin of a space-time cube of non-negative counts.

    ``w`` holds spatial neighbours (diagonal ignored; each location is its own
    neighbour with the row's largest weight, 1 for binary weights). Bin ``(i, t)``
    sums its space neighbours over steps ``t - time_window .. t``. Moments use
    the mean and (population) spread of all bins, as in Ord & Getis (1995).
    """
    x = as_float_matrix(cube, "cube")
    n, steps = x.shape
    if np.any(x < 0):
        raise ValueError("the cube must hold non-negative counts")
    if not 0 <= time_window < steps:
        raise ValueError(f"time_window must be within 0..{steps - 1}, got {time_window}")
    space = without_diagonal(as_weights(w, n))
    counts = np.diff(space.indptr)
    self_weight = np.ones(n)
    has = counts > 0
    self_weight[has] = np.maximum.reduceat(space.data, space.indptr[:-1][has])
    star = sparse.csr_array(space + sparse.diags_array(self_weight, format="csr"))
    lag = star @ x
    if time_window:
        # Window sums along time from a cumulative sum; early steps have shorter windows.
        csum = np.cumsum(lag, axis=1)
        shifted = np.zeros_like(csum)
        shifted[:, time_window + 1 :] = csum[:, : steps - time_window - 1]
        lag = csum - shifted
    window = np.minimum(np.arange(steps), time_window) + 1.0
    row_sum = np.asarray(star.sum(axis=1)).ravel()[:, None] * window[None, :]
    row_sq = np.asarray(star.multiply(star).sum(axis=1)).ravel()[:, None] * window[None, :]
    total_n = float(n * steps)
    mean = float(x.mean())
    spread = float(x.std())
    with np.errstate(divide="ignore", invalid="ignore"):
        denominator = spread * np.sqrt((total_n * row_sq - row_sum**2) / (total_n - 1.0))
        z = (lag - mean * row_sum) / denominator
    z = np.where(np.isfinite(z), z, 0.0)
    return CubeGiStar(z=z, p=2.0 * stats.norm.sf(np.abs(z)))


def _trailing_run(flags: BoolArray) -> npt.NDArray[np.int64]:
    """Length of the run of True that ends at the last step, per row."""
    out: npt.NDArray[np.int64] = np.cumprod(flags[:, ::-1], axis=1).sum(axis=1)
    return out


def _one_side(
    on: BoolArray,
    other: BoolArray,
    trend_up: BoolArray,
    trend_down: BoolArray,
) -> npt.NDArray[np.int8]:
    """Categories 1..8 for the side ``on`` (hot or cold); 0 where the final step is not ``on``."""
    steps = on.shape[1]
    share = on.sum(axis=1) / steps
    final = on[:, -1]
    run = _trailing_run(on)
    before_run = on.sum(axis=1) - run > 0
    mostly = share >= PERSISTENT_SHARE
    out = np.zeros(on.shape[0], dtype=np.int8)
    # Evaluated from the most general to the most specific; later rules win.
    out[final & ~mostly & before_run] = SPORADIC
    out[final & ~mostly & ~before_run & (run == 1)] = NEW
    out[final & ~mostly & ~before_run & (run >= 2)] = CONSECUTIVE
    out[final & ~mostly & other.any(axis=1)] = OSCILLATING
    out[final & mostly] = PERSISTENT
    out[final & mostly & trend_up] = INTENSIFYING
    out[final & mostly & trend_down] = DIMINISHING
    return out


def classify(
    hot: npt.ArrayLike,
    cold: npt.ArrayLike,
    trend_z: npt.ArrayLike,
    trend_p: npt.ArrayLike,
    *,
    trend_alpha: float = 0.05,
) -> npt.NDArray[np.int8]:
    """Category code per location from per-step hot/cold flags and the z-score trend.

    Positive codes are hot, negative cold, 0 no pattern (see ``CATEGORY_NAMES``).
    A hot trend is "intensifying" when z rises; a cold one when z falls.
    """
    hot_b = np.asarray(hot, dtype=bool)
    cold_b = np.asarray(cold, dtype=bool)
    if hot_b.ndim != 2 or hot_b.shape != cold_b.shape:
        raise ValueError("hot and cold must be boolean arrays of the same (locations, steps) shape")
    if np.any(hot_b & cold_b):
        raise ValueError("a bin cannot be both hot and cold")
    tz = np.asarray(trend_z, dtype=np.float64)
    significant = np.asarray(trend_p, dtype=np.float64) < trend_alpha
    rising = significant & (tz > 0)
    falling = significant & (tz < 0)
    hot_code = _one_side(hot_b, cold_b, rising, falling)
    cold_code = _one_side(cold_b, hot_b, falling, rising)
    out = np.where(hot_code > 0, hot_code, -cold_code).astype(np.int8)
    steps = hot_b.shape[1]
    neither_final = out == 0
    historical_hot = neither_final & (hot_b.sum(axis=1) >= PERSISTENT_SHARE * steps)
    historical_cold = neither_final & (cold_b.sum(axis=1) >= PERSISTENT_SHARE * steps)
    out[historical_hot] = HISTORICAL
    out[historical_cold] = -HISTORICAL
    return out


@dataclass(frozen=True)
class EmergingHotspots:
    """Per-bin Gi* and per-location trend and category."""

    z: FloatArray
    p: FloatArray
    hot: BoolArray
    cold: BoolArray
    trend_z: FloatArray
    trend_p: FloatArray
    category: npt.NDArray[np.int8]

    def category_names(self) -> list[str]:
        return [CATEGORY_NAMES[int(c)] for c in self.category]


def emerging_hotspots(
    cube: npt.ArrayLike,
    w: object,
    *,
    time_window: int = 0,
    alpha: float = 0.05,
    fdr: bool = False,
    trend_alpha: float = 0.05,
) -> EmergingHotspots:
    """Gi* per bin, Mann-Kendall per location, and the emerging hotspot category.

    A bin is hot (cold) when its two-sided p is below ``alpha`` and z > 0 (< 0);
    with ``fdr`` the bins are Benjamini-Hochberg discoveries at rate ``alpha``.
    """
    if not 0 < alpha < 1 or not 0 < trend_alpha < 1:
        raise ValueError("alpha and trend_alpha must be within (0, 1)")
    gi = cube_gi_star(cube, w, time_window=time_window)
    if gi.z.shape[1] < 3:
        raise ValueError("emerging hotspot analysis needs at least three time steps")
    significant = (
        benjamini_hochberg(gi.p.ravel(), alpha).reshape(gi.p.shape) if fdr else gi.p < alpha
    )
    hot = significant & (gi.z > 0)
    cold = significant & (gi.z < 0)
    trend = mann_kendall(gi.z)
    category = classify(hot, cold, trend.z, trend.p, trend_alpha=trend_alpha)
    return EmergingHotspots(gi.z, gi.p, hot, cold, trend.z, trend.p, category)
