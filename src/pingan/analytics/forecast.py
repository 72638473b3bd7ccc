"""Next-period hotspot forecasts per grid cell, and how good they are.

Three forecasts of the count in each cell over the next ``horizon`` days,
all from events before the forecast origin ``t0`` (times in days):

* ``naive``: the last ``horizon`` days' count per cell (yesterday's hot cells
  are tomorrow's) — the baseline any method must beat.
* ``kde``: the last ``weeks`` weeks' counts, smoothed by a Gaussian kernel of
  ``bandwidth_m`` (a binned kernel density estimate).
* ``etas``: a self-exciting point process per cell (Mohler et al. 2011,
  "Self-exciting point process modeling of crime", JASA 106; the grid form of
  Mohler 2014): intensity mu_n + sum_j theta * omega * exp(-omega (t - t_j))
  over earlier events j in cell n, fitted by expectation-maximisation.

``hit_rate`` and ``pai`` score a forecast on what then happened: the share of
the held-out events that fall in the top ``area`` share of cells, and that
share divided by the area share (the Predictive Accuracy Index, Chainey,
Tompson and Uhlig 2008).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.ndimage import gaussian_filter

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class CellGrid:
    """Square cells over a bounding box; cell index = row * nx + col."""

    x0: float
    y0: float
    size: float
    nx: int
    ny: int

    @classmethod
    def covering(cls, x: FloatArray, y: FloatArray, size: float) -> CellGrid:
        x0, y0 = float(np.floor(x.min() / size) * size), float(np.floor(y.min() / size) * size)
        nx = int(np.floor((x.max() - x0) / size)) + 1
        ny = int(np.floor((y.max() - y0) / size)) + 1
        return cls(x0, y0, size, nx, ny)

    @property
    def n(self) -> int:
        return self.nx * self.ny

    def cell_of(self, x: FloatArray, y: FloatArray) -> IntArray:
        """Cell index of each point; -1 outside the grid."""
        col = np.floor((x - self.x0) / self.size).astype(np.int64)
        row = np.floor((y - self.y0) / self.size).astype(np.int64)
        inside = (col >= 0) & (col < self.nx) & (row >= 0) & (row < self.ny)
        return np.where(inside, row * self.nx + col, -1)

    def centres(self) -> tuple[FloatArray, FloatArray]:
        rows, cols = np.divmod(np.arange(self.n), self.nx)
        return self.x0 + (cols + 0.5) * self.size, self.y0 + (rows + 0.5) * self.size


def _counts(cells: IntArray, n: int) -> FloatArray:
    keep = cells >= 0
    return np.bincount(cells[keep], minlength=n).astype(np.float64)


def naive(cells: IntArray, t: FloatArray, grid: CellGrid, t0: float, horizon: float) -> FloatArray:
    """Each cell's count over the last ``horizon`` days before ``t0``."""
    recent = (t >= t0 - horizon) & (t < t0)
    return _counts(cells[recent], grid.n)


def kde(
    cells: IntArray,
    t: FloatArray,
    grid: CellGrid,
    t0: float,
    horizon: float,
    *,
    weeks: int = 8,
    bandwidth_m: float = 300.0,
) -> FloatArray:
    """Smoothed recent counts, scaled to the horizon (expected events per cell)."""
    window = 7.0 * weeks
    recent = (t >= t0 - window) & (t < t0)
    surface = _counts(cells[recent], grid.n).reshape(grid.ny, grid.nx)
    smooth = gaussian_filter(surface, sigma=bandwidth_m / grid.size, mode="constant")
    return np.asarray(smooth.ravel() * (horizon / window), dtype=np.float64)


@dataclass(frozen=True)
class Etas:
    """A fitted self-exciting grid model."""

    mu: FloatArray  # background rate per cell, events per day
    theta: float  # expected direct offspring per event (branching ratio)
    omega: float  # decay rate of triggering, per day
    iterations: int
    converged: bool

    def forecast(self, cells: IntArray, t: FloatArray, t0: float, horizon: float) -> FloatArray:
        """Expected events per cell in [t0, t0 + horizon)."""
        past = (t < t0) & (cells >= 0)
        lag = t0 - t[past]
        # Triggering mass each past event still has to give inside the horizon.
        mass = self.theta * (np.exp(-self.omega * lag) - np.exp(-self.omega * (lag + horizon)))
        triggered = np.bincount(cells[past], weights=mass, minlength=len(self.mu))
        return self.mu * horizon + triggered


