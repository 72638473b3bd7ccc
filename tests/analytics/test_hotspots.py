"""Getis-Ord Gi / Gi* against esda, its published values, and the permutation null."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

from pingan.analytics.hotspots import local_g
from pingan.analytics.significance import benjamini_hochberg, bh_adjusted, hot_cold_classes
from pingan.analytics.weights import distance_band, knn

from .peers import esda, libpysal

# esda's own documentation example (esda.getisord.G_Local docstring).
POINTS = np.array([(10, 10), (20, 10), (40, 10), (15, 20), (30, 20), (30, 30)])
Y = np.array([2, 3, 3.2, 5, 8, 7])
PUBLISHED_ZS = {
    ("B", False): [-1.0136729, -0.04361589, 1.31558703, -0.31412676, 1.15373986, 1.77833941],
    ("B", True): [-1.39727626, -0.28917762, 0.65064964, -0.28917762, 1.23452088, 2.02424331],
    ("R", False): [-0.62074534, -0.01780611, 1.31558703, -0.12824171, 0.28843496, 1.77833941],
    ("R", True): [-0.62488094, -0.09144599, 0.41150696, -0.09144599, 0.24690418, 1.28024388],
}
TRANSFORMS = {"B": "binary", "R": "row"}
pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore:Gi\\* requested:UserWarning"
)


@pytest.mark.parametrize(("transform", "star"), list(PUBLISHED_ZS))
def test_reproduces_esda_published_z_scores(transform: str, star: bool) -> None:
    w = distance_band(POINTS, 15)
    # esda's row-standardised z uses W(N - W) for N S1 - W²: reproduce it with variance="pysal".
    got = local_g(Y, w, star=star, transform=TRANSFORMS[transform], variance="pysal")
    np.testing.assert_allclose(got.z, PUBLISHED_ZS[(transform, star)], atol=5e-9)


def _field(n_side: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Counts on a lattice with one planted hot and one planted cold patch."""
    rng = np.random.default_rng(seed)
    gx, gy = np.meshgrid(np.arange(n_side), np.arange(n_side))
    pts = np.column_stack([gx.ravel(), gy.ravel()]).astype(float)
    rate = np.full(n_side * n_side, 4.0)
    hot = np.hypot(pts[:, 0] - n_side * 0.3, pts[:, 1] - n_side * 0.3) < n_side * 0.12
    cold = np.hypot(pts[:, 0] - n_side * 0.7, pts[:, 1] - n_side * 0.7) < n_side * 0.12
    rate[hot] = 9.0
    rate[cold] = 1.0
    return pts, rng.poisson(rate).astype(float)


@pytest.mark.parametrize("star", [True, False])
@pytest.mark.parametrize("transform", ["B", "R"])
@pytest.mark.parametrize("kind", ["knn", "band"])
def test_statistics_and_z_equal_esda(star: bool, transform: str, kind: str) -> None:
    pts, y = _field(20, 1)
    jitter = np.random.default_rng(2).uniform(-0.2, 0.2, pts.shape)
    pts = pts + jitter
    if kind == "knn":
        peer_w = libpysal.weights.KNN(pts, k=8)
        w = knn(pts, 8)
    else:
        peer_w = libpysal.weights.DistanceBand(pts, threshold=2.3, silence_warnings=True)
        w = distance_band(pts, 2.3)
    peer = esda.G_Local(y, peer_w, transform=transform, star=star, permutations=0)
    got = local_g(y, w, star=star, transform=TRANSFORMS[transform], variance="pysal")
    np.testing.assert_allclose(got.statistic, peer.Gs, rtol=1e-9)
    np.testing.assert_allclose(got.expected, peer.EGs, rtol=1e-9)
    np.testing.assert_allclose(got.variance, peer.VGs, rtol=1e-9)
    np.testing.assert_allclose(got.z, peer.Zs, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got.p_one_sided, peer.p_norm, rtol=1e-9, atol=1e-15)
    if transform == "B":  # with binary weights the exact variance is esda's
        exact = local_g(y, w, star=star, transform="binary")
        np.testing.assert_allclose(exact.z, peer.Zs, rtol=1e-9, atol=1e-12)


def test_exact_z_does_not_depend_on_row_scaling() -> None:
    pts, y = _field(15, 3)
    w = distance_band(pts, 1.5)
    binary = local_g(y, w, transform="binary")
    row = local_g(y, w, transform="row")
    np.testing.assert_allclose(row.z, binary.z, rtol=1e-10)
    assert not np.allclose(row.statistic, binary.statistic)
    # The permutation null agrees with the exact variance, not with esda's row convention.
    sims = _permuted_gi_star(y, w, 4000)
    simulated_sd = sims.std(axis=0)
    exact_sd = np.sqrt(binary.variance) * y.sum()
    assert np.median(simulated_sd / exact_sd) == pytest.approx(1.0, abs=0.05)


def _permuted_gi_star(y: np.ndarray, w: object, rounds: int) -> np.ndarray:
    """Numerators of Gi* under total random permutation of the values."""
    rng = np.random.default_rng(0)
    shuffled = rng.permuted(np.broadcast_to(y, (rounds, y.size)), axis=1)
    return (w @ shuffled.T).T + shuffled  # type: ignore[operator]


