"""Conditional permutation inference for local statistics, fast and memory-light.

For location ``i`` with ``k`` neighbours, the null holds ``x_i`` fixed and fills
the neighbour slots with ``k`` values drawn without replacement from the other
``n - 1`` values. As in PySAL's ``crand``, one set of random draws (positions
``0..n-2`` in the "all but i" list) is shared by every location.

Sharing the draws makes the work small. When a location's weights are all
equal (binary or row-standardised rows), its permuted lag depends only on the
multiset of values drawn. Position ``r`` in the "all but i" list is value
``x[r]`` if ``r < i`` and ``x[r + 1]`` otherwise, so for one draw, as ``i``
runs over ``0..n-1`` the sum takes only ``k + 1`` values, each on a run of
consecutive locations. Counting how many permutations reach the observed lag
is then ``permutations x n`` comparisons, not ``permutations x n x k`` gathers.
Rows with unequal weights fall back to explicit gathers in bounded blocks.

Every statistic here is monotone in its neighbour lag, so the counts of
permuted lags at or above / at or below the observed lag give its pseudo
p-values. Ties count as extreme on both sides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import sparse

from pingan.analytics._arrays import BoolArray, FloatArray, IntArray

Alternative = Literal["directed", "directed-pysal", "two-sided", "greater", "less"]
ALTERNATIVES: tuple[Alternative, ...] = (
    "directed",
    "directed-pysal",
    "two-sided",
    "greater",
    "less",
)
DEFAULT_PERMUTATIONS = 999
# Working memory for one block of permuted lags (the rest is O(n)); blocks that
# fit in cache beat big ones.
DEFAULT_BLOCK_BYTES = 8 * 1024 * 1024
# Rows per block stay under 256 so per-block counts fit in uint8 (fast sums).
_MAX_BLOCK_ROWS = 255


@dataclass(frozen=True)
class LagExtremes:
    """Per location: how many permuted lags were >= and <= the observed lag."""

    at_or_above: IntArray
    at_or_below: IntArray
    permutations: int
    testable: BoolArray  # False for islands (no neighbours): nothing to permute


def make_rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A numpy Generator from a seed (or pass one through)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def draw_positions(
    rng: np.random.Generator, permutations: int, k: int, population: int
) -> IntArray:
    """``permutations`` rows of ``k`` distinct positions in ``0..population-1``, random order."""
    if k > population:
        raise ValueError(f"cannot draw {k} distinct values from {population}")
    if k == 0:
        return np.empty((permutations, 0), dtype=np.int64)
    if 4 * k > population or population <= 2048:
        # Few values to draw from: shuffle them all and keep the first k.
        base = np.broadcast_to(np.arange(population, dtype=np.int64), (permutations, population))
        out: IntArray = rng.permuted(base, axis=1)[:, :k]
        return np.ascontiguousarray(out)
    draws = rng.integers(0, population, size=(permutations, k), dtype=np.int64)
    while True:
        ordered = np.sort(draws, axis=1)
        repeated = np.flatnonzero((np.diff(ordered, axis=1) == 0).any(axis=1))
        if repeated.size == 0:
            return draws
        # Redrawing whole rows keeps each row uniform over ordered distinct k-tuples.
        draws[repeated] = rng.integers(0, population, size=(repeated.size, k), dtype=np.int64)


def _working_values(values: FloatArray, k_max: int) -> tuple[npt.NDArray[np.generic], float]:
    """Integer-valued data (counts) are summed exactly in the narrowest integer type
    that holds any lag (less memory traffic); other data in float64 with a tie tolerance.
    """
    largest = float(np.abs(values).max(initial=0.0)) * max(k_max, 1)
    if np.all(values == np.round(values)):
        for dtype in (np.int16, np.int32, np.int64):
            if largest < np.iinfo(dtype).max:
                return values.astype(dtype), 0.0
    # Two sums of the same values in another order differ by a few ulps: treat as ties.
    return values, 64 * np.finfo(np.float64).eps * largest


def _uniform_group(
    x: npt.NDArray[np.generic],
    locations: IntArray,
    observed: npt.NDArray[np.generic],
    positions: IntArray,
    tol: float,
    block_bytes: int,
    above: IntArray,
    below: IntArray,
) -> None:
    """Count extremes for locations whose rows have ``k`` equal weights (unweighted sums)."""
    permutations, k = positions.shape
    ordered = np.sort(positions, axis=1)
    low = x[ordered]  # value at position r when i is after it
    high = x[ordered + 1]  # value at position r when i is at or before it
    pieces = np.zeros((permutations, k + 1), dtype=x.dtype)
    pieces[:, 1:] += np.cumsum(low, axis=1)
    pieces[:, :-1] += np.cumsum(high[:, ::-1], axis=1)[:, ::-1]
    # Piece j covers locations i with ordered[j-1] < i <= ordered[j].
    bounds = np.empty((permutations, k + 2), dtype=np.int64)
    bounds[:, 0] = 0
    bounds[:, 1:-1] = np.searchsorted(locations, ordered, side="right")
    bounds[:, -1] = locations.size
    runs = np.diff(bounds, axis=1)
    hi: npt.NDArray[np.generic] = np.add(observed, tol) if tol else observed
    lo: npt.NDArray[np.generic] = np.subtract(observed, tol) if tol else observed
    step = max(1, min(_MAX_BLOCK_ROWS, block_bytes // max(1, locations.size * x.itemsize)))
    count_above = np.zeros(locations.size, dtype=np.int64)
    count_below = np.zeros(locations.size, dtype=np.int64)
    for start in range(0, permutations, step):
        stop = min(permutations, start + step)
        flat_lags = np.repeat(pieces[start:stop].ravel(), runs[start:stop].ravel())
        lags = flat_lags.reshape(stop - start, locations.size)
        count_above += (lags >= lo).sum(axis=0, dtype=np.uint8)
        count_below += (lags <= hi).sum(axis=0, dtype=np.uint8)
    above[locations] = count_above
    below[locations] = count_below


def _weighted_group(
    x: npt.NDArray[np.generic],
    locations: IntArray,
    row_weights: FloatArray,
    observed: FloatArray,
    positions: IntArray,
    tol: float,
    block_bytes: int,
    above: IntArray,
    below: IntArray,
) -> None:
    """Count extremes for locations with ``k`` unequal weights, gathering in blocks."""
    permutations, k = positions.shape
    xf = x.astype(np.float64, copy=False)
    step = max(1, block_bytes // max(1, permutations * k * 8 * 2))
    for start in range(0, locations.size, step):
        block = locations[start : start + step]
        shifted = positions[None, :, :] + (positions[None, :, :] >= block[:, None, None])
        lags = np.einsum("mpk,mk->mp", xf[shifted], row_weights[start : start + step])
        obs = observed[start : start + step, None]
        above[block] = (lags >= obs - tol).sum(axis=1)
        below[block] = (lags <= obs + tol).sum(axis=1)


def lag_extremes(
    values: npt.ArrayLike,
    neighbours: sparse.csr_array,
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int | np.random.Generator | None = None,
    *,
    block_bytes: int = DEFAULT_BLOCK_BYTES,
) -> LagExtremes:
    """Compare each observed neighbour lag with its conditional permutation distribution.

    ``neighbours`` must have a zero diagonal (a self-weight is fixed under the
    null and does not enter the comparison). The lag of ``i`` is
    ``sum_j w_ij x_j``. Memory stays near ``block_bytes`` plus a few arrays of
    length ``n`` and ``permutations x max_neighbours``.
    """
    x_in = np.asarray(values, dtype=np.float64)
    n = x_in.size
    w = sparse.csr_array(neighbours)
    w.sort_indices()
    if w.shape != (n, n):
        raise ValueError(f"weights shape {w.shape} does not match {n} values")
    if np.any(w.diagonal() != 0):
        raise ValueError("neighbour weights must have a zero diagonal")
    if permutations < 1:
        raise ValueError("permutations must be at least 1")
    counts = np.diff(w.indptr).astype(np.int64)
    k_max = int(counts.max(initial=0))
    rng = make_rng(seed)
    positions = draw_positions(rng, permutations, k_max, n - 1)
    x, tol = _working_values(x_in, k_max)
    above = np.zeros(n, dtype=np.int64)
    below = np.zeros(n, dtype=np.int64)
    row_of = np.repeat(np.arange(n), counts)
    row_max = np.zeros(n)
    row_min = np.full(n, np.inf)
    np.maximum.at(row_max, row_of, w.data)
    np.minimum.at(row_min, row_of, w.data)
    uniform = row_max == row_min
    # Observed unweighted lags in a wide type first, then narrowed like the values.
    wide = x.astype(np.int64 if tol == 0 else np.float64)
    unweighted = sparse.csr_array(
        (np.ones_like(w.data, dtype=wide.dtype), w.indices, w.indptr), shape=w.shape
    )
    for k in np.unique(counts[counts > 0]).tolist():
        draw = positions[:, :k]
        same_k = counts == k
        flat = np.flatnonzero(same_k & uniform)
        if flat.size:
            observed = (unweighted[flat] @ wide).astype(x.dtype)
            _uniform_group(x, flat, observed, draw, tol, block_bytes, above, below)
        flat = np.flatnonzero(same_k & ~uniform)
        if flat.size:
            sub = w[flat]
            row_weights = sub.data.reshape(flat.size, k)
            observed_w = sub @ x_in
            # Weighted sums are floating point even for counts: always allow ulp ties.
            largest = float(np.abs(x_in).max(initial=0.0) * row_weights.sum(axis=1).max())
            wtol = 64 * np.finfo(np.float64).eps * largest
            _weighted_group(x, flat, row_weights, observed_w, draw, wtol, block_bytes, above, below)
    return LagExtremes(above, below, permutations, counts > 0)


def pseudo_p_values(
    at_or_above: npt.ArrayLike,
    at_or_below: npt.ArrayLike,
    permutations: int,
    alternative: Alternative = "directed",
) -> FloatArray:
    """Pseudo p-values ``(1 + #extreme) / (permutations + 1)`` from extreme counts.

    ``directed``: the tail the observed value is in, i.e. the smaller of the
    two counts, with ties counted as extreme in both tails (valid for counts,
    where ties are common). ``directed-pysal``: esda's fold, which counts ties
    only in the upper tail (``#>=``, or ``#<`` when that is smaller); the two
    agree for continuous data. ``two-sided``: twice ``directed``, capped at 1.
    ``greater``/``less``: one named tail.
    """
    ge = np.asarray(at_or_above, dtype=np.float64)
    le = np.asarray(at_or_below, dtype=np.float64)
    denominator = permutations + 1.0
    if alternative == "greater":
        return (ge + 1.0) / denominator
    if alternative == "less":
        return (le + 1.0) / denominator
    if alternative == "directed-pysal":
        out_pysal: FloatArray = (np.minimum(ge, permutations - ge) + 1.0) / denominator
        return out_pysal
    tail = (np.minimum(ge, le) + 1.0) / denominator
    if alternative == "directed":
        return tail
    if alternative == "two-sided":
        out: FloatArray = np.minimum(1.0, 2.0 * tail)
        return out
    raise ValueError(f"alternative must be one of {ALTERNATIVES}, got {alternative!r}")
