"""Space-time permutation scan: exact statistics, inference and detection."""

from __future__ import annotations

import csv
import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from pingan.analytics.scan import lonlat_to_xyz, space_time_permutation_scan


def _brute_force_max(coords, loc, day, end, n_win, max_fraction, min_cases):
    """Every circle of k nearest locations x every window, straight from the definition."""
    total = len(loc)
    loc_totals = np.bincount(loc, minlength=len(coords))
    best = 0.0
    for centre in range(len(coords)):
        order = np.argsort(np.linalg.norm(coords - coords[centre], axis=1), kind="stable")
        for k in range(1, len(coords) + 1):
            members = order[:k]
            if loc_totals[members].sum() > max_fraction * total:
                break
            inside = np.isin(loc, members)
            for w in range(1, n_win + 1):
                in_window = (day > end - w) & (day <= end)
                n = int(np.sum(inside & in_window))
                mu = loc_totals[members].sum() * in_window.sum() / total
                if n < min_cases or n <= mu:
                    continue
                llr = n * math.log(n / mu)
                if total - n > 0:
                    llr += (total - n) * math.log((total - n) / (total - mu))
                best = max(best, llr)
    return best


def test_hand_computed_statistic() -> None:
    # Location 0: 3 cases on day 1, 1 on day 0; location 1: 2 on day 0;
    # location 2: 1 on each day. C = 8, the 1-day window holds 4 cases.
    coords = np.array([[0.0, 0.0], [1.0, 0.0], [10.0, 0.0]])
    loc = np.array([0, 0, 0, 0, 1, 1, 2, 2])
    day = np.array([1, 1, 1, 0, 0, 0, 0, 1])
    result = space_time_permutation_scan(
        coords, loc, day, max_window_days=1, max_case_fraction=0.5, min_cases=1, replications=0
    )
    top = result.clusters[0]
    # Circle {0}: n = 3, mu = 4 * 4 / 8 = 2.
    assert top.centre == 0
    assert top.locations.tolist() == [0]
    assert (top.window_start_day, top.window_end_day) == (1, 1)
    assert top.observed == 3
    assert top.expected == pytest.approx(2.0)
    assert top.llr == pytest.approx(3 * math.log(1.5) + 5 * math.log(5 / 6), rel=1e-12)
    assert top.p_value == 1.0
    assert len(result.clusters) == 1  # no other circle has n > mu


def test_matches_brute_force_on_random_small_cases() -> None:
    rng = np.random.default_rng(7)
    for _ in range(5):
        coords = rng.uniform(0, 10, size=(9, 2))
        loc = rng.integers(0, 9, size=60)
        day = rng.integers(0, 12, size=60)
        expected = _brute_force_max(coords, loc, day, int(day.max()), 4, 0.5, 2)
        got = space_time_permutation_scan(
            coords, loc, day, max_window_days=4, max_case_fraction=0.5, replications=0
        )
        assert got.clusters[0].llr == pytest.approx(expected, rel=1e-12)


def test_p_value_rule_and_same_result_for_any_worker_count() -> None:
    rng = np.random.default_rng(3)
    coords = rng.uniform(0, 10, size=(40, 2))
    loc = rng.integers(0, 40, size=300)
    day = rng.integers(0, 20, size=300)
    kwargs = {"max_window_days": 5, "replications": 99, "seed": 11, "gumbel": True}
    one = space_time_permutation_scan(coords, loc, day, workers=1, **kwargs)
    three = space_time_permutation_scan(coords, loc, day, workers=3, **kwargs)
    assert np.array_equal(one.replicate_maxima, three.replicate_maxima)
    assert one.replicate_maxima.size == 99
    top = one.clusters[0]
    assert top.p_value == (1 + np.sum(one.replicate_maxima >= top.llr)) / 100
    assert top.gumbel_p_value is not None and 0 < top.gumbel_p_value < 1
    assert top.recurrence_days == pytest.approx(1 / top.gumbel_p_value)
    other_seed = space_time_permutation_scan(coords, loc, day, workers=1, **{**kwargs, "seed": 12})
    assert not np.array_equal(one.replicate_maxima, other_seed.replicate_maxima)


def test_secondary_clusters_do_not_overlap() -> None:
    rng = np.random.default_rng(5)
    coords = rng.uniform(0, 10, size=(60, 2))
    loc = rng.integers(0, 60, size=500)
    day = rng.integers(0, 30, size=500)
    result = space_time_permutation_scan(coords, loc, day, replications=19, seed=1)
    assert len(result.clusters) > 1
    seen: set[int] = set()
    for cluster in result.clusters:
        members = set(cluster.locations.tolist())
        assert not members & seen
        seen |= members
    llrs = [c.llr for c in result.clusters]
    assert llrs == sorted(llrs, reverse=True)


def test_null_p_values_are_uniform() -> None:
    rng = np.random.default_rng(2026)
    coords = rng.uniform(0, 10, size=(25, 2))
    p_values = []
    for run in range(120):
        loc = rng.integers(0, 25, size=120)
        day = rng.integers(0, 15, size=120)
        result = space_time_permutation_scan(
            coords, loc, day, max_window_days=3, replications=99, seed=run
        )
        p_values.append(result.clusters[0].p_value if result.clusters else 1.0)
    # p-values sit on a 1/100 grid, so test tolerantly.
    assert stats.kstest(p_values, "uniform").pvalue > 0.001
    assert 0.0 <= np.mean(np.array(p_values) <= 0.05) <= 0.15


