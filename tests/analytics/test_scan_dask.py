"""The scan's replications on a Dask cluster give the same result as on local threads."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from pingan.analytics import scan_dask
from pingan.analytics.scan import ScanResult, space_time_permutation_scan

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster() -> Iterator[object]:
    # Two worker processes, one thread each: blocks really run in other interpreters.
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as local:
        yield local


def _cases() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(8)
    xs, ys = np.meshgrid(np.arange(12.0), np.arange(12.0))
    coords = np.column_stack((xs.ravel(), ys.ravel()))
    loc = rng.integers(0, 144, size=900)
    day = rng.integers(0, 30, size=900)
    # A planted cluster, so the top cluster's p-value is not 1 and secondaries exist.
    loc = np.concatenate((loc, rng.choice([50, 51, 62, 63], size=25)))
    day = np.concatenate((day, rng.integers(27, 30, size=25)))
    return coords, loc, day


KWARGS = {"max_window_days": 7, "max_case_fraction": 0.2, "replications": 199, "seed": 5}


def _same(a: ScanResult, b: ScanResult) -> None:
    assert np.array_equal(a.replicate_maxima, b.replicate_maxima)
    assert len(a.clusters) == len(b.clusters) > 1
    for x, y in zip(a.clusters, b.clusters, strict=True):
        assert np.array_equal(x.locations, y.locations)
        assert (x.centre, x.window_start_day, x.observed, x.llr, x.p_value) == (
            y.centre,
            y.window_start_day,
            y.observed,
            y.llr,
            y.p_value,
        )
        assert x.gumbel_p_value == y.gumbel_p_value


def test_dask_cluster_gives_the_local_result(cluster: object) -> None:
    coords, loc, day = _cases()
    one = space_time_permutation_scan(coords, loc, day, workers=1, gumbel=True, **KWARGS)  # type: ignore[arg-type]
    threads = space_time_permutation_scan(coords, loc, day, workers=2, gumbel=True, **KWARGS)  # type: ignore[arg-type]
    address = cluster.scheduler_address  # type: ignore[attr-defined]
    by_address = space_time_permutation_scan(
        coords,
        loc,
        day,
        scheduler=address,
        gumbel=True,
        **KWARGS,  # type: ignore[arg-type]
    )
    with distributed.Client(address) as client:
        by_client = space_time_permutation_scan(
            coords,
            loc,
            day,
            scheduler=client,
            gumbel=True,
            **KWARGS,  # type: ignore[arg-type]
        )
        # Both worker processes took blocks: the run really was spread out.
        assert len(client.scheduler_info()["workers"]) == 2
    assert one.clusters[0].p_value == pytest.approx(1 / 200)
    for other in (threads, by_address, by_client):
        _same(one, other)


def test_bad_or_unreachable_scheduler_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    coords, loc, day = _cases()
    with pytest.raises(ValueError, match="tcp://host"):
        space_time_permutation_scan(coords, loc, day, scheduler="  ", replications=9)
    monkeypatch.setattr(scan_dask, "CONNECT_TIMEOUT_S", 1)
    with pytest.raises(RuntimeError, match="cannot reach the Dask scheduler"):
        space_time_permutation_scan(coords, loc, day, scheduler="tcp://127.0.0.1:9", replications=9)
