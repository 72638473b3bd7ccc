"""Rates per unit (org unit, grid, area): per-capita rates and period-on-period change.

The change test is the exact conditional test for two Poisson counts: given
``n = current + previous``, under "same rate" the current count is
``Binomial(n, e_c / (e_c + e_p))`` where ``e`` are exposures (period length,
population). The two-sided p-value is the one ``scipy.stats.binomtest``
computes (sum of outcomes no more likely than the observed one), vectorised.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from pingan.analytics._arrays import BoolArray, FloatArray, IntArray, as_float_vector

# scipy's relative tolerance for "no more likely than observed" (binomtest).
_LIKELIHOOD_RTOL = 1 + 1e-7


def _counts(values: npt.ArrayLike, name: str) -> IntArray:
    arr = as_float_vector(np.atleast_1d(np.asarray(values, dtype=np.float64)), name)
    if np.any(arr < 0) or np.any(arr != np.round(arr)):
        raise ValueError(f"{name} must be non-negative whole numbers")
    return arr.astype(np.int64)


def rate_per(
    counts: npt.ArrayLike, population: npt.ArrayLike, *, per: float = 10_000.0
) -> FloatArray:
    """Counts per ``per`` residents; NaN where the population is zero or unknown."""
    c = as_float_vector(np.atleast_1d(np.asarray(counts, dtype=np.float64)), "counts")
    pop = as_float_vector(
        np.atleast_1d(np.asarray(population, dtype=np.float64)), "population", allow_nan=True
    )
    if c.shape != pop.shape:
        raise ValueError("counts and population differ in length")
    out = np.full(c.shape, np.nan)
    ok = np.isfinite(pop) & (pop > 0)
    out[ok] = c[ok] / pop[ok] * per
    return out


def poisson_rate_interval(
    counts: npt.ArrayLike,
    exposure: npt.ArrayLike,
    *,
    level: float = 0.95,
    per: float = 1.0,
) -> tuple[FloatArray, FloatArray]:
    """Exact (Garwood) confidence interval of a Poisson rate ``counts / exposure * per``."""
    c = _counts(counts, "counts").astype(np.float64)
    e = as_float_vector(np.atleast_1d(np.asarray(exposure, dtype=np.float64)), "exposure")
    if np.any(e <= 0):
        raise ValueError("exposure must be positive")
    if not 0 < level < 1:
        raise ValueError("level must be within (0, 1)")
    tail = (1 - level) / 2
    lower = np.where(c > 0, stats.chi2.ppf(tail, 2 * c) / 2, 0.0)
    upper = stats.chi2.ppf(1 - tail, 2 * c + 2) / 2
    return lower / e * per, upper / e * per


def binomial_two_sided_p(k: npt.ArrayLike, n: npt.ArrayLike, p: npt.ArrayLike) -> FloatArray:
    """Exact two-sided binomial p-values, elementwise, equal to ``binomtest(k, n, p).pvalue``."""
    kk, nn, pp = np.broadcast_arrays(
        np.asarray(k, dtype=np.int64), np.asarray(n, dtype=np.int64), np.asarray(p, dtype=float)
    )
    kk, nn, pp = kk.ravel(), nn.ravel(), pp.ravel()
    if np.any((kk < 0) | (kk > nn)) or np.any((pp < 0) | (pp > 1)):
        raise ValueError("need 0 <= k <= n and 0 <= p <= 1")
    out = np.ones(kk.shape)
    mean = nn * pp
    threshold = stats.binom.pmf(kk, nn, pp) * _LIKELIHOOD_RTOL
    low = kk < mean
    high = kk > mean
    if low.any():
        # Upper tail: the first j >= ceil(mean) whose probability is <= the observed one.
        first = _first_at_most(threshold[low], nn[low], pp[low], np.ceil(mean[low]), nn[low])
        upper_mass = np.where(first <= nn[low], stats.binom.sf(first - 1, nn[low], pp[low]), 0.0)
        out[low] = stats.binom.cdf(kk[low], nn[low], pp[low]) + upper_mass
    if high.any():
        # Lower tail: the last j <= floor(mean) whose probability is <= the observed one.
        last = _last_at_most(threshold[high], nn[high], pp[high], np.floor(mean[high]))
        lower_mass = np.where(last >= 0, stats.binom.cdf(last, nn[high], pp[high]), 0.0)
        out[high] = lower_mass + stats.binom.sf(kk[high] - 1, nn[high], pp[high])
    result: FloatArray = np.minimum(out, 1.0).reshape(np.shape(kk))
    return result


def _first_at_most(
    threshold: FloatArray, n: IntArray, p: FloatArray, start: FloatArray, stop: IntArray
) -> IntArray:
    """Smallest j in [start, stop] with pmf(j) <= threshold (pmf falls there); stop + 1 if none."""
    lo = start.astype(np.int64)
    hi = stop.astype(np.int64) + 1
    for _ in range(64):
        active = lo < hi
        if not active.any():
            break
        mid = (lo + hi) // 2
        ok = stats.binom.pmf(mid, n, p) <= threshold
        hi = np.where(active & ok, mid, hi)
        lo = np.where(active & ~ok, mid + 1, lo)
    return lo


def _last_at_most(threshold: FloatArray, n: IntArray, p: FloatArray, stop: FloatArray) -> IntArray:
    """Largest j in [0, stop] with pmf(j) <= threshold (pmf rises there); -1 if none."""
    lo = np.full(n.shape, -1, dtype=np.int64)
    hi = stop.astype(np.int64)
    for _ in range(64):
        active = lo < hi
        if not active.any():
            break
        mid = (lo + hi + 1) // 2
        ok = stats.binom.pmf(mid, n, p) <= threshold
        lo = np.where(active & ok, mid, lo)
        hi = np.where(active & ~ok, mid - 1, hi)
    return lo


@dataclass(frozen=True)
class RateChange:
    """Current vs previous period per unit."""

    current: IntArray
    previous: IntArray
    difference: IntArray
    ratio: FloatArray  # rate ratio (exposure-adjusted), inf when previous is 0
    percent_change: FloatArray  # of the exposure-adjusted rate; NaN when previous is 0
    p_value: FloatArray  # exact conditional test, two-sided
    significant: BoolArray


def compare_periods(
    current: npt.ArrayLike,
    previous: npt.ArrayLike,
    *,
    exposure_current: npt.ArrayLike = 1.0,
    exposure_previous: npt.ArrayLike = 1.0,
    alpha: float = 0.05,
) -> RateChange:
    """Change of counts per unit against the previous period, with an exact test.

    Exposures scale the expected split (e.g. a 31-day vs a 30-day month, or the
    population in each period). ``significant`` is ``p_value < alpha``; apply
    ``significance.benjamini_hochberg`` to the p-values when many units are read
    at once.
    """
    cur = _counts(current, "current")
    prev = _counts(previous, "previous")
    if cur.shape != prev.shape:
        raise ValueError("current and previous differ in length")
    if not 0 < alpha < 1 or not math.isfinite(alpha):
        raise ValueError("alpha must be within (0, 1)")
    e_cur = np.broadcast_to(np.asarray(exposure_current, dtype=np.float64), cur.shape)
    e_prev = np.broadcast_to(np.asarray(exposure_previous, dtype=np.float64), cur.shape)
    if np.any(~np.isfinite(e_cur) | (e_cur <= 0)) or np.any(~np.isfinite(e_prev) | (e_prev <= 0)):
        raise ValueError("exposures must be positive and finite")
    share = e_cur / (e_cur + e_prev)
    p_value = binomial_two_sided_p(cur, cur + prev, share)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (cur / e_cur) / (prev / e_prev)
        pct = np.where(prev > 0, (ratio - 1.0) * 100.0, np.nan)
    ratio = np.where((cur == 0) & (prev == 0), np.nan, ratio)
    return RateChange(
        current=cur,
        previous=prev,
        difference=cur - prev,
        ratio=ratio,
        percent_change=pct,
        p_value=p_value,
        significant=p_value < alpha,
    )
