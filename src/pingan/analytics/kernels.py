"""Discrete smoothing kernels on a raster and bandwidth rules.

Bandwidth convention: for the Gaussian kernel the bandwidth is the standard
deviation sigma in metres; for the quartic (biweight) kernel it is the search
radius beyond which the kernel is zero (the usual GIS convention). A quartic
kernel with radius ``2 * sqrt(2) * sigma`` has the same variance as a Gaussian
with standard deviation ``sigma``.

Every discrete kernel is sampled at cell-centre offsets and renormalised to sum
to exactly 1, so a smoothed raster keeps the full weight of the binned points.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import numpy.typing as npt

from pingan.analytics._arrays import FloatArray, as_float_vector, check_positive
from pingan.analytics.binning import check_cell_budget

KernelName = Literal["gaussian", "quartic"]
BandwidthRule = Literal["scott", "silverman"]
KERNELS: tuple[KernelName, ...] = ("gaussian", "quartic")

# Gaussian support in standard deviations; the tail beyond 5 sigma holds 6e-7 of
# the 1-D mass and is folded back in by renormalisation.
DEFAULT_GAUSSIAN_SUPPORT = 5.0
QUARTIC_PER_GAUSSIAN_SIGMA = 2.0 * math.sqrt(2.0)


def check_kernel(kernel: str) -> KernelName:
    """Return ``kernel`` if it names a supported kernel, else raise ValueError."""
    if kernel == "gaussian":
        return "gaussian"
    if kernel == "quartic":
        return "quartic"
    raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")


def kernel_radius_m(kernel: KernelName, bandwidth_m: float, support: float) -> float:
    """How far from a point the kernel reaches, in metres."""
    return bandwidth_m * support if kernel == "gaussian" else bandwidth_m


def gaussian_1d(sigma_cells: float, support: float = DEFAULT_GAUSSIAN_SUPPORT) -> FloatArray:
    """A 1-D Gaussian sampled at integer offsets within ``support`` sigmas, summing to 1."""
    sigma = check_positive(sigma_cells, "sigma_cells")
    reach = check_positive(support, "support")
    radius = max(1, math.ceil(reach * sigma))
    offsets = np.arange(-radius, radius + 1, dtype=np.float64)
    taps = np.exp(-0.5 * (offsets / sigma) ** 2)
    out: FloatArray = taps / taps.sum()
    return out


def kernel_2d(
    kernel: KernelName,
    bandwidth_m: float,
    cell_size_m: float,
    support: float = DEFAULT_GAUSSIAN_SUPPORT,
) -> FloatArray:
    """The 2-D discrete kernel (odd square array, centre at the middle), summing to 1."""
    name = check_kernel(kernel)
    h = check_positive(bandwidth_m, "bandwidth") / check_positive(cell_size_m, "cell_size")
    if name == "gaussian":
        g = gaussian_1d(h, support)
        out: FloatArray = np.outer(g, g)
        return out
    radius = max(0, math.floor(h))
    check_cell_budget(2 * radius + 1, 2 * radius + 1)
    offsets = np.arange(-radius, radius + 1, dtype=np.float64)
    r2 = (offsets[:, None] ** 2 + offsets[None, :] ** 2) / (h * h)
    taps = np.where(r2 < 1.0, (1.0 - r2) ** 2, 0.0)
    if taps.sum() <= 0:  # radius under one cell: all weight stays in the cell
        taps = np.ones((1, 1))
    out = taps / taps.sum()
    return out


def gaussian_density(r2_m2: npt.ArrayLike, bandwidth_m: float) -> FloatArray:
    """The continuous 2-D Gaussian kernel at squared distances ``r2_m2``, per m²."""
    s2 = bandwidth_m * bandwidth_m
    out: FloatArray = np.exp(-0.5 * np.asarray(r2_m2, dtype=np.float64) / s2) / (2 * math.pi * s2)
    return out


def quartic_density(r2_m2: npt.ArrayLike, radius_m: float) -> FloatArray:
    """The continuous 2-D quartic kernel ``3/(pi R²) (1 - r²/R²)²`` per m², zero beyond R."""
    u2 = np.asarray(r2_m2, dtype=np.float64) / (radius_m * radius_m)
    out: FloatArray = np.where(u2 < 1, 3.0 / (math.pi * radius_m**2) * (1 - u2) ** 2, 0.0)
    return out


def _weighted_quantiles(
    values: FloatArray, weights: FloatArray, probs: tuple[float, ...]
) -> FloatArray:
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    cum = (np.cumsum(w) - 0.5 * w) / w.sum()
    out: FloatArray = np.interp(np.asarray(probs), cum, v)
    return out


def bandwidth_rule(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    rule: BandwidthRule,
    *,
    weights: npt.ArrayLike | None = None,
    kernel: KernelName = "gaussian",
) -> float:
    """Bandwidth in metres by a stated rule (see ``docs/analytics.md``).

    ``scott``: ``sigma * n_eff ** (-1/6)`` where ``sigma`` is the root mean of the
    two axis variances; ``silverman``: the same with each axis spread replaced by
    ``min(sd, IQR / 1.349)``, which resists outliers. In two dimensions the
    classic constants of both rules are 1, so they differ only in the spread.
    ``n_eff = (sum w)² / sum w²`` counts weighted points. For the quartic kernel
    the Gaussian sigma is turned into the radius of equal variance.
    """
    xs = as_float_vector(x, "x")
    ys = as_float_vector(y, "y")
    if xs.size != ys.size:
        raise ValueError("x and y differ in length")
    if xs.size < 2:
        raise ValueError("a bandwidth rule needs at least two points")
    w = np.ones_like(xs) if weights is None else as_float_vector(weights, "weights")
    if w.size != xs.size or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("weights must be non-negative, one per point, with a positive sum")
    total = w.sum()
    n_eff = total * total / float(np.sum(w * w))
    spreads = []
    for axis in (xs, ys):
        mean = float(np.sum(w * axis) / total)
        sd = math.sqrt(float(np.sum(w * (axis - mean) ** 2) / total))
        if rule == "silverman":
            q1, q3 = _weighted_quantiles(axis, w, (0.25, 0.75))
            iqr_sd = float(q3 - q1) / 1.349
            sd = min(sd, iqr_sd) if iqr_sd > 0 else sd
        elif rule != "scott":
            raise ValueError(f"rule must be 'scott' or 'silverman', got {rule!r}")
        spreads.append(sd)
    sigma = math.sqrt((spreads[0] ** 2 + spreads[1] ** 2) / 2.0) * n_eff ** (-1.0 / 6.0)
    if not sigma > 0:
        raise ValueError("the points have no spread; give a fixed bandwidth in metres")
    if check_kernel(kernel) == "quartic":
        sigma *= QUARTIC_PER_GAUSSIAN_SIGMA
    return float(sigma)
