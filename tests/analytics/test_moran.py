"""Global and local Moran's I against esda, its published values and Columbus crime."""

from __future__ import annotations

import numpy as np
import pytest

from pingan.analytics.moran import QUADRANT_NAMES, local_moran, moran
from pingan.analytics.weights import knn, queen_contiguity, row_standardise

from .peers import columbus, column, esda, gal_weights, libpysal

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_reproduces_esda_published_values() -> None:
    # esda/tests/test_moran.py: St Louis homicide rates and North Carolina SIDS rates.
    stl = moran(column("HR8893", "stl_hom.txt"), gal_weights("stl.gal").sparse)
    assert stl.statistic == pytest.approx(0.24365582621771659, rel=1e-9)
    assert stl.p_normal / 2 == pytest.approx(0.00013573931385468807, rel=1e-9)
    sids = moran(column("SIDR74", "sids2.dbf"), gal_weights("sids2.gal").sparse)
    assert sids.statistic == pytest.approx(0.24772519320480135, rel=1e-9)
    assert sids.p_normal / 2 == pytest.approx(5.7916539074498452e-05, rel=1e-9)
    lattice = libpysal.weights.util.lat2W(3, 3).sparse
    small = moran(np.arange(1, 10), lattice, transform="binary")
    assert small.variance_random == pytest.approx(0.059687500000000004, rel=1e-12)
    assert small.variance_normal == pytest.approx(0.053125000000000006, rel=1e-12)


def test_columbus_crime_with_our_own_queen_weights() -> None:
    polygons, columns = columbus()
    crime = columns["CRIME"].astype(float)
    result = moran(crime, queen_contiguity(polygons), permutations=999, seed=1)
    assert result.statistic == pytest.approx(0.500188, abs=1e-6)  # published (GeoDa, PySAL)
    assert result.p_sim == pytest.approx(0.001)
    peer = esda.Moran(crime, libpysal.weights.Queen.from_iterable(polygons), permutations=0)
    for mine, theirs in [
        (result.statistic, peer.I),
        (result.expected, peer.EI),
        (result.variance_normal, peer.VI_norm),
        (result.variance_random, peer.VI_rand),
        (result.z_normal, peer.z_norm),
        (result.z_random, peer.z_rand),
        (result.p_normal, peer.p_norm),
        (result.p_random, peer.p_rand),
    ]:
        assert mine == pytest.approx(theirs, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("transform", ["row", "binary"])
def test_global_moran_equals_esda_on_knn(transform: str) -> None:
    rng = np.random.default_rng(3)
    pts = rng.uniform(0, 100, (300, 2))
    y = pts[:, 0] * 0.05 + rng.normal(0, 1, 300)
    peer = esda.Moran(
        y, libpysal.weights.KNN(pts, k=5), transformation=transform[0].upper(), permutations=0
    )
    got = moran(y, knn(pts, 5), transform=transform)  # type: ignore[arg-type]
    np.testing.assert_allclose(
        [
            got.statistic,
            got.variance_normal,
            got.variance_random,
            got.z_normal,
            got.z_random,
            got.p_normal,
            got.p_random,
        ],
        [peer.I, peer.VI_norm, peer.VI_rand, peer.z_norm, peer.z_rand, peer.p_norm, peer.p_rand],
        rtol=1e-9,
    )


def test_global_permutation_p_agrees_with_randomisation_z() -> None:
    rng = np.random.default_rng(4)
    pts = rng.uniform(0, 100, (400, 2))
    y = pts[:, 0] * 0.004 + rng.normal(0, 1, 400)  # weak trend: p around a few per cent
    result = moran(y, knn(pts, 6), permutations=4999, seed=2)
    assert result.p_sim is not None
    assert 0.001 < result.p_random / 2 < 0.2
    assert result.p_sim == pytest.approx(result.p_random / 2, abs=0.02)


@pytest.mark.parametrize("dataset", ["desmith", "columbus"])
def test_local_moran_equals_esda(dataset: str) -> None:
    if dataset == "desmith":
        y = column("z", "desmith.txt")
        peer_w = gal_weights("desmith.gal")
        w = peer_w.sparse
    else:
        polygons, columns = columbus()
        y = columns["CRIME"].astype(float)
        peer_w = libpysal.weights.Queen.from_iterable(polygons)
        w = queen_contiguity(polygons)
    peer = esda.Moran_Local(y, peer_w, permutations=0)
    got = local_moran(y, w, permutations=0)
    np.testing.assert_allclose(got.statistic, peer.Is, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(got.quadrant, peer.q)
    np.testing.assert_allclose(got.expected, peer.EI, rtol=1e-9)
    np.testing.assert_allclose(got.variance, peer.VI, rtol=1e-9)
    np.testing.assert_allclose(got.expected_conditional, peer.EIc, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got.variance_conditional, peer.VIc, rtol=1e-9, atol=1e-12)


def test_local_z_uses_moments_that_match_total_permutation() -> None:
    polygons, columns = columbus()
    y = columns["CRIME"].astype(float)
    w = row_standardise(queen_contiguity(polygons))
    got = local_moran(y, w, permutations=0)
    rng = np.random.default_rng(5)
    shuffled = rng.permuted(np.broadcast_to(y, (40_000, y.size)), axis=1)
    z = (shuffled - shuffled.mean(axis=1, keepdims=True)) / shuffled.std(axis=1, keepdims=True)
    n = y.size
    sims = (n - 1) * z * (w @ z.T).T / n  # the statistic as defined, (n-1) z lag / sum z²
    scale = n / (n - 1)  # esda's moments describe z_i * lag_i
    assert np.mean(sims.mean(axis=0) * scale - got.expected) == pytest.approx(0, abs=2e-3)
    assert np.median(sims.var(axis=0) * scale**2 / got.variance) == pytest.approx(1, abs=0.03)


def test_local_permutation_p_values_agree_with_esda() -> None:
    rng = np.random.default_rng(6)
    gx, gy = np.meshgrid(np.arange(25), np.arange(25))
    pts = np.column_stack([gx.ravel(), gy.ravel()]).astype(float)
    y = rng.normal(0, 1, 625) + 2.0 * (np.hypot(pts[:, 0] - 8, pts[:, 1] - 8) < 4)
    peer = esda.Moran_Local(y, libpysal.weights.KNN(pts, k=8), permutations=999, seed=3)
    got = local_moran(y, knn(pts, 8), permutations=999, seed=3)
    assert got.p_sim is not None
    assert np.corrcoef(np.log(got.p_sim), np.log(peer.p_sim))[0, 1] > 0.95
    assert np.mean((got.p_sim < 0.05) == (peer.p_sim < 0.05)) > 0.95
    clusters = got.clusters(0.05)
    centre = 8 * 25 + 8
    assert QUADRANT_NAMES[int(clusters[centre])] == "HH"
    assert set(np.unique(clusters)) <= {0, 1, 2, 3, 4}


def test_refuses_constant_values() -> None:
    w = knn(np.random.default_rng(0).uniform(0, 1, (10, 2)), 3)
    with pytest.raises(ValueError, match="equal"):
        moran(np.ones(10), w)
    with pytest.raises(ValueError, match="equal"):
        local_moran(np.ones(10), w)