def test_planted_cluster_found_with_location_and_window() -> None:
    rng = np.random.default_rng(42)
    xs, ys = np.meshgrid(np.arange(15.0), np.arange(15.0))
    coords = np.column_stack((xs.ravel(), ys.ravel()))
    loc = rng.integers(0, 225, size=2000)
    day = rng.integers(0, 40, size=2000)
    centre = 7 * 15 + 7
    near = np.flatnonzero(np.linalg.norm(coords - coords[centre], axis=1) <= 1.0)
    planted_loc = rng.choice(near, size=30)
    planted_day = rng.integers(37, 40, size=30)  # the last three days
    result = space_time_permutation_scan(
        coords,
        np.concatenate((loc, planted_loc)),
        np.concatenate((day, planted_day)),
        max_window_days=7,
        max_case_fraction=0.1,
        replications=199,
        seed=4,
    )
    top = result.clusters[0]
    assert top.p_value == pytest.approx(1 / 200)
    assert centre in top.locations
    assert set(top.locations.tolist()) <= set(
        np.flatnonzero(np.linalg.norm(coords - coords[centre], axis=1) <= 2.0).tolist()
    )
    assert (top.window_start_day, top.window_end_day) == (37, 39)
    assert top.observed > 2 * top.expected


def test_prospective_leaves_out_later_days() -> None:
    coords = np.array([[0.0, 0.0], [5.0, 0.0]])
    loc = np.array([0, 0, 0, 1, 1, 1, 0, 0, 0])
    day = np.array([0, 1, 2, 0, 1, 2, 5, 5, 5])
    result = space_time_permutation_scan(coords, loc, day, analysis_day=2, replications=0)
    assert result.total_cases == 6
    assert result.analysis_day == 2


def test_chord_distance_on_satscan_sphere() -> None:
    xyz = lonlat_to_xyz([0.0, 1.0], [0.0, 0.0])
    chord = float(np.linalg.norm(xyz[0] - xyz[1]))
    assert chord == pytest.approx(2 * 6367.0 * math.sin(math.radians(0.5)))


@pytest.mark.parametrize(
    "kwargs",
    [{"max_window_days": 0}, {"max_case_fraction": 1.5}, {"replications": -1}, {"workers": 0}],
)
def test_bad_parameters_raise(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        space_time_permutation_scan(np.zeros((2, 2)), [0, 1], [0, 1], **kwargs)  # type: ignore[arg-type]


def test_case_location_outside_coords_raises() -> None:
    with pytest.raises(ValueError):
        space_time_permutation_scan(np.zeros((2, 2)), [0, 2], [0, 1])


NYC = Path("/work/shared/data/nycfever")


def test_nycfever_primary_cluster_recounts_from_the_data() -> None:
    geo = list(csv.DictReader((NYC / "nycfever_coordinates.csv").read_text().splitlines()))
    zips = [g["zip"] for g in geo]
    index = {z: i for i, z in enumerate(zips)}
    xyz = lonlat_to_xyz([float(g["long"]) for g in geo], [float(g["lat"]) for g in geo])
    rows = list(csv.DictReader((NYC / "nycfever_cases.csv").read_text().splitlines()))
    counts = [int(r["cases"]) for r in rows]
    loc = np.repeat([index[r["zip"]] for r in rows], counts)
    day = np.repeat(
        [(dt.date.fromisoformat(r["date"]) - dt.date(2001, 11, 1)).days for r in rows], counts
    )
    result = space_time_permutation_scan(
        xyz, loc, day, analysis_day=23, max_window_days=7, max_case_fraction=0.5, max_radius=3.0,
        min_cases=2, replications=99, seed=1,
    )  # fmt: skip
    top = result.clusters[0]
    assert result.total_cases == 194
    assert top.radius <= 3.0
    members = top.locations
    in_circle = np.isin(loc, members)
    in_window = (day >= top.window_start_day) & (day <= 23)
    assert top.observed == int(np.sum(in_circle & in_window))
    assert top.expected == pytest.approx(in_circle.sum() * in_window.sum() / 194)
    # Every member lies within the radius of the centre on SaTScan's sphere.
    dist = np.linalg.norm(xyz[members] - xyz[top.centre], axis=1)
    assert np.all(dist <= top.radius + 1e-9)
    assert zips[top.centre] == "11418" and top.window_start_day == 21


def test_null_signals_with_recurrence_over_a_year_match_the_nominal_rate() -> None:
    # 365 independent null "days": a signal with RI >= 365 days should come about once.
    rng = np.random.default_rng(365)
    coords = rng.uniform(0, 10, size=(20, 2))
    exact = gumbel = 0
    for run in range(365):
        loc = rng.integers(0, 20, size=80)
        day = rng.integers(0, 10, size=80)
        result = space_time_permutation_scan(
            coords, loc, day, max_window_days=3, replications=499, seed=run, gumbel=True,
            max_clusters=1,
        )  # fmt: skip
        if result.clusters:
            top = result.clusters[0]
            exact += top.p_value <= 1 / 365
            gumbel += top.recurrence_days >= 365
    # Nominal: 365 x 1/500 = 0.73 (exact) and 1.0 (Gumbel); P(Poisson(1) >= 5) < 0.004.
    assert exact <= 4
    assert gumbel <= 4
