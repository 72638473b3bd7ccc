"""The conditional permutation engine against a plain per-location loop on the same draws."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from scipy import sparse

from pingan.analytics.permutation import (
    draw_positions,
    lag_extremes,
    make_rng,
    pseudo_p_values,
)
from pingan.analytics.weights import distance_band, knn, row_standardise


def _reference(x: np.ndarray, w: sparse.csr_array, permutations: int, seed: int) -> tuple:
    """The definition, one location at a time: draw k of the other n - 1 values."""
    n = x.size
    k_max = int(np.diff(w.indptr).max())
    positions = draw_positions(make_rng(seed), permutations, k_max, n - 1)
    above = np.zeros(n, dtype=int)
    below = np.zeros(n, dtype=int)
    lag = w @ x
    for i in range(n):
        cols = w.indices[w.indptr[i] : w.indptr[i + 1]]
        weights = w.data[w.indptr[i] : w.indptr[i + 1]]
        if cols.size == 0:
            continue
        others = np.delete(x, i)
        sims = others[positions[:, : cols.size]] @ weights
        tol = 1e-9 * max(1.0, abs(lag[i]))
        above[i] = np.sum(sims >= lag[i] - tol)
        below[i] = np.sum(sims <= lag[i] + tol)
    return above, below


def _cases() -> list[tuple[str, np.ndarray, sparse.csr_array]]:
    rng = np.random.default_rng(11)
    pts = rng.uniform(0, 100, (600, 2))
    counts = rng.poisson(2.0, 600).astype(float)
    rates = rng.gamma(2.0, 1.5, 600)
    band = distance_band(pts, 7.0)  # varying numbers of neighbours, some islands
    band_values = rng.uniform(0.2, 2.0, band.nnz)
    weighted = sparse.csr_array((band_values, band.indices, band.indptr), shape=band.shape)
    return [
        ("counts on k-nearest", counts, knn(pts, 8)),
        ("large counts on k-nearest", counts * 100_003, knn(pts, 5)),
        ("rates on row-standardised band", rates, row_standardise(band)),
        ("counts on unequal weights", counts, weighted),
        ("rates on unequal weights", rates, weighted),
    ]


@pytest.mark.parametrize(
    ("name", "x", "w"), _cases(), ids=lambda c: c if isinstance(c, str) else ""
)
def test_engine_equals_the_definition(name: str, x: np.ndarray, w: sparse.csr_array) -> None:
    got = lag_extremes(x, w, 199, seed=5)
    above, below = _reference(x, w, 199, seed=5)
    np.testing.assert_array_equal(got.at_or_above, above)
    np.testing.assert_array_equal(got.at_or_below, below)
    islands = np.diff(w.indptr) == 0
    assert np.array_equal(~got.testable, islands)


def test_block_size_does_not_change_the_counts() -> None:
    _, x, w = _cases()[0]
    big = lag_extremes(x, w, 300, seed=9)
    small = lag_extremes(x, w, 300, seed=9, block_bytes=1000)
    np.testing.assert_array_equal(big.at_or_above, small.at_or_above)
    np.testing.assert_array_equal(big.at_or_below, small.at_or_below)


@pytest.mark.parametrize("population", [7, 50_000])
def test_draws_are_distinct_and_uniform(population: int) -> None:
    k = 5
    draws = draw_positions(np.random.default_rng(1), 20_000, k, population)
    ordered = np.sort(draws, axis=1)
    assert (np.diff(ordered, axis=1) > 0).all()
    assert draws.min() >= 0 and draws.max() < population
    if population == 7:
        # Every position is equally likely in every slot: 20,000 * 5 / 7 hits each.
        hits = np.bincount(draws.ravel(), minlength=7)
        assert np.abs(hits / hits.sum() - 1 / 7).max() < 0.01
        first_slot = np.bincount(draws[:, 0], minlength=7) / 20_000
        assert np.abs(first_slot - 1 / 7).max() < 0.015


def test_pseudo_p_value_alternatives() -> None:
    above = np.array([0, 999, 500, 10])
    below = np.array([999, 0, 500, 990])
    assert pseudo_p_values(above, below, 999, "greater").tolist() == [0.001, 1.0, 0.501, 0.011]
    assert pseudo_p_values(above, below, 999, "less").tolist() == [1.0, 0.001, 0.501, 0.991]
    assert pseudo_p_values(above, below, 999, "directed").tolist() == [0.001, 0.001, 0.501, 0.011]
    assert pseudo_p_values(above, below, 999, "two-sided").tolist() == [0.002, 0.002, 1.0, 0.022]
    with pytest.raises(ValueError, match="alternative"):
        pseudo_p_values(above, below, 999, "both")  # type: ignore[arg-type]


def test_two_sided_p_values_are_uniform_under_the_null() -> None:
    rng = np.random.default_rng(2)
    pts = rng.uniform(0, 100, (3000, 2))
    x = rng.gamma(2.0, 1.0, 3000)
    got = lag_extremes(x, knn(pts, 8), 199, seed=3)
    p = pseudo_p_values(got.at_or_above, got.at_or_below, 199, "two-sided")
    for level in (0.1, 0.5):
        assert np.mean(p <= level) == pytest.approx(level, abs=0.03)


def test_refuses_a_self_weight() -> None:
    with pytest.raises(ValueError, match="diagonal"):
        lag_extremes(np.arange(4.0), sparse.csr_array(np.ones((4, 4))), 9)


def test_memory_stays_within_blocks() -> None:
    rng = np.random.default_rng(4)
    pts = rng.uniform(0, 1000, (50_000, 2))
    w = knn(pts, 8)
    x = rng.gamma(2.0, 1.0, 50_000)
    tracemalloc.start()
    try:
        lag_extremes(x, w, 999, seed=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # 50,000 x 999 float64 lags would be 400 MB; blocks keep it near 8 MB plus O(n).
    assert peak < 40e6