@pytest.fixture(scope="module")
def permutation_pair() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pts, y = _field(30, 4)
    peer = esda.G_Local(
        y, libpysal.weights.KNN(pts, k=8), transform="B", star=True, permutations=999, seed=7
    )
    got = local_g(y, knn(pts, 8), permutations=999, seed=7, alternative="directed-pysal")
    assert got.p_sim is not None
    return got.p_sim, peer.p_sim, got.z


def test_permutation_p_values_agree_with_esda(permutation_pair: tuple) -> None:
    mine, peer, z = permutation_pair
    assert np.corrcoef(mine, peer)[0, 1] > 0.95
    assert np.corrcoef(np.log(mine), np.log(peer))[0, 1] > 0.95
    # Same decisions at 5 % for nearly every cell.
    assert np.mean((mine < 0.05) == (peer < 0.05)) > 0.95
    # Permutation and normal-theory inference point the same way.
    assert np.corrcoef(np.log(mine), -np.abs(z))[0, 1] > 0.8


def test_permutation_p_values_under_the_null_match_esda_in_distribution() -> None:
    rng = np.random.default_rng(8)
    pts = rng.uniform(0, 100, (900, 2))
    y = rng.poisson(4.0, 900).astype(float)
    w = knn(pts, 8)
    esda_rule = local_g(y, w, permutations=499, seed=1, alternative="directed-pysal").p_sim
    tie_safe = local_g(y, w, permutations=499, seed=1, alternative="directed").p_sim
    peer = esda.G_Local(
        y, libpysal.weights.KNN(pts, k=8), transform="B", star=True, permutations=499, seed=1
    )
    assert esda_rule is not None and tie_safe is not None
    # esda's fold, reproduced: the same distribution as esda's p_sim.
    assert scipy.stats.ks_2samp(esda_rule, peer.p_sim).pvalue > 0.05
    # Directed p-values pick the nearer tail, so about 2 alpha fall below alpha...
    assert np.mean(esda_rule < 0.05) == pytest.approx(0.10, abs=0.04)
    # ...and esda's fold, counting ties in the upper tail only, is smaller in the lower
    # one. Counting ties on both sides never gives a smaller p-value.
    assert np.all(tie_safe >= esda_rule)
    assert np.mean(tie_safe < 0.05) <= np.mean(esda_rule < 0.05)


def test_both_folds_agree_for_continuous_values() -> None:
    rng = np.random.default_rng(12)
    pts = rng.uniform(0, 100, (500, 2))
    y = rng.gamma(2.0, 1.0, 500)
    w = knn(pts, 8)
    a = local_g(y, w, permutations=199, seed=4, alternative="directed").p_sim
    b = local_g(y, w, permutations=199, seed=4, alternative="directed-pysal").p_sim
    np.testing.assert_array_equal(a, b)


def test_planted_hotspot_is_classified_hot_at_99_percent() -> None:
    pts, y = _field(30, 5)
    result = local_g(y, knn(pts, 8), permutations=999, seed=2)
    centre_hot = int(np.argmin(np.hypot(pts[:, 0] - 9, pts[:, 1] - 9)))
    centre_cold = int(np.argmin(np.hypot(pts[:, 0] - 21, pts[:, 1] - 21)))
    for use in ("normal", "permutation"):
        classes = result.classes(use=use)  # type: ignore[arg-type]
        assert classes[centre_hot] == 3 and classes[centre_cold] == -3
    assert (result.classes(fdr=True) != 0).sum() <= (result.classes() != 0).sum()


def test_fdr_equals_scipy() -> None:
    rng = np.random.default_rng(9)
    p = np.concatenate([rng.uniform(0, 1, 500), rng.uniform(0, 0.002, 50)])
    np.testing.assert_allclose(bh_adjusted(p), scipy.stats.false_discovery_control(p))
    assert (
        benjamini_hochberg(p, 0.05).sum() == (scipy.stats.false_discovery_control(p) <= 0.05).sum()
    )
    with_nan = np.append(p, np.nan)
    assert np.isnan(bh_adjusted(with_nan)[-1])
    np.testing.assert_allclose(bh_adjusted(with_nan)[:-1], bh_adjusted(p))


def test_hot_cold_class_thresholds() -> None:
    classes = hot_cold_classes([1, 1, 1, 1, -1, -1], [0.005, 0.03, 0.08, 0.2, 0.009, 0.06])
    assert classes.tolist() == [3, 2, 1, 0, -3, -1]


def test_bad_inputs_are_refused() -> None:
    w = knn(np.random.default_rng(0).uniform(0, 1, (10, 2)), 3)
    with pytest.raises(ValueError, match="non-negative"):
        local_g(np.arange(10.0) - 5, w)
    with pytest.raises(ValueError, match="transform"):
        local_g(np.arange(10.0), w, transform="double")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="11 observations"):
        local_g(np.arange(11.0), w)