def fit_etas(
    cells: IntArray,
    t: FloatArray,
    n_cells: int,
    *,
    t_start: float,
    t_end: float,
    max_lag_days: float = 60.0,
    theta0: float = 0.2,
    omega0: float = 0.5,
    max_iter: int = 200,
    tol: float = 1e-6,
) -> Etas:
    """Expectation-maximisation for (mu per cell, theta, omega) on events in [t_start, t_end).

    Pairs are events in the same cell no more than ``max_lag_days`` apart
    (triggering after that is negligible for any plausible omega).
    """
    keep = (cells >= 0) & (t >= t_start) & (t < t_end)
    c, tt = cells[keep], t[keep]
    order = np.lexsort((tt, c))
    c, tt = c[order], tt[order]
    span = t_end - t_start
    # All (child i, parent j) pairs in the same cell with 0 < t_i - t_j <= max_lag.
    child, parent = _pairs(c, tt, max_lag_days)
    lag = tt[child] - tt[parent]
    mu = np.maximum(_counts(c, n_cells) / span * 0.5, 1e-9)
    theta, omega = theta0, omega0
    converged = False
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        trig = theta * omega * np.exp(-omega * lag)
        total = mu[c] + np.bincount(child, weights=trig, minlength=len(c))
        p_background = mu[c] / total
        p_pair = trig / total[child]
        # Compensator: the triggering each event could still give before t_end.
        remaining = 1.0 - np.exp(-omega * (t_end - tt))
        new_mu = np.maximum(np.bincount(c, weights=p_background, minlength=n_cells) / span, 1e-12)
        offspring = float(p_pair.sum())
        new_theta = offspring / max(float(remaining.sum()), 1e-12)
        new_omega = offspring / max(float((p_pair * lag).sum()), 1e-12) if offspring > 0 else omega
        change = abs(new_theta - theta) + abs(new_omega - omega) / max(omega, 1e-9)
        mu, theta, omega = new_mu, min(new_theta, 0.99), new_omega
        if change < tol:
            converged = True
            break
    return Etas(mu=mu, theta=theta, omega=omega, iterations=iterations, converged=converged)


def _pairs(cells: IntArray, t: FloatArray, max_lag: float) -> tuple[IntArray, IntArray]:
    """Pairs (child, parent) in one cell within ``max_lag`` days; input sorted by (cell, t)."""
    children: list[IntArray] = []
    parents: list[IntArray] = []
    n = len(t)
    # Offsets k = 1, 2, ...: compare each event with the one k places before it.
    for k in range(1, n):
        i = np.arange(k, n)
        j = i - k
        near = (cells[i] == cells[j]) & (t[i] - t[j] <= max_lag)
        if not near.any():
            break  # sorted by cell then time: farther offsets only get farther apart
        ok = near & (t[i] > t[j])
        children.append(i[ok])
        parents.append(j[ok])
    if not children:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(children), np.concatenate(parents)


def hit_rate(forecast: FloatArray, observed: IntArray, area: float) -> float:
    """Share of ``observed`` events (their cells) in the top ``area`` share of cells."""
    if len(observed) == 0:
        return float("nan")
    k = max(1, round(area * len(forecast)))
    # Ties broken by cell index so the score is repeatable.
    top = np.lexsort((np.arange(len(forecast)), -forecast))[:k]
    flagged = np.zeros(len(forecast), dtype=bool)
    flagged[top] = True
    inside = observed[observed >= 0]
    return float(flagged[inside].sum() / len(observed))


def pai(forecast: FloatArray, observed: IntArray, area: float) -> float:
    """Predictive Accuracy Index: hit rate divided by the area share flagged."""
    k = max(1, round(area * len(forecast)))
    return hit_rate(forecast, observed, area) / (k / len(forecast))
