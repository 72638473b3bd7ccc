from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

from pingan.analytics.rates import (
    binomial_two_sided_p,
    compare_periods,
    poisson_rate_interval,
    rate_per,
)


def test_binomial_p_equals_scipy_binomtest() -> None:
    rng = np.random.default_rng(0)
    n = rng.integers(0, 400, 2000)
    k = (rng.uniform(0, 1, 2000) * (n + 1)).astype(int).clip(0, n)
    p = rng.choice([0.5, 0.3, 0.7, 31 / 61, 0.01, 0.99], 2000)
    got = binomial_two_sided_p(k, n, p)
    want = np.array(
        [
            scipy.stats.binomtest(int(a), int(b), float(c)).pvalue if b else 1.0
            for a, b, c in zip(k, n, p, strict=True)
        ]
    )
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300)


def test_compare_periods() -> None:
    change = compare_periods([30, 12, 0, 50, 7], [10, 12, 0, 70, 0])
    assert change.difference.tolist() == [20, 0, 0, -20, 7]
    assert change.ratio[0] == pytest.approx(3.0)
    assert np.isnan(change.ratio[2]) and np.isinf(change.ratio[4])
    assert change.percent_change[0] == pytest.approx(200.0)
    assert change.p_value[0] == pytest.approx(scipy.stats.binomtest(30, 40).pvalue)
    assert change.significant.tolist() == [True, False, False, False, True]
    # A 31-day month against a 30-day one: the expected split is 31:30, not 1:1.
    month = compare_periods([31], [30], exposure_current=31, exposure_previous=30)
    assert month.p_value[0] == pytest.approx(1.0)
    assert month.ratio[0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="whole numbers"):
        compare_periods([1.5], [2])
    with pytest.raises(ValueError, match="exposures"):
        compare_periods([1], [2], exposure_current=0)


def test_rates_per_ten_thousand_residents() -> None:
    got = rate_per([5, 3, 2], [25_000, 0, np.nan])
    assert got[0] == pytest.approx(2.0)
    assert np.isnan(got[1:]).all()


def test_poisson_interval_is_exact() -> None:
    lower, upper = poisson_rate_interval([0, 4, 30], [1.0, 2.0, 10.0], level=0.95)
    assert lower[0] == 0.0
    # Garwood limits: P(X >= k | lower) = P(X <= k | upper) = 2.5 %.
    assert scipy.stats.poisson.sf(3, lower[1] * 2) == pytest.approx(0.025)
    assert scipy.stats.poisson.cdf(30, upper[2] * 10) == pytest.approx(0.025)
