"""Mann-Kendall, space-time Gi*, and emerging hotspot classes on hand-built cubes."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
from scipy import sparse

from pingan.analytics.emerging import (
    CATEGORY_NAMES,
    classify,
    cube_gi_star,
    emerging_hotspots,
)
from pingan.analytics.hotspots import local_g
from pingan.analytics.trend import mann_kendall
from pingan.analytics.weights import distance_band

STEPS = 20
BACKGROUND = 10.0


def test_mann_kendall_equals_kendall_tau_against_time() -> None:
    rng = np.random.default_rng(0)
    series = rng.poisson(3, (200, 15)).astype(float)  # plenty of ties
    series[:50] += np.arange(15) * 0.4  # some trends
    got = mann_kendall(series, continuity=False)
    for row, p in zip(series, got.p, strict=True):
        want = scipy.stats.kendalltau(np.arange(15), row, method="asymptotic").pvalue
        assert p == pytest.approx(want, rel=1e-10)


def test_mann_kendall_hand_example_and_flat_series() -> None:
    got = mann_kendall(np.array([[1.0, 2, 3, 4, 5], [2.0, 2, 2, 2, 2], [1.0, 2, 2, 3, 1]]))
    assert got.s.tolist() == [10.0, 0.0, 2.0]
    assert got.variance[0] == pytest.approx(5 * 4 * 15 / 18)
    # Ties: one pair of 1s and one pair of 2s, each t(t-1)(2t+5) = 18.
    assert got.variance[2] == pytest.approx((5 * 4 * 15 - 18 - 18) / 18)
    assert got.z[0] == pytest.approx(9 / np.sqrt(5 * 4 * 15 / 18))
    assert got.z[1] == 0.0 and got.p[1] == 1.0
    assert got.tau[0] == 1.0


def _lattice(side: int) -> tuple[np.ndarray, sparse.csr_array]:
    gx, gy = np.meshgrid(np.arange(side), np.arange(side))
    pts = np.column_stack([gx.ravel(), gy.ravel()]).astype(float)
    return pts, distance_band(pts, 1.5)  # queen neighbours on the lattice


@pytest.mark.parametrize("window", [0, 2])
def test_cube_gi_star_equals_gi_star_on_explicit_space_time_weights(window: int) -> None:
    rng = np.random.default_rng(1)
    _, w = _lattice(6)
    cube = rng.poisson(3, (36, 8)).astype(float)
    got = cube_gi_star(cube, w, time_window=window)
    # Bin (i, t) sits at row i * 8 + t; it neighbours (j, t') for j in N(i) + {i}, t-window..t.
    lags = sparse.csr_array(np.tri(8, 8, 0) - np.tri(8, 8, -window - 1))
    star_space = sparse.csr_array(w + sparse.eye_array(36))
    space_time = sparse.kron(star_space, lags, format="csr")
    want = local_g(cube.ravel(), space_time, star=True, transform="binary")
    np.testing.assert_allclose(got.z.ravel(), want.z, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got.p.ravel(), want.p_two_sided, rtol=1e-9, atol=1e-15)


def _planted_cube() -> tuple[np.ndarray, sparse.csr_array, dict[str, int]]:
    """A 36 x 36 lattice at a constant background with one 3 x 3 block per class."""
    pts, w = _lattice(36)
    t = np.arange(STEPS)
    bg, up, last = BACKGROUND, BACKGROUND + 10, STEPS - 1
    plans = {
        "persistent hot spot": np.full(STEPS, up),
        "intensifying hot spot": bg + 6 + t,
        "diminishing hot spot": bg + 26 - t,
        "historical hot spot": np.where(t < last, up, bg),
        "new hot spot": np.where(t == last, up, bg),
        "consecutive hot spot": np.where(t >= last - 2, up, bg),
        "sporadic hot spot": np.where(np.isin(t, [4, 11, last]), up, bg),
        "oscillating hot spot": np.where(t == 6, 0.0, np.where(t == last, up, bg)),
        "persistent cold spot": np.zeros(STEPS),
        "intensifying cold spot": 6 - 0.3 * t,
        "diminishing cold spot": 0.3 * t,
        "historical cold spot": np.where(t < last, 0.0, bg),
        "new cold spot": np.where(t == last, 0.0, bg),
        "consecutive cold spot": np.where(t >= last - 2, 0.0, bg),
        "sporadic cold spot": np.where(np.isin(t, [4, 11, last]), 0.0, bg),
        "oscillating cold spot": np.where(t == 6, up, np.where(t == last, 0.0, bg)),
    }
    cube = np.full((36 * 36, STEPS), bg)
    centres = {}
    for k, (name, series) in enumerate(plans.items()):
        cx, cy = 3 + 6 * (k % 6), 3 + 6 * (k // 6)
        block = (np.abs(pts[:, 0] - cx) <= 1) & (np.abs(pts[:, 1] - cy) <= 1)
        cube[block] = series
        centres[name] = cy * 36 + cx
    return cube, w, centres


def test_every_class_comes_out_of_a_cube_built_for_it() -> None:
    cube, w, centres = _planted_cube()
    result = emerging_hotspots(cube, w)
    names = result.category_names()
    assert {name: names[cell] for name, cell in centres.items()} == {name: name for name in centres}
    # Far from every block the background shows no pattern.
    assert names[35 * 36 + 35] == "no pattern"
    assert set(CATEGORY_NAMES.values()) <= set(names)


def _flags(pattern: str) -> np.ndarray:
    return np.array([c == "H" for c in pattern])


@pytest.mark.parametrize(
    ("hot", "cold", "trend", "want"),
    [
        ("..........", "..........", 0, "no pattern"),
        (".........H", "..........", 0, "new hot spot"),
        ("........HH", "..........", 0, "consecutive hot spot"),
        ("HHHHHHHHHH", "..........", 1, "intensifying hot spot"),
        ("HHHHHHHHHH", "..........", 0, "persistent hot spot"),
        ("H.HHHHHHHH", "..........", 0, "persistent hot spot"),  # 90 % is enough
        ("HHHHHHHHHH", "..........", -1, "diminishing hot spot"),
        ("..H..H...H", "..........", 0, "sporadic hot spot"),
        ("..H..H..HH", "..........", 0, "sporadic hot spot"),
        (".........H", "..H.......", 0, "oscillating hot spot"),
        ("HHHHHHHHH.", "..........", 0, "historical hot spot"),
        ("HHHHHHHH..", "..........", 0, "no pattern"),  # 80 %, not on now
        ("HHHHHHHHH.", ".........H", 0, "oscillating cold spot"),
        ("..........", "HHHHHHHHHH", -1, "intensifying cold spot"),
        ("..........", "HHHHHHHHHH", 1, "diminishing cold spot"),
        ("..........", ".........H", 0, "new cold spot"),
    ],
)
def test_classification_rules(hot: str, cold: str, trend: int, want: str) -> None:
    z = np.array([float(trend)]) * 3.0
    p = np.array([0.001 if trend else 0.9])
    code = classify(_flags(hot)[None, :], _flags(cold)[None, :], z, p)
    assert CATEGORY_NAMES[int(code[0])] == want


def test_time_window_smooths_over_previous_steps() -> None:
    cube, w, centres = _planted_cube()
    spike = cube_gi_star(cube, w, time_window=0).z[centres["sporadic hot spot"]]
    smooth = cube_gi_star(cube, w, time_window=2).z[centres["sporadic hot spot"]]
    # The step-4 spike lingers for two more steps with the window, not without it.
    assert spike[5] < 1.0 < smooth[5] and smooth[6] > 1.0 and smooth[7] < spike[4]


def test_bad_parameters() -> None:
    _, w = _lattice(3)
    with pytest.raises(ValueError, match="time_window"):
        cube_gi_star(np.ones((9, 4)), w, time_window=4)
    with pytest.raises(ValueError, match="non-negative"):
        cube_gi_star(-np.ones((9, 4)), w)
    with pytest.raises(ValueError, match="three time steps"):
        emerging_hotspots(np.arange(18.0).reshape(9, 2), w)
    with pytest.raises(ValueError, match="both hot and cold"):
        classify(np.ones((1, 3)), np.ones((1, 3)), [0.0], [1.0])
