"""Heat map speed and mass: 1,000,000 points onto a 1000 x 1000 raster, Gaussian, 200 m.

Ours: ``pingan.analytics.heat.kde`` (bin, then two 1-D passes of a discrete
Gaussian cut at 5 sigma and renormalised). Peers in the same run: KDEpy's
``FFTKDE`` on the same 1,000 x 1,000 cell centres, and ``scipy.stats.gaussian_kde``
on a 20,000-point sample evaluated on a 100 x 100 grid, scaled to the full
problem (it is O(points x cells)). All points lie at least 1 km inside the
raster, so any mass missing from a surface is lost by its kernel, not at the edge.

    .venv/bin/python benchmarks/kde.py
    .venv/bin/python benchmarks/kde.py --points 200000 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np
import scipy
from KDEpy import FFTKDE
from scipy.stats import gaussian_kde

from pingan.analytics.binning import GridSpec
from pingan.analytics.heat import kde

SIDE_M = 100_000.0
CELL_M = 100.0
BANDWIDTH_M = 200.0


def city_points(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Incidents in 40 clusters of varied spread plus a uniform background."""
    rng = np.random.default_rng(seed)
    n_clustered = int(n * 0.7)
    centres = rng.uniform(10_000, 90_000, (40, 2))
    spreads = rng.uniform(300, 3_000, 40)
    which = rng.integers(0, 40, n_clustered)
    clustered = centres[which] + rng.normal(0, 1, (n_clustered, 2)) * spreads[which, None]
    background = rng.uniform(0, SIDE_M, (n - n_clustered, 2))
    pts = np.concatenate([clustered, background])
    pts = np.clip(pts, 1_000, SIDE_M - 1_000)  # keep 5 sigma of kernel on the raster
    return pts[:, 0], pts[:, 1]


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, float, object]:
    """(first call seconds, median of the following calls, last result)."""
    start = time.perf_counter()
    result = fn()
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return first, statistics.median(times) if times else first, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--sample", type=int, default=20_000)
    args = parser.parse_args()

    x, y = city_points(args.points, seed=1)
    grid = GridSpec.from_extent(0, 0, SIDE_M, SIDE_M, CELL_M)
    cell_area_m2 = CELL_M * CELL_M
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"{os.cpu_count()} CPUs"
    )
    print(
        f"{args.points:,} points, {grid.nx} x {grid.ny} raster of {CELL_M:.0f} m cells, "
        f"Gaussian sigma {BANDWIDTH_M:.0f} m"
    )

    first, ours_s, surface = timed(lambda: kde(x, y, grid, bandwidth=BANDWIDTH_M), args.repeats)
    assert hasattr(surface, "density")
    ours_mass = surface.weight_on_raster / surface.total_weight  # type: ignore[attr-defined]
    ours_density_m2 = surface.density / 1e6  # type: ignore[attr-defined]

    _, fft_s, fft_surface = timed(
        lambda: kde(x, y, grid, bandwidth=BANDWIDTH_M, method="fft"), args.repeats
    )
    fft_mass = fft_surface.weight_on_raster / fft_surface.total_weight  # type: ignore[attr-defined]

    # KDEpy wants grid points sorted by x, then y.
    gx, gy = np.meshgrid(grid.column_centres(), grid.row_centres()[::-1], indexing="ij")
    grid_points = np.column_stack([gx.ravel(), gy.ravel()])
    data = np.column_stack([x, y])

    def kdepy() -> np.ndarray:
        values: np.ndarray = (
            FFTKDE(kernel="gaussian", bw=BANDWIDTH_M).fit(data).evaluate(grid_points)
        )
        return values

    _, kdepy_s, kdepy_values = timed(kdepy, max(1, args.repeats // 2))
    assert isinstance(kdepy_values, np.ndarray)
    # KDEpy returns a probability density (integral 1); scale to points per m², north-up.
    kdepy_density_m2 = kdepy_values.reshape(grid.nx, grid.ny).T[::-1] * args.points
    kdepy_mass = float(kdepy_density_m2.sum() * cell_area_m2) / args.points

    rng = np.random.default_rng(2)
    pick = rng.choice(args.points, args.sample, replace=False)
    sample = np.vstack([x[pick], y[pick]])
    spread = float(np.sqrt((sample[0].var() + sample[1].var()) / 2))
    coarse = np.linspace(0, SIDE_M, 100)
    cx, cy = np.meshgrid(coarse, coarse)
    targets = np.vstack([cx.ravel(), cy.ravel()])

    def scipy_kde() -> np.ndarray:
        values: np.ndarray = gaussian_kde(sample, bw_method=BANDWIDTH_M / spread)(targets)
        return values

    _, scipy_s, _ = timed(scipy_kde, 1)
    scale = (args.points / args.sample) * (grid.nx * grid.ny / targets.shape[1])
    scipy_full_s = scipy_s * scale

    peak = ours_density_m2 > 0.1 * ours_density_m2.max()
    agreement = np.corrcoef(ours_density_m2.ravel(), kdepy_density_m2.ravel())[0, 1]
    median_ratio = float(np.median(kdepy_density_m2[peak] / ours_density_m2[peak]))

    print()
    print(f"{'method':<46}{'seconds':>12}{'mass kept':>12}")
    print(
        f"{'pingan kde (median of ' + str(args.repeats) + ')':<46}{ours_s:>12.3f}{ours_mass:>12.6f}"
    )
    print(f"{'pingan kde, first call':<46}{first:>12.3f}")
    print(f"{'pingan kde, 2-D FFT instead of 1-D passes':<46}{fft_s:>12.3f}{fft_mass:>12.6f}")
    print(f"{'KDEpy FFTKDE':<46}{kdepy_s:>12.3f}{kdepy_mass:>12.6f}")
    print(f"{f'scipy gaussian_kde, {args.sample:,} x 10,000 cells':<46}{scipy_s:>12.3f}")
    print(
        f"{'scipy gaussian_kde, scaled to the full problem':<46}{scipy_full_s:>12.0f}"
        f"  (= {scipy_full_s / 3600:.1f} h)"
    )
    print()
    print(
        f"KDEpy / pingan time: {kdepy_s / ours_s:.1f} x; "
        f"scipy (scaled) / pingan: {scipy_full_s / ours_s:,.0f} x"
    )
    print(
        f"surfaces: correlation {agreement:.5f}; KDEpy/pingan density in cells above 10 % "
        f"of the peak, median {median_ratio:.4f}"
    )


if __name__ == "__main__":
    main()
