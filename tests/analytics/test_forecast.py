"""Forecasts: the self-exciting model recovers known parameters; PAI and hit rate by hand."""

from __future__ import annotations

import numpy as np
import pytest

from pingan.analytics.forecast import CellGrid, fit_etas, hit_rate, kde, naive, pai


def _simulate(rng: np.random.Generator, mu: np.ndarray, theta: float, omega: float, days: float):
    """A Hawkes process per cell by its branching structure: background then offspring."""
    cells, times = [], []
    for cell, rate in enumerate(mu):
        generation = rng.uniform(0, days, size=rng.poisson(rate * days))
        while len(generation):
            cells.append(np.full(len(generation), cell))
            times.append(generation)
            kids = rng.poisson(theta, size=len(generation))
            generation = np.repeat(generation, kids) + rng.exponential(1 / omega, size=kids.sum())
            generation = generation[generation < days]
    c, t = np.concatenate(cells), np.concatenate(times)
    order = np.argsort(t)
    return c[order].astype(np.int64), t[order]


def test_em_recovers_the_parameters_of_a_simulated_process() -> None:
    rng = np.random.default_rng(5)
    mu = rng.gamma(2.0, 0.05, size=60)  # 0.1 events a day on average per cell
    cells, t = _simulate(rng, mu, theta=0.45, omega=0.25, days=1500)
    fit = fit_etas(cells, t, 60, t_start=0, t_end=1500, max_lag_days=80)
    assert fit.converged
    assert fit.theta == pytest.approx(0.45, abs=0.05)
    assert fit.omega == pytest.approx(0.25, rel=0.2)
    # The background rates follow the truth cell by cell.
    assert np.corrcoef(fit.mu, mu)[0, 1] > 0.9
    assert float(fit.mu.sum()) == pytest.approx(float(mu.sum()), rel=0.12)


def test_no_self_excitement_gives_theta_near_zero() -> None:
    rng = np.random.default_rng(9)
    mu = np.full(40, 0.2)
    cells, t = _simulate(rng, mu, theta=0.0, omega=1.0, days=800)
    fit = fit_etas(cells, t, 40, t_start=0, t_end=800)
    assert fit.theta < 0.05


def test_hit_rate_and_pai_by_hand() -> None:
    forecast = np.array([5.0, 1.0, 0.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5])
    observed = np.array([0, 0, 3, 9, 2, 0])  # cells of the held-out events
    # Top 20 % = 2 cells: 0 and 3 -> 4 of the 6 events.
    assert hit_rate(forecast, observed, 0.2) == pytest.approx(4 / 6)
    assert pai(forecast, observed, 0.2) == pytest.approx((4 / 6) / 0.2)
    # Top 10 % = cell 0 alone: 3 of 6.
    assert pai(forecast, observed, 0.1) == pytest.approx(0.5 / 0.1)


def test_baselines_on_a_tiny_grid() -> None:
    grid = CellGrid(0.0, 0.0, 100.0, 3, 2)
    x = np.array([50.0, 50.0, 250.0, 150.0])
    y = np.array([50.0, 50.0, 150.0, 50.0])
    t = np.array([9.5, 3.0, 9.9, 12.0])
    cells = grid.cell_of(x, y)
    assert cells.tolist() == [0, 0, 5, 1]
    assert naive(cells, t, grid, t0=10.0, horizon=7.0).tolist() == [2, 0, 0, 0, 0, 1]
    smooth = kde(cells, t, grid, t0=10.0, horizon=7.0, weeks=1, bandwidth_m=1.0)
    # A tiny bandwidth leaves the counts in place, scaled by horizon / window = 1.
    assert smooth[0] == pytest.approx(2.0, rel=1e-3) and smooth[5] == pytest.approx(1.0, rel=1e-3)


def test_self_exciting_forecast_beats_naive_on_a_self_exciting_city() -> None:
    rng = np.random.default_rng(11)
    mu = rng.gamma(0.6, 0.02, size=400)  # a few busy cells among many quiet ones
    cells, t = _simulate(rng, mu, theta=0.5, omega=0.2, days=400)
    etas_scores, naive_scores = [], []
    for origin in range(260, 400, 7):
        held = cells[(t >= origin) & (t < origin + 7)]
        if len(held) < 5:
            continue
        fit = fit_etas(cells, t, 400, t_start=origin - 250, t_end=origin)
        etas_scores.append(pai(fit.forecast(cells, t, origin, 7), held, 0.05))
        base = naive(cells, t, CellGrid(0, 0, 1, 400, 1), origin, 7)
        naive_scores.append(pai(base, held, 0.05))
    assert np.mean(etas_scores) > np.mean(naive_scores)
