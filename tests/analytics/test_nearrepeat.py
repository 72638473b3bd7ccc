"""Knox near-repeat test: exact pair tables, a planted pattern and a null pattern."""

from __future__ import annotations

import numpy as np
import pytest

from pingan.analytics.nearrepeat import knox_test


def test_observed_table_counts_pairs_by_band() -> None:
    # Pairs: (0,1) 50 m apart 2 days; (0,2) 500 m, 20 days; (1,2) ~450 m, 18 days.
    x = [0.0, 50.0, 500.0]
    y = [0.0, 0.0, 0.0]
    day = [0, 2, 20]
    result = knox_test(
        x, y, day, spatial_edges=[0, 100, 1000], temporal_edges=[0, 7, 30], permutations=9
    )
    assert result.observed.tolist() == [[1, 0], [0, 2]]
    assert result.observed.sum() == result.expected.sum()  # every pair stays in a spatial band


def test_pairs_outside_bands_are_not_counted() -> None:
    result = knox_test(
        [0, 10, 5000],
        [0, 0, 0],
        [0, 1, 1],
        spatial_edges=[0, 100],
        temporal_edges=[0, 7],
        permutations=5,
    )
    assert result.observed.tolist() == [[1]]


def _burglaries(rng: np.random.Generator, near_repeats: bool) -> tuple[np.ndarray, ...]:
    n = 300
    x = rng.uniform(0, 5000, n)
    y = rng.uniform(0, 5000, n)
    day = rng.integers(0, 365, n).astype(float)
    if near_repeats:
        # Each of 100 follow-ups lands within 100 m and 1-7 days of an earlier event.
        src = rng.integers(0, n, 100)
        x = np.concatenate((x, x[src] + rng.uniform(-70, 70, 100)))
        y = np.concatenate((y, y[src] + rng.uniform(-70, 70, 100)))
        day = np.concatenate((day, day[src] + rng.integers(1, 8, 100)))
    return x, y, day


def test_planted_near_repeat_pattern_is_found() -> None:
    x, y, day = _burglaries(np.random.default_rng(1), near_repeats=True)
    result = knox_test(
        x,
        y,
        day,
        spatial_edges=[0, 100, 200, 400],
        temporal_edges=[0, 8, 15, 30],
        permutations=199,
        seed=3,
    )
    assert result.ratio[0, 0] > 3
    assert result.p_value[0, 0] == pytest.approx(1 / 200)
    # Far from the planted band (200-400 m, 15-30 days) there is nothing special.
    assert result.p_value[2, 2] > 0.01


def test_null_pattern_has_ratios_near_one_and_uniform_ish_p() -> None:
    p_values = []
    for seed in range(20):
        x, y, day = _burglaries(np.random.default_rng(100 + seed), near_repeats=False)
        result = knox_test(
            x,
            y,
            day,
            spatial_edges=[0, 300, 600],
            temporal_edges=[0, 14, 28],
            permutations=99,
            seed=seed,
        )
        p_values.extend(result.p_value.ravel().tolist())
    p = np.array(p_values)
    assert np.mean(p <= 0.05) < 0.15
    assert 0.35 < np.mean(p) < 0.65


def test_same_seed_same_result_and_bad_edges_raise() -> None:
    x, y, day = _burglaries(np.random.default_rng(5), near_repeats=False)
    kwargs = {"spatial_edges": [0, 200], "temporal_edges": [0, 7], "permutations": 19, "seed": 8}
    a = knox_test(x, y, day, **kwargs)  # type: ignore[arg-type]
    b = knox_test(x, y, day, **kwargs)  # type: ignore[arg-type]
    assert np.array_equal(a.p_value, b.p_value) and np.array_equal(a.expected, b.expected)
    with pytest.raises(ValueError):
        knox_test(x, y, day, spatial_edges=[100, 50], temporal_edges=[0, 7])
    with pytest.raises(ValueError):
        knox_test(x[:3], y, day, spatial_edges=[0, 50], temporal_edges=[0, 7])
