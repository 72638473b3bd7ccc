"""Multiple-testing control (Benjamini-Hochberg) and hot/cold confidence classes."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from pingan.analytics._arrays import BoolArray, FloatArray

# Class 1, 2, 3 = 90, 95, 99 % confidence = p below 0.10, 0.05, 0.01.
CLASS_ALPHAS: tuple[float, ...] = (0.10, 0.05, 0.01)


def bh_adjusted(p_values: npt.ArrayLike) -> FloatArray:
    """Benjamini-Hochberg adjusted p-values (q-values); NaN stays NaN and is not counted."""
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    valid = np.isfinite(p)
    m = int(valid.sum())
    if m == 0:
        return out
    pv = p[valid]
    if np.any((pv < 0) | (pv > 1)):
        raise ValueError("p-values must lie within 0..1")
    order = np.argsort(pv, kind="stable")
    ranked = pv[order] * m / np.arange(1, m + 1)
    # Step-up: each q is the smallest ranked value at or after its rank.
    q_sorted = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(q_sorted, 1.0)
    out[valid] = q
    return out


def benjamini_hochberg(p_values: npt.ArrayLike, alpha: float = 0.05) -> BoolArray:
    """Which tests are discoveries at false discovery rate ``alpha``."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be within (0, 1), got {alpha!r}")
    q = bh_adjusted(p_values)
    out: BoolArray = np.nan_to_num(q, nan=np.inf) <= alpha
    return out


def hot_cold_classes(
    direction: npt.ArrayLike,
    p_values: npt.ArrayLike,
    *,
    fdr: bool = False,
) -> npt.NDArray[np.int8]:
    """Confidence classes: +3/+2/+1 hot at 99/95/90 %, -3/-2/-1 cold, 0 not significant.

    ``direction`` is the sign of the departure (e.g. a z-score); ``p_values`` are
    two-sided or directed, compared with 0.01 / 0.05 / 0.10. With ``fdr`` each
    level is a Benjamini-Hochberg discovery at that rate instead.
    """
    sign = np.sign(np.asarray(direction, dtype=np.float64))
    p = np.asarray(p_values, dtype=np.float64)
    if sign.shape != p.shape:
        raise ValueError("direction and p_values differ in shape")
    level = np.zeros(p.shape, dtype=np.int8)
    for rank, alpha in enumerate(CLASS_ALPHAS, start=1):
        hit = benjamini_hochberg(p, alpha) if fdr else np.nan_to_num(p, nan=np.inf) < alpha
        level[hit] = rank
    out: npt.NDArray[np.int8] = (level * np.nan_to_num(sign)).astype(np.int8)
    return out
