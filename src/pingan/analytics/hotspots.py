"""Getis-Ord local statistics Gi and Gi* with analytical and permutation inference.

``G_i = sum_j w_ij x_j / sum_{j != i} x_j`` over neighbours ``j != i``;
``G*_i = sum_j w_ij x_j / sum_j x_j`` includes ``i`` itself with a self-weight.
Moments are under random permutation of the values (Ord & Getis 1995); see
``docs/analytics.md`` for the formulas and how they relate to PySAL's ``esda``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import sparse, stats

from pingan.analytics._arrays import FloatArray, as_float_vector
from pingan.analytics.permutation import (
    Alternative,
    lag_extremes,
    pseudo_p_values,
)
from pingan.analytics.significance import hot_cold_classes
from pingan.analytics.weights import as_weights, binary, row_standardise, without_diagonal

Transform = Literal["binary", "row", "none"]
GVariance = Literal["exact", "pysal"]


@dataclass(frozen=True)
class LocalG:
    """Gi or Gi* for every location, with z-scores and p-values."""

    statistic: FloatArray
    expected: FloatArray
    variance: FloatArray
    z: FloatArray
    p_one_sided: FloatArray  # P(Z >= |z|), what esda reports as p_norm
    p_two_sided: FloatArray
    p_sim: FloatArray | None  # conditional permutation pseudo p-values, NaN for islands
    permutations: int
    star: bool

    def classes(
        self, *, use: Literal["normal", "permutation"] = "normal", fdr: bool = False
    ) -> npt.NDArray[np.int8]:
        """Hot (+) / cold (-) confidence classes 1..3 = 90/95/99 %, 0 not significant."""
        if use == "permutation":
            if self.p_sim is None:
                raise ValueError("no permutation p-values: run with permutations > 0")
            return hot_cold_classes(self.z, self.p_sim, fdr=fdr)
        return hot_cold_classes(self.z, self.p_two_sided, fdr=fdr)


def prepare_g_weights(w: object, n: int, *, star: bool, transform: Transform) -> sparse.csr_array:
    """Weights for Gi (zero diagonal) or Gi* (self-weight), then the transform.

    Gi*'s self-weight is the largest weight in the row before the transform (1
    for binary weights, the usual convention; 1 for an island).
    """
    matrix = without_diagonal(as_weights(w, n))
    if star:
        counts = np.diff(matrix.indptr)
        row_max = np.ones(n)
        has = counts > 0
        row_max[has] = np.maximum.reduceat(matrix.data, matrix.indptr[:-1][has])
        matrix = sparse.csr_array(matrix + sparse.diags_array(row_max, format="csr"))
    if transform == "binary":
        return binary(matrix)
    if transform == "row":
        return row_standardise(matrix)
    if transform == "none":
        return as_weights(matrix)
    raise ValueError(f"transform must be 'binary', 'row' or 'none', got {transform!r}")


def local_g(
    values: npt.ArrayLike,
    w: object,
    *,
    star: bool = True,
    transform: Transform = "binary",
    variance: GVariance = "exact",
    permutations: int = 0,
    seed: int | np.random.Generator | None = None,
    alternative: Alternative = "directed",
) -> LocalG:
    """Getis-Ord Gi* (``star=True``) or Gi of non-negative ``values`` on weights ``w``.

    ``w`` is a square sparse matrix of neighbours (its diagonal is ignored and
    replaced as the statistic needs). ``variance="exact"`` uses the permutation
    variance for any weights, ``s² (N S1 - W²) / ((N-1) N² mean²)``;
    ``"pysal"`` reproduces esda, which uses ``W (N - W)`` in place of
    ``N S1 - W²`` (the same for binary weights, not for row-standardised ones).
    ``permutations > 0`` adds conditional permutation pseudo p-values.
    """
    x = as_float_vector(values, "values")
    n = x.size
    if n < 3:
        raise ValueError("local G needs at least three observations")
    if np.any(x < 0):
        raise ValueError("Getis-Ord G needs non-negative values (counts, rates, sums)")
    if variance not in ("exact", "pysal"):
        raise ValueError(f"variance must be 'exact' or 'pysal', got {variance!r}")
    weights = prepare_g_weights(w, n, star=star, transform=transform)
    total = float(x.sum())
    lag = weights @ x
    row_sum = np.asarray(weights.sum(axis=1)).ravel()
    row_sq = np.asarray(weights.multiply(weights).sum(axis=1)).ravel()
    mean_all = total / n
    centred_ss = float(np.sum((x - mean_all) ** 2))
    if star:
        big_n = float(n)
        denominator = np.full(n, total)
        mean = np.full(n, mean_all)
        var = np.full(n, centred_ss / n)
    else:
        big_n = float(n - 1)
        denominator = total - x
        mean = denominator / big_n
        # Leave-one-out sum of squares, without cancellation: SS - n/(n-1) (x_i - mean)².
        var = (centred_ss - n / (n - 1.0) * (x - mean_all) ** 2) / big_n
        var = np.maximum(var, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = lag / denominator
        expected = row_sum / big_n
        spread = big_n * row_sq - row_sum**2 if variance == "exact" else row_sum * (big_n - row_sum)
        g_var = spread / (big_n - 1.0) / big_n**2 * var / mean**2
        z = (statistic - expected) / np.sqrt(g_var)
    z = np.where(np.isfinite(z), z, np.nan)
    p_one = stats.norm.sf(np.abs(z))
    p_sim = None
    if permutations > 0:
        if np.any(denominator <= 0):
            raise ValueError("permutation inference needs a positive sum of the other values")
        extremes = lag_extremes(x, without_diagonal(weights), permutations, seed)
        p_sim = pseudo_p_values(
            extremes.at_or_above, extremes.at_or_below, permutations, alternative
        )
        p_sim = np.where(extremes.testable, p_sim, np.nan)
    return LocalG(
        statistic=statistic,
        expected=expected,
        variance=g_var,
        z=z,
        p_one_sided=p_one,
        p_two_sided=np.minimum(1.0, 2.0 * p_one),
        p_sim=p_sim,
        permutations=permutations,
        star=star,
    )
