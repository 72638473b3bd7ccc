"""Knox test for near-repeat patterns (spatial bands x temporal bands).

Every pair of events is placed in a spatial band by its distance and a
temporal band by the gap between its days. Under the null, where an event
happened and when are independent, so shuffling the days among events gives
the reference distribution (as the Near Repeat Calculator does). For each
cell of the table: the observed pair count, the mean over permutations
(expected), their ratio, and the Monte Carlo p-value
``(1 + #{permuted >= observed}) / (1 + R)`` for "more pairs than chance".

Bands are half-open ``[edge_k, edge_k+1)``; pairs outside every band are not
counted. Only pairs closer than the last spatial edge are ever formed (a k-d
tree finds them), so long tails of distance cost nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from pingan.analytics._arrays import FloatArray, IntArray, as_float_vector, check_same_length
from pingan.analytics.permutation import DEFAULT_PERMUTATIONS, make_rng


@dataclass(frozen=True)
class KnoxResult:
    spatial_edges: FloatArray
    temporal_edges: FloatArray
    observed: IntArray  # (spatial bands, temporal bands)
    expected: FloatArray
    ratio: FloatArray  # observed / expected; NaN where expected is 0
    p_value: FloatArray
    permutations: int


def _edges(values: npt.ArrayLike, name: str) -> FloatArray:
    # The last edge may be infinite (an open "and beyond" band).
    edges = np.asarray(values, dtype=np.float64)
    bad = edges.ndim != 1 or edges.size < 2 or bool(np.isnan(edges).any())
    if bad or bool(np.any(np.diff(edges) <= 0)) or edges[0] < 0:
        raise ValueError(f"{name} must be at least two increasing non-negative edges")
    return edges


def _close_pairs(x: FloatArray, y: FloatArray, max_distance: float) -> tuple[IntArray, IntArray]:
    pts = np.column_stack((x, y))
    if np.isinf(max_distance):
        i, j = np.triu_indices(x.size, k=1)
        return i.astype(np.int64), j.astype(np.int64)
    pairs = cKDTree(pts).query_pairs(r=max_distance, output_type="ndarray")
    return pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)


def _table(space_band: IntArray, gaps: FloatArray, t_edges: FloatArray, n_s: int) -> IntArray:
    n_t = t_edges.size - 1
    t_band = np.searchsorted(t_edges, gaps, side="right") - 1
    ok = (t_band >= 0) & (t_band < n_t)
    flat = space_band[ok] * n_t + t_band[ok]
    return np.bincount(flat, minlength=n_s * n_t).reshape(n_s, n_t).astype(np.int64)


def knox_test(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    day: npt.ArrayLike,
    *,
    spatial_edges: npt.ArrayLike,
    temporal_edges: npt.ArrayLike,
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int | np.random.Generator | None = 0,
) -> KnoxResult:
    """Knox table of observed/expected pair counts with Monte Carlo p-values (seeded)."""
    xs, ys, ts = as_float_vector(x, "x"), as_float_vector(y, "y"), as_float_vector(day, "day")
    check_same_length("x", xs, "y", ys)
    check_same_length("x", xs, "day", ts)
    s_edges = _edges(spatial_edges, "spatial_edges")
    t_edges = _edges(temporal_edges, "temporal_edges")
    if permutations < 1:
        raise ValueError("permutations must be >= 1")
    i, j = _close_pairs(xs, ys, float(s_edges[-1]))
    dist = np.hypot(xs[i] - xs[j], ys[i] - ys[j])
    n_s = s_edges.size - 1
    s_band = np.searchsorted(s_edges, dist, side="right") - 1
    keep = (s_band >= 0) & (s_band < n_s)
    i, j, s_band = i[keep], j[keep], s_band[keep]

    observed = _table(s_band, np.abs(ts[i] - ts[j]), t_edges, n_s)
    rng = make_rng(seed)
    total = np.zeros(observed.shape)
    at_or_above = np.zeros(observed.shape, dtype=np.int64)
    for _ in range(permutations):
        shuffled = rng.permutation(ts)
        table = _table(s_band, np.abs(shuffled[i] - shuffled[j]), t_edges, n_s)
        total += table
        at_or_above += table >= observed
    expected = total / permutations
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(expected > 0, observed / expected, np.nan)
    return KnoxResult(
        spatial_edges=s_edges,
        temporal_edges=t_edges,
        observed=observed,
        expected=expected,
        ratio=ratio,
        p_value=((1.0 + at_or_above) / (1.0 + permutations)).astype(np.float64),
        permutations=permutations,
    )
