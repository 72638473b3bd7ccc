"""The difference-in-differences kernel against OLS with an interaction and by hand."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from pingan.analytics.did import design, did


def _panel(seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    treated = np.array([True, True, False, False, False])
    post = np.array([False] * 6 + [True] * 5)
    y = rng.poisson(10.0, size=(treated.size, post.size)).astype(float)
    y[np.ix_(treated, post)] -= 4.0
    return y, treated, post


def test_two_by_two_by_hand() -> None:
    # One treated and one control area, two steps each side: means by hand.
    y = np.array([[10.0, 12.0, 5.0, 7.0], [8.0, 10.0, 9.0, 11.0]])
    result = did(y, np.array([True, False]), np.array([False, False, True, True]))
    # treated: 11 -> 6 (-5); control: 9 -> 10 (+1); effect -6.
    assert result.effect == pytest.approx(-6.0)
    assert result.counterfactual_post == pytest.approx(12.0)
    assert result.relative_effect == pytest.approx(-0.5)
    # Residuals are +-1 in every group: SSR 8 over 8 - 4 = 4 df gives sigma^2 = 2, and the
    # effect's variance is 2 * (1/2 + 1/2 + 1/2 + 1/2) = 4.
    assert result.df == 4
    assert result.se == pytest.approx(2.0)
    q = stats.t.ppf(0.975, 4)
    assert result.ci_low == pytest.approx(-6.0 - 2.0 * q)
    assert result.ci_high == pytest.approx(-6.0 + 2.0 * q)


def test_matches_ols_with_interaction() -> None:
    y, treated, post = _panel()
    result = did(y, treated, post)
    x = design(treated, post)
    flat = y.reshape(-1)
    beta, *_ = np.linalg.lstsq(x, flat, rcond=None)
    resid = flat - x @ beta
    n, k = x.shape
    cov = (resid @ resid / (n - k)) * np.linalg.inv(x.T @ x)
    assert result.effect == pytest.approx(beta[3])
    assert result.se == pytest.approx(np.sqrt(cov[3, 3]))
    t = beta[3] / np.sqrt(cov[3, 3])
    assert result.p_value == pytest.approx(2 * stats.t.sf(abs(t), n - k))


def test_cluster_robust_errors_by_area() -> None:
    y, treated, post = _panel(seed=8)
    result = did(y, treated, post, se="cluster")
    # CR1 sandwich computed here area by area from the OLS residuals.
    x = design(treated, post)
    flat = y.reshape(-1)
    beta, *_ = np.linalg.lstsq(x, flat, rcond=None)
    resid = flat - x @ beta
    bread = np.linalg.inv(x.T @ x)
    steps = post.size
    meat = sum(
        np.outer(x[g * steps : (g + 1) * steps].T @ resid[g * steps : (g + 1) * steps],
                 x[g * steps : (g + 1) * steps].T @ resid[g * steps : (g + 1) * steps])
        for g in range(treated.size)
    )  # fmt: skip
    g, n = treated.size, flat.size
    cov = g / (g - 1) * (n - 1) / (n - 4) * bread @ meat @ bread
    assert result.df == g - 1
    assert result.se == pytest.approx(np.sqrt(cov[3, 3]))


def test_needs_both_groups_and_periods() -> None:
    y = np.ones((2, 4))
    with pytest.raises(ValueError, match="treated and control"):
        did(y, np.array([True, True]), np.array([False, False, True, True]))
    with pytest.raises(ValueError, match="before and after"):
        did(y, np.array([True, False]), np.array([True, True, True, True]))
    with pytest.raises(ValueError, match="areas x steps"):
        did(np.ones((3, 4)), np.array([True, False]), np.array([False, False, True, True]))
