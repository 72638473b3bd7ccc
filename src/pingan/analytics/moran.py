"""Global Moran's I and local Moran's I (LISA) with analytical and permutation inference.

Conventions follow PySAL's ``esda`` so that results can be checked against it:
row-standardised weights by default, ``y`` standardised with the population
standard deviation, quadrant codes 1 HH, 2 LH, 3 LL, 4 HL. Formulas and the
one place where this module adds to esda (a consistent local z-score) are in
``docs/analytics.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import sparse, stats

from pingan.analytics._arrays import FloatArray, as_float_vector
from pingan.analytics.permutation import (
    DEFAULT_PERMUTATIONS,
    Alternative,
    lag_extremes,
    make_rng,
    pseudo_p_values,
)
from pingan.analytics.weights import as_weights, binary, row_standardise, without_diagonal

Transform = Literal["row", "binary", "none"]
QUADRANT_NAMES: dict[int, str] = {1: "HH", 2: "LH", 3: "LL", 4: "HL"}
_PERMUTATION_BLOCK_BYTES = 16 * 1024 * 1024


def _transformed(w: object, n: int, transform: Transform) -> sparse.csr_array:
    matrix = as_weights(w, n)
    if transform == "row":
        return row_standardise(matrix)
    if transform == "binary":
        return binary(matrix)
    if transform == "none":
        return matrix
    raise ValueError(f"transform must be 'row', 'binary' or 'none', got {transform!r}")


@dataclass(frozen=True)
class GlobalMoran:
    """Moran's I with moments under normality and under randomisation."""

    statistic: float  # Moran's I
    expected: float
    variance_normal: float
    variance_random: float
    z_normal: float
    z_random: float
    p_normal: float  # two-sided; halve for esda's one-tailed p_norm
    p_random: float  # two-sided
    p_sim: float | None  # pseudo p-value from total permutations (directed, as esda)
    permutations: int


def _two_sided(z: float) -> float:
    return float(2.0 * stats.norm.sf(abs(z))) if np.isfinite(z) else float("nan")


def moran(
    values: npt.ArrayLike,
    w: object,
    *,
    transform: Transform = "row",
    permutations: int = 0,
    seed: int | np.random.Generator | None = None,
) -> GlobalMoran:
    """Global Moran's I of ``values`` on weights ``w`` (Cliff & Ord moments)."""
    y = as_float_vector(values, "values")
    n = y.size
    if n < 4:
        raise ValueError("Moran's I needs at least four observations")
    weights = _transformed(w, n, transform)
    z = y - y.mean()
    z2 = float(z @ z)
    if z2 == 0:
        raise ValueError("all values are equal: Moran's I is undefined")
    s0 = float(weights.sum())
    if s0 == 0:
        raise ValueError("the weights have no neighbours")
    sym = weights + weights.T
    s1 = 0.5 * float(sym.multiply(sym).sum())
    margins = np.asarray(weights.sum(axis=1)).ravel() + np.asarray(weights.sum(axis=0)).ravel()
    s2 = float(margins @ margins)
    stat = n / s0 * float(z @ (weights @ z)) / z2
    expected = -1.0 / (n - 1)
    var_normal = (n * n * s1 - n * s2 + 3 * s0 * s0) / ((n - 1) * (n + 1) * s0 * s0)
    var_normal -= expected * expected
    kurtosis = float(np.sum(z**4) / n) / (z2 / n) ** 2
    a = n * ((n * n - 3 * n + 3) * s1 - n * s2 + 3 * s0 * s0)
    b = kurtosis * ((n * n - n) * s1 - 2 * n * s2 + 6 * s0 * s0)
    var_random = (a - b) / ((n - 1) * (n - 2) * (n - 3) * s0 * s0) - expected * expected
    z_normal = (stat - expected) / np.sqrt(var_normal)
    z_random = (stat - expected) / np.sqrt(var_random) if var_random > 0 else float("nan")
    p_sim = None
    if permutations > 0:
        sims = _permuted_global(z, weights, permutations, make_rng(seed)) * (n / s0 / z2)
        tail = min(int(np.sum(sims >= stat)), int(np.sum(sims <= stat)))
        p_sim = (tail + 1.0) / (permutations + 1.0)
    return GlobalMoran(
        statistic=stat,
        expected=expected,
        variance_normal=var_normal,
        variance_random=var_random,
        z_normal=float(z_normal),
        z_random=float(z_random),
        p_normal=_two_sided(float(z_normal)),
        p_random=_two_sided(float(z_random)),
        p_sim=p_sim,
        permutations=permutations,
    )


