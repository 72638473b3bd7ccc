"""The exact conditional test for two counts, against scipy's binomtest and by hand."""

from __future__ import annotations

import pytest
from scipy.stats import binomtest

from pingan.reports.stats import binomial_two_sided_p, compare_counts


@pytest.mark.parametrize(
    ("k", "n", "p"),
    [(12, 16, 31 / 61), (0, 5, 0.5), (5, 5, 0.5), (3, 10, 0.2), (40, 100, 0.5), (7, 9, 0.3),
     (1, 30, 0.5), (250, 400, 0.55)],
)  # fmt: skip
def test_matches_scipy_binomtest(k: int, n: int, p: float) -> None:
    expected = binomtest(k, n, p, alternative="two-sided").pvalue
    assert binomial_two_sided_p(k, n, p) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_hand_computed_cases() -> None:
    # 3 of 3 at p = 1/2: the outcomes as unlikely are 0 and 3, each 1/8.
    assert binomial_two_sided_p(3, 3, 0.5) == pytest.approx(0.25)
    # 2 of 4 at p = 1/2 is the most likely outcome: p-value 1.
    assert binomial_two_sided_p(2, 4, 0.5) == pytest.approx(1.0)
    # 4 of 4 at p = 0.5: 1/16 + 1/16.
    assert binomial_two_sided_p(4, 4, 0.5) == pytest.approx(0.125)


def test_compare_counts_uses_exposure() -> None:
    # 12 in a 31-day month against 4 in a 30-day month.
    change = compare_counts(12, 4, current_exposure=31, baseline_exposure=30)
    assert change.change == 8
    assert change.ratio == pytest.approx((12 / 31) / (4 / 30))
    assert change.p_value == pytest.approx(binomtest(12, 16, 31 / 61).pvalue)
    assert change.direction == "up"
    assert not change.significant  # p ~ 0.077
    assert compare_counts(30, 5).significant
    assert compare_counts(0, 0).p_value == 1.0
    assert compare_counts(5, 5).direction == "flat"


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError):
        compare_counts(-1, 3)
    with pytest.raises(ValueError):
        compare_counts(1, 3, current_exposure=0)
    with pytest.raises(ValueError):
        binomial_two_sided_p(5, 3, 0.5)
