"""Kernel density heat maps on a regular raster.

Points are binned to cell counts, then the counts are convolved with a discrete
kernel that sums to 1 (see ``kernels``). Convolution is linear (zero padding, no
wrap-around): by FFT for any kernel, or as two 1-D passes for the separable
Gaussian, which gives the same surface faster. Output is weight per km².
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import ndimage, signal

from pingan.analytics._arrays import FloatArray, as_float_matrix, as_float_vector, check_positive
from pingan.analytics.binning import GridSpec, bin_points
from pingan.analytics.kernels import (
    DEFAULT_GAUSSIAN_SUPPORT,
    BandwidthRule,
    KernelName,
    bandwidth_rule,
    check_kernel,
    gaussian_1d,
    kernel_2d,
)

ConvolutionMethod = Literal["auto", "fft", "separable"]


@dataclass(frozen=True)
class HeatSurface:
    """A KDE raster: ``density`` is weight per km², north-up, shape ``grid.shape``."""

    density: FloatArray
    grid: GridSpec
    kernel: KernelName
    bandwidth_m: float
    total_weight: float

    @property
    def weight_on_raster(self) -> float:
        """The surface's integral; equals ``total_weight`` unless mass spilled off the edge."""
        return float(self.density.sum() * self.grid.cell_area_km2)


def smooth_counts(
    counts: npt.ArrayLike,
    cell_size_m: float,
    bandwidth_m: float,
    kernel: KernelName = "gaussian",
    *,
    method: ConvolutionMethod = "auto",
    support: float = DEFAULT_GAUSSIAN_SUPPORT,
) -> FloatArray:
    """Convolve a raster of binned weights with the discrete kernel (weight per cell).

    Zero padding: weight smoothed past the raster edge leaves the raster.
    ``auto`` uses two 1-D passes for the Gaussian and FFT for the quartic kernel.
    """
    grid_counts = as_float_matrix(counts, "counts")
    name = check_kernel(kernel)
    h_m = check_positive(bandwidth_m, "bandwidth")
    cell = check_positive(cell_size_m, "cell_size")
    if method not in ("auto", "fft", "separable"):
        raise ValueError(f"method must be 'auto', 'fft' or 'separable', got {method!r}")
    if method == "separable" and name != "gaussian":
        raise ValueError("only the Gaussian kernel is separable; use method='fft'")
    if name == "gaussian" and method != "fft":
        taps = gaussian_1d(h_m / cell, support)
        out: FloatArray = ndimage.convolve1d(grid_counts, taps, axis=0, mode="constant")
        out = ndimage.convolve1d(out, taps, axis=1, mode="constant")
        return out
    weights = kernel_2d(name, h_m, cell, support)
    smoothed = signal.fftconvolve(grid_counts, weights, mode="same")
    # FFT round-off leaves tiny negative values where the surface is empty.
    out = np.maximum(smoothed, 0.0)
    return out


def kde(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    grid: GridSpec,
    *,
    bandwidth: float | BandwidthRule,
    kernel: KernelName = "gaussian",
    weights: npt.ArrayLike | None = None,
    method: ConvolutionMethod = "auto",
    support: float = DEFAULT_GAUSSIAN_SUPPORT,
) -> HeatSurface:
    """Kernel density of projected points (metres) on ``grid``, in weight per km².

    ``bandwidth`` is metres (Gaussian sigma or quartic radius) or a rule name,
    ``weights`` e.g. severity (non-negative). Points outside the grid still count
    in ``total_weight`` but not on the raster; build the grid with
    ``GridSpec.around_points(margin=kernel radius)`` to keep the full mass.
    """
    name = check_kernel(kernel)
    xs = as_float_vector(x, "x")
    ys = as_float_vector(y, "y")
    if xs.size == 0:
        raise ValueError("no points to smooth")
    w = None if weights is None else as_float_vector(weights, "weights")
    if w is not None and np.any(w < 0):
        raise ValueError("weights must be non-negative")
    if isinstance(bandwidth, str):
        h_m = bandwidth_rule(xs, ys, bandwidth, weights=w, kernel=name)
    else:
        h_m = check_positive(bandwidth, "bandwidth")
    counts = bin_points(xs, ys, grid, w)
    smoothed = smooth_counts(counts, grid.cell_size, h_m, name, method=method, support=support)
    smoothed *= 1.0 / grid.cell_area_km2
    total = float(xs.size if w is None else w.sum())
    return HeatSurface(smoothed, grid, name, h_m, total)


def per_capita(
    surface: HeatSurface,
    population: npt.ArrayLike,
    *,
    per: float = 10_000.0,
    min_residents_per_km2: float = 100.0,
    support: float = DEFAULT_GAUSSIAN_SUPPORT,
) -> FloatArray:
    """Events per ``per`` residents: the heat surface over the smoothed population.

    ``population`` holds residents per cell on the same grid. It is smoothed with
    the same kernel and bandwidth, so the ratio is a kernel-weighted rate (not a
    ratio of one cell's tiny numbers). Cells whose smoothed population is below
    ``min_residents_per_km2`` are NaN, so empty land does not show huge rates.
    """
    pop = as_float_matrix(population, "population")
    if pop.shape != surface.density.shape:
        raise ValueError(f"population shape {pop.shape} differs from {surface.density.shape}")
    if np.any(pop < 0):
        raise ValueError("population must be non-negative")
    check_positive(per, "per")
    if not math.isfinite(min_residents_per_km2) or min_residents_per_km2 < 0:
        raise ValueError("min_residents_per_km2 must be finite and >= 0")
    residents = smooth_counts(
        pop, surface.grid.cell_size, surface.bandwidth_m, surface.kernel, support=support
    )
    residents *= 1.0 / surface.grid.cell_area_km2
    rate = np.full(pop.shape, np.nan)
    ok = residents >= max(min_residents_per_km2, 1e-12)
    rate[ok] = surface.density[ok] / residents[ok] * per
    return rate
