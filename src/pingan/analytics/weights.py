"""Spatial weights as square ``scipy.sparse.csr_array`` matrices.

Row ``i`` holds the weights of ``i``'s neighbours, so ``w @ x`` is the spatial
lag. Builders return binary weights without self-neighbours; transform with
``row_standardise`` or set a self-weight where a statistic needs one (Gi*).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt
import shapely
from scipy import sparse
from scipy.spatial import cKDTree

from pingan.analytics._arrays import FloatArray, IntArray, check_positive

ContiguityMethod = Literal["vertex", "intersects"]


def _coords(coords: npt.ArrayLike) -> FloatArray:
    arr = np.asarray(coords, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"coords must have shape (n, 2), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("coords contain NaN or infinite values")
    return arr


def _from_pairs(
    rows: IntArray, cols: IntArray, n: int, values: FloatArray | None = None
) -> sparse.csr_array:
    data = np.ones(rows.size) if values is None else values
    w = sparse.csr_array((data, (rows, cols)), shape=(n, n), dtype=np.float64)
    w.sum_duplicates()
    w.sort_indices()
    return w


def as_weights(w: object, n: int | None = None) -> sparse.csr_array:
    """Validate any square sparse or dense matrix and return it as canonical CSR float64."""
    matrix = sparse.csr_array(w, dtype=np.float64)
    rows, cols = matrix.shape
    if rows != cols:
        raise ValueError(f"weights must be square, got {matrix.shape}")
    if n is not None and rows != n:
        raise ValueError(f"weights are {rows} x {rows} but there are {n} observations")
    if not np.all(np.isfinite(matrix.data)):
        raise ValueError("weights contain NaN or infinite values")
    if np.any(matrix.data < 0):
        raise ValueError("weights must be non-negative")
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    matrix.sort_indices()
    return matrix


def distance_band(coords: npt.ArrayLike, threshold: float) -> sparse.csr_array:
    """Binary weights: ``j`` neighbours ``i`` when their distance is <= ``threshold``."""
    pts = _coords(coords)
    radius = check_positive(threshold, "threshold")
    pairs = cKDTree(pts).query_pairs(radius, output_type="ndarray")
    rows = np.concatenate([pairs[:, 0], pairs[:, 1]]).astype(np.int64)
    cols = np.concatenate([pairs[:, 1], pairs[:, 0]]).astype(np.int64)
    return _from_pairs(rows, cols, pts.shape[0])


def knn(coords: npt.ArrayLike, k: int) -> sparse.csr_array:
    """Binary weights to each point's ``k`` nearest other points (not symmetric)."""
    pts = _coords(coords)
    n = pts.shape[0]
    if not 1 <= k < n:
        raise ValueError(f"k must be between 1 and n - 1 = {n - 1}, got {k}")
    _, idx = cKDTree(pts).query(pts, k=k + 1)
    is_self = idx == np.arange(n)[:, None]
    # With coincident points the point itself may not be returned; drop the farthest.
    is_self[~is_self.any(axis=1), -1] = True
    cols = idx[~is_self].reshape(n, k).astype(np.int64)
    rows = np.repeat(np.arange(n, dtype=np.int64), k)
    return _from_pairs(rows, cols.ravel(), n)


def from_neighbours(
    neighbours: Mapping[int, Iterable[int]] | Sequence[Iterable[int]], n: int | None = None
) -> sparse.csr_array:
    """Binary weights from a neighbour list (``{i: [j, ...]}`` or ``[[j, ...], ...]``)."""
    items = neighbours.items() if isinstance(neighbours, Mapping) else enumerate(neighbours)
    rows_list: list[int] = []
    cols_list: list[int] = []
    for i, js in items:
        for j in js:
            rows_list.append(int(i))
            cols_list.append(int(j))
    size = n if n is not None else len(neighbours)
    rows = np.asarray(rows_list, dtype=np.int64)
    cols = np.asarray(cols_list, dtype=np.int64)
    if rows.size and (rows.min() < 0 or cols.min() < 0 or max(rows.max(), cols.max()) >= size):
        raise ValueError(f"neighbour ids must be within 0..{size - 1}")
    keep = rows != cols
    w = _from_pairs(rows[keep], cols[keep], size)
    w.data[:] = 1.0
    return w


def queen_contiguity(
    geometries: Sequence[shapely.Geometry] | npt.NDArray[np.object_],
    method: ContiguityMethod = "vertex",
) -> sparse.csr_array:
    """Binary queen contiguity between polygons.

    ``vertex`` (as PySAL): neighbours share at least one vertex with identical
    coordinates; exact and fast for a clean coverage. ``intersects``: neighbours'
    geometries intersect at all (boundary contact or overlap); robust where the
    coverage is not noded, slower.
    """
    geoms = np.asarray(geometries, dtype=object)
    n = geoms.size
    if method == "intersects":
        pairs = shapely.STRtree(geoms).query(geoms, predicate="intersects")
        keep = pairs[0] != pairs[1]
        return _from_pairs(pairs[0][keep].astype(np.int64), pairs[1][keep].astype(np.int64), n)
    if method != "vertex":
        raise ValueError(f"method must be 'vertex' or 'intersects', got {method!r}")
    xy, owner = shapely.get_coordinates(geoms, return_index=True)
    _, vertex_id = np.unique(xy, axis=0, return_inverse=True)
    # One row per (vertex, polygon); then join rows that share a vertex.
    members = np.unique(np.column_stack([vertex_id.ravel(), owner]), axis=0)
    vid, poly = members[:, 0], members[:, 1]
    starts = np.searchsorted(vid, vid, side="left")
    sizes = np.searchsorted(vid, vid, side="right") - starts
    shared = sizes > 1
    vid, poly, starts, sizes = vid[shared], poly[shared], starts[shared], sizes[shared]
    left = np.repeat(poly, sizes)
    group_start = np.repeat(starts, sizes)
    within = np.arange(left.size) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    right = members[group_start + within, 1]
    keep = left != right
    w = _from_pairs(left[keep].astype(np.int64), right[keep].astype(np.int64), n)
    w.data[:] = 1.0
    return w


def row_standardise(w: sparse.csr_array) -> sparse.csr_array:
    """Divide each row by its sum so every row sums to 1; rows of islands stay zero."""
    matrix = as_weights(w)
    sums = np.asarray(matrix.sum(axis=1)).ravel()
    scale = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums > 0)
    out = sparse.csr_array(sparse.diags_array(scale) @ matrix)
    out.sort_indices()
    return out


def binary(w: sparse.csr_array) -> sparse.csr_array:
    """Every non-zero weight set to 1."""
    out = as_weights(w).copy()
    out.data[:] = 1.0
    return out


def cardinalities(w: sparse.csr_array) -> IntArray:
    """Number of neighbours of each observation, not counting itself."""
    matrix = as_weights(w)
    counts: IntArray = np.diff(matrix.indptr).astype(np.int64)
    counts -= (matrix.diagonal() != 0).astype(np.int64)
    return counts


def without_diagonal(w: sparse.csr_array) -> sparse.csr_array:
    """The weights with every self-weight removed."""
    coo = sparse.coo_array(w)
    keep = coo.row != coo.col
    rows = coo.row[keep].astype(np.int64)
    cols = coo.col[keep].astype(np.int64)
    return _from_pairs(rows, cols, coo.shape[0], coo.data[keep].astype(np.float64))
