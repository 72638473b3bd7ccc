"""Aberration detection on one daily count series: EARS C1/C2/C3, Poisson CUSUM, seasonal GLM.

Every method returns, per day, the statistic, the threshold it is compared
with, and whether the day alarms; days without enough history get NaN and
never alarm.

EARS (CDC, Hutwagner et al. 2003), baseline of 7 days:

- C1: ``(y_t - mean) / sd`` over days ``t-7 .. t-1``.
- C2: the same over days ``t-9 .. t-3`` (a 2-day guard band, so the first
  days of an outbreak do not raise their own baseline).
- C3: ``sum over d = t-2 .. t of max(0, C2_d - 1)`` (CDC's definition: the
  last three C2 statistics, each counted only above one standard deviation).

Poisson CUSUM (Lucas 1985): in-control mean from a trailing baseline, tuned to
detect a shift to ``mu0 + shift * sqrt(mu0)``; ``S_t = max(0, S_{t-1} + y_t - k)``
with ``k = (mu1 - mu0) / ln(mu1 / mu0)``; alarm when ``S_t > h`` (then reset).

Seasonal baseline (Farrington-flavoured quasi-Poisson GLM): for each day, a
log-linear Poisson model with a day-of-week effect and a linear trend is fitted
by IRLS on the ``baseline_weeks`` weeks before a guard band. As in Farrington
et al. (1996) the comparison is made on the 2/3-power scale, where a Poisson
count is close to symmetric, and the variance counts both the day's own
noise (``phi * mu``, dispersion ``phi`` from the fit, never below 1) and the
uncertainty of the fitted ``mu`` (``Var(mu) = mu^2 x0' Cov(beta) x0`` with
``Cov(beta) = phi (X' W X)^-1``):

    z = (y^(2/3) - mu^(2/3)) / ((2/3) mu^(-1/3) sqrt(phi mu + Var(mu)))

and the day alarms when ``z > z_(1-alpha)``, i.e. above
``mu (1 + (2/3) z_(1-alpha) sqrt(phi mu + Var(mu)) / mu)^(3/2)``. Without the
transformation and the fit's own variance, small counts alarm several times
more often than ``alpha`` promises.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from pingan.analytics._arrays import BoolArray, FloatArray, as_float_vector

EARS_BASELINE_DAYS = 7
EARS_GUARD_DAYS = 2
# A flat baseline has sd 0; this floor keeps the statistic finite (our choice, documented).
DEFAULT_MIN_SD = 0.5


@dataclass(frozen=True)
class AberrationResult:
    """Per day: statistic, threshold, alarm, and the expected count where the method has one."""

    method: str
    statistic: FloatArray
    threshold: FloatArray
    alarm: BoolArray
    expected: FloatArray


def _counts(values: npt.ArrayLike) -> FloatArray:
    arr = as_float_vector(values, "counts")
    if np.any(arr < 0):
        raise ValueError("counts must be non-negative")
    return arr


def _ears_c(counts: FloatArray, guard: int, min_sd: float) -> tuple[FloatArray, FloatArray]:
    n = counts.size
    stat = np.full(n, np.nan)
    mean = np.full(n, np.nan)
    lag = EARS_BASELINE_DAYS + guard
    if n > lag:
        windows = np.lib.stride_tricks.sliding_window_view(counts, EARS_BASELINE_DAYS)
        # Window starting at t - lag covers t-lag .. t-lag+6, i.e. ends guard+1 days before t.
        base = windows[: n - lag]
        mean[lag:] = base.mean(axis=1)
        sd = np.maximum(base.std(axis=1, ddof=1), min_sd)
        stat[lag:] = (counts[lag:] - mean[lag:]) / sd
    return stat, mean


def _result(
    method: str, stat: FloatArray, threshold: float, expected: FloatArray
) -> AberrationResult:
    alarm = np.where(np.isnan(stat), False, stat > threshold)
    return AberrationResult(method, stat, np.full(stat.size, threshold), alarm, expected)


def ears_c1(
    counts: npt.ArrayLike, *, threshold: float = 3.0, min_sd: float = DEFAULT_MIN_SD
) -> AberrationResult:
    """EARS C1: today against the 7 days just before it."""
    stat, mean = _ears_c(_counts(counts), 0, min_sd)
    return _result("ears_c1", stat, threshold, mean)


def ears_c2(
    counts: npt.ArrayLike, *, threshold: float = 3.0, min_sd: float = DEFAULT_MIN_SD
) -> AberrationResult:
    """EARS C2: today against 7 days that end 3 days before it (2-day guard band)."""
    stat, mean = _ears_c(_counts(counts), EARS_GUARD_DAYS, min_sd)
    return _result("ears_c2", stat, threshold, mean)


def ears_c3(
    counts: npt.ArrayLike, *, threshold: float = 2.0, min_sd: float = DEFAULT_MIN_SD
) -> AberrationResult:
    """EARS C3: the sum of the last three C2 excesses over one standard deviation."""
    c2, mean = _ears_c(_counts(counts), EARS_GUARD_DAYS, min_sd)
    excess = np.maximum(c2 - 1.0, 0.0)  # NaN stays NaN
    stat = np.full(c2.size, np.nan)
    if c2.size >= 3:
        stat[2:] = excess[2:] + excess[1:-1] + excess[:-2]
    return _result("ears_c3", stat, threshold, mean)


def poisson_cusum(
    counts: npt.ArrayLike,
    *,
    baseline_days: int = 28,
    guard_days: int = EARS_GUARD_DAYS,
    shift: float = 1.0,
    h: float = 4.0,
) -> AberrationResult:
    """Poisson CUSUM with a trailing in-control mean; resets to 0 after each alarm."""
    y = _counts(counts)
    if baseline_days < 1 or guard_days < 0 or shift <= 0 or h <= 0:
        raise ValueError("baseline_days >= 1, guard_days >= 0, shift > 0 and h > 0 are required")
    n = y.size
    lag = baseline_days + guard_days
    stat = np.full(n, np.nan)
    mu0 = np.full(n, np.nan)
    if n > lag:
        sums = np.concatenate(([0.0], np.cumsum(y)))
        mu0[lag:] = (sums[baseline_days : n - guard_days] - sums[: n - lag]) / baseline_days
    level = 0.0
    for t in range(lag, n):
        m0 = max(mu0[t], 1e-9)
        m1 = m0 + shift * np.sqrt(m0)
        k = (m1 - m0) / np.log(m1 / m0)
        level = max(0.0, level + y[t] - k)
        stat[t] = level
        if level > h:
            level = 0.0
    return _result("poisson_cusum", stat, h, mu0)


def _poisson_irls(design: FloatArray, y: FloatArray, iterations: int = 25) -> FloatArray:
    beta = np.zeros(design.shape[1])
    beta[0] = np.log(max(float(y.mean()), 0.5))
    for _ in range(iterations):
        mu = np.exp(design @ beta)
        z = design @ beta + (y - mu) / mu
        weighted = design * mu[:, None]
        step = np.linalg.lstsq(design.T @ weighted, weighted.T @ z, rcond=None)[0]
        if np.max(np.abs(step - beta)) < 1e-8:
            return np.asarray(step, dtype=np.float64)
        beta = np.asarray(step, dtype=np.float64)
    return beta


def _fitted_mean_variance(design: FloatArray, fitted: FloatArray, today: FloatArray) -> float:
    """``x0' (X' W X)^-1 x0`` with ``W = diag(mu)``: Var(log mu_0) per unit of dispersion.

    A pseudo-inverse, because a day-of-week column can be all zeros when
    the baseline holds only zero counts on that weekday.
    """
    information = design.T @ (design * fitted[:, None])
    return float(today @ np.linalg.pinv(information) @ today)


def _design(days: FloatArray, origin: float) -> FloatArray:
    dow = days.astype(np.int64) % 7
    cols = [np.ones(days.size), (days - origin) / 7.0]
    cols += [(dow == d).astype(np.float64) for d in range(1, 7)]
    return np.column_stack(cols)


def seasonal_glm(
    counts: npt.ArrayLike,
    *,
    baseline_weeks: int = 8,
    guard_days: int = 7,
    alpha: float = 0.01,
    trend: bool = True,
) -> AberrationResult:
    """Quasi-Poisson GLM with day-of-week effects; the statistic is today's z-score on the
    2/3-power scale, counting the fitted mean's own uncertainty (see the module notes)."""
    y = _counts(counts)
    if baseline_weeks < 2 or guard_days < 0 or not 0 < alpha < 1:
        raise ValueError("baseline_weeks >= 2, guard_days >= 0 and 0 < alpha < 1 are required")
    n = y.size
    span = 7 * baseline_weeks
    lag = span + guard_days
    z_alpha = float(stats.norm.ppf(1 - alpha))
    stat = np.full(n, np.nan)
    expected = np.full(n, np.nan)
    days = np.arange(n, dtype=np.float64)
    for t in range(lag, n):
        fit_days = days[t - lag : t - guard_days]
        design = _design(fit_days, float(t))
        if not trend:
            design = np.delete(design, 1, axis=1)
        beta = _poisson_irls(design, y[t - lag : t - guard_days])
        fitted = np.exp(design @ beta)
        dof = max(fit_days.size - design.shape[1], 1)
        phi = max(1.0, float(np.sum((y[t - lag : t - guard_days] - fitted) ** 2 / fitted)) / dof)
        today = _design(days[t : t + 1], float(t))
        if not trend:
            today = np.delete(today, 1, axis=1)
        mu = float(np.exp(today @ beta)[0])
        expected[t] = mu
        var_mu = mu * mu * phi * _fitted_mean_variance(design, fitted, today[0])
        spread = (2.0 / 3.0) * mu ** (-1.0 / 3.0) * np.sqrt(phi * mu + var_mu)
        stat[t] = (y[t] ** (2.0 / 3.0) - mu ** (2.0 / 3.0)) / spread
    return _result("seasonal_glm", stat, z_alpha, expected)


METHODS = {
    "ears_c1": ears_c1,
    "ears_c2": ears_c2,
    "ears_c3": ears_c3,
    "poisson_cusum": poisson_cusum,
    "seasonal_glm": seasonal_glm,
}
