from __future__ import annotations

import math

import numpy as np
import pytest

from pingan.analytics.binning import GridSpec, bin_points
from pingan.analytics.heat import kde, per_capita, smooth_counts
from pingan.analytics.kernels import (
    bandwidth_rule,
    gaussian_density,
    kernel_2d,
    quartic_density,
)


def _direct_convolution(counts: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Add the kernel once per occupied cell: the plain definition of the binned KDE."""
    r = kernel.shape[0] // 2
    ny, nx = counts.shape
    out = np.zeros((ny + 2 * r, nx + 2 * r))
    for i, j in zip(*np.nonzero(counts), strict=True):
        out[i : i + 2 * r + 1, j : j + 2 * r + 1] += counts[i, j] * kernel
    return out[r : r + ny, r : r + nx]


def _points(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.normal(300, 40, n // 2), rng.uniform(0, 600, n - n // 2)])
    y = np.concatenate([rng.normal(200, 60, n // 2), rng.uniform(0, 400, n - n // 2)])
    return x, y, rng.uniform(0.5, 3.0, n)


@pytest.mark.parametrize(
    ("kernel", "bandwidth", "method"),
    [
        ("gaussian", 30.0, "separable"),
        ("gaussian", 30.0, "fft"),
        ("gaussian", 7.0, "auto"),
        ("quartic", 55.0, "fft"),
        ("quartic", 23.0, "auto"),
    ],
)
def test_fft_and_separable_equal_direct_summation(
    kernel: str, bandwidth: float, method: str
) -> None:
    x, y, w = _points(800, 1)
    grid = GridSpec.from_extent(0, 0, 600, 400, 10)
    counts = bin_points(x, y, grid, w)
    got = smooth_counts(counts, 10, bandwidth, kernel, method=method)  # type: ignore[arg-type]
    want = _direct_convolution(counts, kernel_2d(kernel, bandwidth, 10))  # type: ignore[arg-type]
    # 1e-6 relative per cell; the absolute floor only covers FFT round-off (1e-16 of the peak)
    # in cells the kernel barely reaches.
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-12 * want.max())


def _exact_density(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, grid: GridSpec, kernel: str, h: float
) -> np.ndarray:
    cx, cy = np.meshgrid(grid.column_centres(), grid.row_centres())
    r2 = (cx[..., None] - x) ** 2 + (cy[..., None] - y) ** 2
    k = gaussian_density(r2, h) if kernel == "gaussian" else quartic_density(r2, h)
    return (k * w).sum(axis=-1) * 1e6  # per km²


@pytest.mark.parametrize(("kernel", "h"), [("gaussian", 25.0), ("quartic", 60.0)])
def test_binned_kde_is_within_the_binning_error_bound_of_exact_kde(kernel: str, h: float) -> None:
    x, y, w = _points(300, 2)
    x, y = x * 0.5, y * 0.5  # keep everything well inside the raster
    cell = 10.0
    grid = GridSpec.from_extent(-200, -200, 500, 400, cell)
    surface = kde(x, y, grid, bandwidth=h, kernel=kernel, weights=w)  # type: ignore[arg-type]
    exact = _exact_density(x, y, w, grid, kernel, h)
    # Moving a point to its cell centre shifts it by at most half the cell diagonal, so
    # |error| <= sum(w) * max|grad K| * delta, plus the discrete kernel's renormalisation
    # and (Gaussian) the tail cut at 5 sigma.
    delta = cell * math.sqrt(2) / 2
    if kernel == "gaussian":
        lipschitz = math.exp(-0.5) / (2 * math.pi * h**3)
        offsets = np.arange(-math.ceil(5 * h / cell), math.ceil(5 * h / cell) + 1) * cell
        tail = math.exp(-12.5) / (2 * math.pi * h * h)
        sampled = gaussian_density(offsets[:, None] ** 2 + offsets[None, :] ** 2, h)
    else:
        lipschitz = 8 / (math.sqrt(3) * math.pi * h**3)
        offsets = np.arange(-math.floor(h / cell), math.floor(h / cell) + 1) * cell
        tail = 0.0
        sampled = quartic_density(offsets[:, None] ** 2 + offsets[None, :] ** 2, h)
    norm = float(sampled.sum() * cell * cell)
    bound = (w.sum() * (lipschitz * delta + tail)) * 1e6 + abs(1 / norm - 1) * surface.density
    error = np.abs(surface.density - exact)
    assert np.all(error <= bound)
    assert error.max() > 0.01 * bound.max()  # the bound is not vacuous


def test_error_against_exact_kde_shrinks_with_the_cell_size() -> None:
    x, y, w = _points(200, 3)
    rms = []
    for cell in (20.0, 10.0, 5.0):
        grid = GridSpec.from_extent(-300, -300, 900, 700, cell)
        surface = kde(x, y, grid, bandwidth=40.0, weights=w)
        error = surface.density - _exact_density(x, y, w, grid, "gaussian", 40)
        rms.append(float(np.sqrt(np.mean(error**2))))
    # Simple binning is first order: the error falls roughly in step with the cell size.
    assert rms[0] > 1.5 * rms[1]
    assert rms[1] > 1.3 * rms[2]


@pytest.mark.parametrize("kernel", ["gaussian", "quartic"])
def test_surface_keeps_the_full_weight_with_a_margin(kernel: str) -> None:
    x, y, w = _points(1000, 4)
    h = 50.0
    margin = 5 * h if kernel == "gaussian" else h
    grid = GridSpec.around_points(x, y, 10.0, margin=margin + 10)
    surface = kde(x, y, grid, bandwidth=h, kernel=kernel, weights=w)  # type: ignore[arg-type]
    assert surface.total_weight == pytest.approx(w.sum())
    assert surface.weight_on_raster == pytest.approx(w.sum(), rel=1e-9)
    # A raster cut at the data's edge loses the mass that spills over it.
    tight = GridSpec.from_extent(x.min(), y.min(), x.max(), y.max(), 10.0)
    assert kde(x, y, tight, bandwidth=h).weight_on_raster < 0.99 * x.size


def test_bandwidth_rules() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(0, 300, 4000)
    y = rng.normal(0, 400, 4000)
    scott = bandwidth_rule(x, y, "scott")
    want = math.sqrt((x.var() + y.var()) / 2) * 4000 ** (-1 / 6)
    assert scott == pytest.approx(want)
    # Outliers inflate the standard deviation, not the interquartile range.
    x_out = np.concatenate([x, [1e6, -1e6]])
    y_out = np.concatenate([y, [0.0, 0.0]])
    assert bandwidth_rule(x_out, y_out, "silverman") < 0.2 * bandwidth_rule(x_out, y_out, "scott")
    quartic = bandwidth_rule(x, y, "scott", kernel="quartic")
    assert quartic == pytest.approx(2 * math.sqrt(2) * scott)
    # Doubling every weight changes nothing; weights on half the points shrink n_eff.
    assert bandwidth_rule(x, y, "scott", weights=np.full(4000, 2.0)) == pytest.approx(scott)
    with pytest.raises(ValueError, match="spread"):
        bandwidth_rule(np.zeros(5), np.zeros(5), "scott")


def test_kde_accepts_a_rule_name() -> None:
    x, y, _ = _points(500, 6)
    grid = GridSpec.around_points(x, y, 10.0, margin=500)
    surface = kde(x, y, grid, bandwidth="scott")
    assert surface.bandwidth_m == pytest.approx(bandwidth_rule(x, y, "scott"))


def test_density_units_are_weight_per_square_km() -> None:
    grid = GridSpec.from_extent(0, 0, 2000, 2000, 100)
    surface = kde([1050.0], [1050.0], grid, bandwidth=1.0)  # narrower than a cell
    assert surface.density.max() == pytest.approx(1 / grid.cell_area_km2)


def test_per_capita_rate_divides_by_smoothed_population() -> None:
    grid = GridSpec.from_extent(0, 0, 3000, 3000, 100)
    population = np.full(grid.shape, 50.0)
    population[:, :10] = 0.0  # the western third is empty land
    rng = np.random.default_rng(7)
    x = rng.uniform(1000, 3000, 20_000)
    y = rng.uniform(0, 3000, 20_000)
    surface = kde(x, y, grid, bandwidth=100.0)
    rate = per_capita(surface, population, per=10_000)
    assert np.isnan(rate[:, :5]).all()
    interior = rate[8:22, 17:27]
    # 20,000 events over 2,000 x 3,000 m with 50 residents per 100 m cell.
    expected = (20_000 / 6.0) / (50 / grid.cell_area_km2) * 10_000
    assert np.nanmean(interior) == pytest.approx(expected, rel=0.03)
    with pytest.raises(ValueError, match="shape"):
        per_capita(surface, population[:-1])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bandwidth": -5.0}, "bandwidth"),
        ({"bandwidth": 0.0}, "bandwidth"),
        ({"bandwidth": 50.0, "kernel": "epanechnikov"}, "kernel"),
        ({"bandwidth": 50.0, "weights": [1.0, -1.0]}, "non-negative"),
        ({"bandwidth": "rule-of-thumb"}, "rule"),
    ],
)
def test_bad_parameters_are_refused(kwargs: dict[str, object], message: str) -> None:
    grid = GridSpec.from_extent(0, 0, 1000, 1000, 10)
    with pytest.raises(ValueError, match=message):
        kde([1.0, 500.0], [1.0, 700.0], grid, **kwargs)  # type: ignore[arg-type]


def test_separable_is_refused_for_the_quartic_kernel() -> None:
    with pytest.raises(ValueError, match="separable"):
        smooth_counts(np.ones((4, 4)), 10, 30, "quartic", method="separable")