def _permuted_global(
    z: FloatArray, weights: sparse.csr_array, permutations: int, rng: np.random.Generator
) -> FloatArray:
    """``z' W z`` for random permutations of ``z``, a block of permutations at a time."""
    n = z.size
    out = np.empty(permutations)
    step = max(1, _PERMUTATION_BLOCK_BYTES // (8 * n))
    for start in range(0, permutations, step):
        stop = min(permutations, start + step)
        shuffled = rng.permuted(np.broadcast_to(z, (stop - start, n)), axis=1)
        lagged = (weights @ shuffled.T).T
        out[start:stop] = np.einsum("pn,pn->p", shuffled, lagged)
    return out


@dataclass(frozen=True)
class LocalMoran:
    """Local Moran's I per location, its quadrant, moments and pseudo p-values.

    ``expected``/``variance`` are esda's ``EI``/``VI`` (total randomisation) and
    ``expected_conditional``/``variance_conditional`` its ``EIc``/``VIc``; all
    four are moments of ``z_i * lag_i`` (Anselin's scaling), which is
    ``n / (n - 1)`` times ``statistic``. ``z`` applies them consistently.
    """

    statistic: FloatArray
    quadrant: npt.NDArray[np.int8]
    expected: FloatArray
    variance: FloatArray
    expected_conditional: FloatArray
    variance_conditional: FloatArray
    z: FloatArray
    p_sim: FloatArray | None  # NaN for islands
    permutations: int

    def clusters(self, alpha: float = 0.05) -> npt.NDArray[np.int8]:
        """Quadrant code where ``p_sim < alpha``, else 0."""
        if self.p_sim is None:
            raise ValueError("no permutation p-values: run with permutations > 0")
        significant = np.nan_to_num(self.p_sim, nan=1.0) < alpha
        out: npt.NDArray[np.int8] = np.where(significant, self.quadrant, 0).astype(np.int8)
        return out


def local_moran(
    values: npt.ArrayLike,
    w: object,
    *,
    transform: Transform = "row",
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int | np.random.Generator | None = None,
    alternative: Alternative = "directed",
) -> LocalMoran:
    """Local Moran's I: ``I_i = (n - 1) z_i lag_i / sum z²`` with ``z`` standardised ``y``."""
    y = as_float_vector(values, "values")
    n = y.size
    if n < 4:
        raise ValueError("local Moran needs at least four observations")
    weights = _transformed(w, n, transform)
    sd = float(y.std())
    if sd == 0:
        raise ValueError("all values are equal: local Moran is undefined")
    z = (y - y.mean()) / sd
    lag = weights @ z
    statistic = (n - 1) * z * lag / float(z @ z)
    quadrant = np.where(z > 0, np.where(lag > 0, 1, 4), np.where(lag > 0, 2, 3)).astype(np.int8)
    m2 = float(z @ z) / n
    wi = np.asarray(weights.sum(axis=1)).ravel()
    wi2 = np.asarray(weights.multiply(weights).sum(axis=1)).ravel()
    b2 = float(np.sum(z**4) / n) / m2**2
    n1 = n - 1.0
    expected = -wi / n1
    variance = wi2 * (n - b2) / n1 + (wi**2 - wi2) * (2 * b2 - n) / (n1 * (n - 2)) - expected**2
    expected_c = -(z**2) * wi / (n1 * m2)
    variance_c = (z / m2) ** 2 * (n / (n - 2.0)) * (wi2 - wi**2 / n1) * (m2 - z**2 / n1)
    with np.errstate(divide="ignore", invalid="ignore"):
        z_local = (statistic * n / n1 - expected) / np.sqrt(variance)
    z_local = np.where(np.isfinite(z_local), z_local, np.nan)
    p_sim = None
    if permutations > 0:
        extremes = lag_extremes(y, without_diagonal(weights), permutations, seed)
        # I_i rises with the lag when z_i > 0, falls when z_i < 0, and is flat at 0.
        up = np.where(z > 0, extremes.at_or_above, extremes.at_or_below)
        down = np.where(z > 0, extremes.at_or_below, extremes.at_or_above)
        flat = z == 0
        up = np.where(flat, permutations, up)
        down = np.where(flat, permutations, down)
        p_sim = pseudo_p_values(up, down, permutations, alternative)
        p_sim = np.where(extremes.testable, p_sim, np.nan)
    return LocalMoran(
        statistic=statistic,
        quadrant=quadrant,
        expected=expected,
        variance=variance,
        expected_conditional=expected_c,
        variance_conditional=variance_c,
        z=z_local,
        p_sim=p_sim,
        permutations=permutations,
    )
