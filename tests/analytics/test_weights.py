from __future__ import annotations

import numpy as np
import pytest
import shapely
from scipy import sparse

from pingan.analytics.weights import (
    as_weights,
    cardinalities,
    distance_band,
    from_neighbours,
    knn,
    queen_contiguity,
    row_standardise,
    without_diagonal,
)

from .peers import columbus, libpysal


def _dense(w: sparse.csr_array) -> np.ndarray:
    return np.asarray(w.toarray())


def test_knn_and_distance_band_equal_libpysal() -> None:
    rng = np.random.default_rng(0)
    pts = rng.uniform(0, 1000, (400, 2))
    mine = knn(pts, 6)
    peer = libpysal.weights.KNN(pts, k=6)
    np.testing.assert_array_equal(_dense(mine), peer.sparse.toarray())
    assert (cardinalities(mine) == 6).all()
    band = distance_band(pts, 90.0)
    peer_band = libpysal.weights.DistanceBand(pts, threshold=90.0, silence_warnings=True)
    np.testing.assert_array_equal(_dense(band), peer_band.sparse.toarray())
    assert (band != band.T).nnz == 0


def test_knn_handles_coincident_points() -> None:
    pts = np.array([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [5.0, 0.0], [9.0, 0.0]])
    w = knn(pts, 2)
    assert np.all(w.diagonal() == 0)
    assert (cardinalities(w) == 2).all()
    with pytest.raises(ValueError, match="k must be"):
        knn(pts, 5)


def test_queen_contiguity_equals_libpysal_on_columbus() -> None:
    polygons, _ = columbus()
    peer = libpysal.weights.Queen.from_iterable(polygons).sparse.toarray()
    np.testing.assert_array_equal(_dense(queen_contiguity(polygons, "vertex")), peer)
    np.testing.assert_array_equal(_dense(queen_contiguity(polygons, "intersects")), peer)


def test_queen_counts_corner_contact() -> None:
    squares = [shapely.box(x, y, x + 1, y + 1) for y in range(3) for x in range(3)]
    w = queen_contiguity(squares)
    assert cardinalities(w).tolist() == [3, 5, 3, 5, 8, 5, 3, 5, 3]


def test_neighbour_lists_and_row_standardisation() -> None:
    w = from_neighbours({0: [1, 2], 1: [0], 2: [0, 2], 3: []})
    assert _dense(w).tolist() == [[0, 1, 1, 0], [1, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]]
    r = row_standardise(w)
    np.testing.assert_allclose(np.asarray(r.sum(axis=1)).ravel(), [1, 1, 1, 0])
    with pytest.raises(ValueError, match="within"):
        from_neighbours([[1], [7]])


def test_weights_validation_and_diagonal_removal() -> None:
    with pytest.raises(ValueError, match="square"):
        as_weights(np.ones((2, 3)))
    with pytest.raises(ValueError, match="non-negative"):
        as_weights(-np.eye(2))
    w = without_diagonal(sparse.csr_array(np.array([[1.0, 2.0], [0.0, 3.0]])))
    assert _dense(w).tolist() == [[0.0, 2.0], [0.0, 0.0]]
