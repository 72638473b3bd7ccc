"""Is a change in a count more than chance? The exact conditional test for two Poisson counts.

Given ``n1`` events in exposure ``t1`` and ``n0`` in ``t0``, under equal rates
``n1`` given ``n1 + n0`` is binomial with ``p = t1 / (t1 + t0)``. The two-sided
p-value sums the probabilities of every outcome no more likely than the one
seen (the rule of R's ``binom.test`` and ``scipy.stats.binomtest``), with a
small relative tolerance so ties are not lost to rounding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

_RELATIVE_TOLERANCE = 1 + 1e-7


def _log_binom_pmf(k: np.ndarray, n: int, p: float) -> np.ndarray:
    if p <= 0.0 or p >= 1.0:
        raise ValueError("p must lie strictly between 0 and 1")
    return np.asarray(
        gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
        + k * math.log(p) + (n - k) * math.log1p(-p),
        dtype=float,
    )  # fmt: skip


def binomial_two_sided_p(k: int, n: int, p: float) -> float:
    """Exact two-sided p-value of ``k`` successes in ``n`` trials with probability ``p``."""
    if not 0 <= k <= n:
        raise ValueError("k must lie between 0 and n")
    if n == 0:
        return 1.0
    support = np.arange(n + 1, dtype=float)
    log_pmf = _log_binom_pmf(support, n, p)
    observed = log_pmf[k]
    keep = log_pmf <= observed + math.log(_RELATIVE_TOLERANCE)
    total = float(np.exp(log_pmf[keep]).sum())
    return min(1.0, total)


@dataclass(frozen=True)
class CountChange:
    current: int
    baseline: int
    change: int
    ratio: float | None  # rate ratio current / baseline (per unit of exposure)
    p_value: float
    significant: bool
    direction: str  # "up" | "down" | "flat"


def compare_counts(
    current: int,
    baseline: int,
    *,
    current_exposure: float = 1.0,
    baseline_exposure: float = 1.0,
    alpha: float = 0.05,
) -> CountChange:
    """The change from ``baseline`` to ``current`` and whether it is significant at ``alpha``."""
    if current < 0 or baseline < 0:
        raise ValueError("counts cannot be negative")
    if current_exposure <= 0 or baseline_exposure <= 0:
        raise ValueError("exposures must be positive")
    share = current_exposure / (current_exposure + baseline_exposure)
    p_value = binomial_two_sided_p(current, current + baseline, share)
    ratio = None
    if baseline > 0:
        ratio = (current / current_exposure) / (baseline / baseline_exposure)
    rate_now, rate_before = current / current_exposure, baseline / baseline_exposure
    direction = "up" if rate_now > rate_before else "down" if rate_now < rate_before else "flat"
    return CountChange(
        current=current,
        baseline=baseline,
        change=current - baseline,
        ratio=ratio,
        p_value=p_value,
        significant=p_value < alpha,
        direction=direction,
    )
