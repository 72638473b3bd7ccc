"""Aberration detection: exact EARS statistics, CUSUM recursion, and the worked example."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from pingan.analytics import aberration

EARS_CSV = Path("/work/shared/data/ears_series.csv")
if not EARS_CSV.exists():  # the repository's own copy of the shared data
    EARS_CSV = Path(__file__).resolve().parents[3] / "shared" / "data" / "ears_series.csv"


@pytest.fixture(scope="module")
def series() -> np.ndarray:
    return np.loadtxt(EARS_CSV, delimiter=",", skiprows=1)[:, 1]


def test_c1_hand_computed() -> None:
    counts = [2, 4, 2, 4, 2, 4, 2, 10]
    result = aberration.ears_c1(counts)
    base = np.array([2, 4, 2, 4, 2, 4, 2], dtype=float)
    sd = math.sqrt(((base - base.mean()) ** 2).sum() / 6)
    assert np.isnan(result.statistic[:7]).all()
    assert result.statistic[7] == pytest.approx((10 - 20 / 7) / sd)
    assert result.expected[7] == pytest.approx(20 / 7)
    assert result.alarm.tolist() == [False] * 7 + [True]


def test_c2_uses_guard_band_and_c3_sums_three_excesses(series: np.ndarray) -> None:
    c2 = aberration.ears_c2(series)
    c3 = aberration.ears_c3(series)
    for t in (120, 200, 303):  # 0-based day index
        base = series[t - 9 : t - 2]
        assert c2.statistic[t] == pytest.approx(
            (series[t] - base.mean()) / max(base.std(ddof=1), aberration.DEFAULT_MIN_SD)
        )
        excess = np.maximum(c2.statistic[t - 2 : t + 1] - 1, 0).sum()
        assert c3.statistic[t] == pytest.approx(excess)
    assert np.isnan(c2.statistic[:9]).all() and not np.isnan(c2.statistic[9])


def test_flat_baseline_uses_sd_floor() -> None:
    result = aberration.ears_c1([5] * 7 + [6], min_sd=0.5)
    assert result.statistic[7] == pytest.approx(2.0)


def test_worked_example_outbreaks_are_flagged(series: np.ndarray) -> None:
    # Days are 1-based in the file: +12 on days 200-202, +6 on days 300-306.
    def alarm_days(result: aberration.AberrationResult) -> set[int]:
        return set((np.flatnonzero(result.alarm) + 1).tolist())

    assert 200 in alarm_days(aberration.ears_c2(series))
    assert {200, 201, 202} <= alarm_days(aberration.ears_c3(series))
    assert alarm_days(aberration.ears_c3(series)) & set(range(300, 307))
    assert {200, 201, 202} <= alarm_days(aberration.poisson_cusum(series))
    assert {300, 301, 302} <= alarm_days(aberration.poisson_cusum(series))
    result = aberration.seasonal_glm(series)
    glm = alarm_days(result)
    # The GLM, at its level of 1 %, flags the first outbreak's peak, the second's first
    # day and its peak (the +6 days in between sit just under its threshold); the
    # alarms outside the outbreaks stay within what 1 % of the days allows.
    assert {201, 202, 300, 304} <= glm
    outside = glm - set(range(200, 203)) - set(range(300, 307))
    analysed = int((~np.isnan(result.statistic)).sum())
    assert len(outside) <= stats.binom.ppf(0.999, analysed, 0.01)


def test_cusum_recursion_and_reset() -> None:
    counts = [4.0] * 10 + [12.0, 12.0, 4.0]
    result = aberration.poisson_cusum(counts, baseline_days=5, guard_days=0, shift=1.0, h=4.0)
    mu0, mu1 = 4.0, 6.0
    k = (mu1 - mu0) / math.log(mu1 / mu0)
    assert result.statistic[9] == 0.0  # in control: counts below k never accumulate
    assert result.statistic[10] == pytest.approx(12 - k)
    assert result.alarm[10]
    # After an alarm the sum restarts; day 11's baseline now holds day 10's 12 cases.
    mu0_11 = (4 * 4 + 12) / 5
    mu1_11 = mu0_11 + math.sqrt(mu0_11)
    k11 = (mu1_11 - mu0_11) / math.log(mu1_11 / mu0_11)
    assert result.statistic[11] == pytest.approx(12 - k11)


def test_seasonal_glm_recovers_weekly_mean_and_rarely_alarms_on_null() -> None:
    rng = np.random.default_rng(9)
    days = np.arange(400)
    mu = 20 + 8 * np.sin(2 * np.pi * days / 7)
    counts = rng.poisson(mu)
    result = aberration.seasonal_glm(counts, alpha=0.01)
    valid = ~np.isnan(result.expected)
    rel_err = np.abs(result.expected[valid] - mu[valid]) / mu[valid]
    assert np.median(rel_err) < 0.1
    assert result.alarm[valid].mean() < 0.04


def test_bad_inputs_raise() -> None:
    with pytest.raises(ValueError):
        aberration.ears_c1([1, -1, 2])
    with pytest.raises(ValueError):
        aberration.seasonal_glm([1.0] * 100, alpha=2.0)
    with pytest.raises(ValueError):
        aberration.poisson_cusum([1.0] * 10, h=0)


def test_seasonal_glm_statistic_matches_a_glm_library() -> None:
    """Today's z on the 2/3-power scale from statsmodels' quasi-Poisson fit:
    the same coefficients, dispersion and standard error of the predicted mean."""
    rng = np.random.default_rng(21)
    days = np.arange(70)
    # Overdispersed (negative binomial) counts, so the dispersion is above its floor of 1.
    mean = 6 * (1 + 0.4 * np.sin(2 * np.pi * days / 7))
    counts = rng.negative_binomial(3, 3 / (3 + mean)).astype(float)
    counts[-1] = 15
    result = aberration.seasonal_glm(counts, baseline_weeks=8, guard_days=7, alpha=0.01)

    t = counts.size - 1
    fit_days = days[t - 63 : t - 7].astype(float)
    design = aberration._design(fit_days, float(t))
    fit = sm.GLM(counts[t - 63 : t - 7], design, family=sm.families.Poisson()).fit(scale="X2")
    assert fit.scale > 1
    today = aberration._design(np.array([float(t)]), float(t))
    predicted = fit.get_prediction(today)
    mu = float(predicted.predicted_mean[0])
    var_mu = float(predicted.se_mean[0]) ** 2  # delta method, scaled by the dispersion
    z = (counts[t] ** (2 / 3) - mu ** (2 / 3)) / (
        (2 / 3) * mu ** (-1 / 3) * np.sqrt(fit.scale * mu + var_mu)
    )
    assert result.expected[t] == pytest.approx(mu, rel=1e-7)
    assert result.statistic[t] == pytest.approx(z, rel=1e-6)


@pytest.mark.parametrize("daily_mean", [2.0, 5.0])
def test_seasonal_glm_false_alarms_match_its_level_on_small_counts(daily_mean: float) -> None:
    """Under the null, the share of alarm days is alpha within a 99.9 % binomial
    interval; comparing the raw count with mu + z sqrt(phi mu), without the fitted
    mean's uncertainty, alarmed at several times alpha on such series."""
    rng = np.random.default_rng(5)
    alpha = 0.01
    alarms = days = 0
    weekday = np.arange(126) % 7
    for _ in range(60):
        counts = rng.poisson(daily_mean * (1 + 0.3 * np.sin(2 * np.pi * weekday / 7)))
        result = aberration.seasonal_glm(counts, alpha=alpha)
        valid = ~np.isnan(result.statistic)
        alarms += int(result.alarm[valid].sum())
        days += int(valid.sum())
    low, high = stats.binom.interval(0.999, days, alpha)
    assert low <= alarms <= high, (alarms, days, low, high)
