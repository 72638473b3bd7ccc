from __future__ import annotations

import h3
import numpy as np
import pytest

from pingan.analytics.binning import (
    GridSpec,
    bin_h3,
    bin_points,
    bin_space_time,
    bin_times,
    h3_cells,
)


def test_grid_from_extent_covers_it_with_whole_cells() -> None:
    grid = GridSpec.from_extent(100.0, 200.0, 1050.0, 700.0, 100.0)
    assert grid.shape == (5, 10)
    assert grid.x_max == 1100.0 and grid.y_max == 700.0
    assert grid.column_centres()[0] == 150.0
    assert grid.row_centres()[0] == 650.0  # row 0 is the northern edge


def test_grid_refuses_too_many_cells_before_allocating() -> None:
    with pytest.raises(ValueError, match=r"exceeds the limit of 1,000,000 cells"):
        GridSpec.from_extent(0, 0, 1e6, 1e6, 10.0, max_cells=1_000_000)


@pytest.mark.parametrize("size", [0.0, -5.0, float("nan")])
def test_grid_refuses_bad_cell_sizes(size: float) -> None:
    with pytest.raises(ValueError, match="cell_size"):
        GridSpec.from_extent(0, 0, 10, 10, size)


def test_bin_points_matches_histogram2d() -> None:
    rng = np.random.default_rng(3)
    x = rng.uniform(-50, 1050, 5000)
    y = rng.uniform(-50, 550, 5000)
    w = rng.uniform(0, 3, 5000)
    grid = GridSpec.from_extent(0, 0, 1000, 500, 50)
    got = bin_points(x, y, grid, w)
    edges_x = np.linspace(0, 1000, 21)
    edges_y = np.linspace(0, 500, 11)
    want, _, _ = np.histogram2d(y, x, bins=[edges_y, edges_x], weights=w)
    # histogram2d rows run south to north; the raster is north-up.
    np.testing.assert_allclose(got, want[::-1], rtol=1e-12)
    inside = (x >= 0) & (x < 1000) & (y > 0) & (y <= 500)
    assert got.sum() == pytest.approx(w[inside].sum())


def test_cell_of_marks_outside_points() -> None:
    grid = GridSpec(0.0, 0.0, 10.0, 3, 2)
    row, col = grid.cell_of([5, 25, 35, np.nan], [15, 1, 5, 5])
    assert row.tolist() == [0, 1, -1, -1]
    assert col.tolist() == [0, 2, -1, -1]


def test_hours_days_and_iso_weeks() -> None:
    # 2024-01-03 (a Wednesday) 23:30 UTC and 2024-01-08 (Monday) 00:10 UTC.
    times = np.array(["2024-01-03T23:30", "2024-01-08T00:10"], dtype="datetime64[m]")
    weeks = bin_times(times, "week")
    assert weeks.index.tolist() == [0, 1]
    assert weeks.starts.tolist()[0].isoformat() == "2024-01-01T00:00:00"
    days = bin_times(times.astype("datetime64[s]").astype(np.int64), "day")
    assert days.index.tolist() == [0, 5] and days.n_steps == 6
    # In UTC+8 the first event is already on Thursday 07:30.
    local = bin_times(times, "day", utc_offset_seconds=8 * 3600)
    assert local.starts[0] == np.datetime64("2024-01-03T16:00:00")
    hours = bin_times(times, "hour")
    assert hours.n_steps == 4 * 24 + 1 + 1


def test_time_window_is_start_inclusive_end_exclusive() -> None:
    times = np.array([0, 86_399, 86_400, 3 * 86_400], dtype=np.int64)
    bins = bin_times(times, "day", start=0, end=3 * 86_400)
    assert bins.n_steps == 3
    assert bins.index.tolist() == [0, 0, 1, -1]
    with pytest.raises(ValueError, match="empty"):
        bin_times(times, "day", start=10, end=10)
    with pytest.raises(ValueError, match="step"):
        bin_times(times, "month")  # type: ignore[arg-type]


def test_space_time_cube_counts_and_drops_outside() -> None:
    cube = bin_space_time([0, 0, 2, -1, 1], [1, 1, 0, 0, 5], n_cells=3, n_steps=2)
    assert cube.tolist() == [[0, 2], [0, 0], [1, 0]]


def test_h3_cells_match_h3_and_bin_counts() -> None:
    lat = np.array([31.2304, 31.2305, 39.9042])
    lng = np.array([121.4737, 121.4738, 116.4074])
    cells = h3_cells(lat, lng, 9)
    assert [format(int(c), "x") for c in cells] == [
        h3.latlng_to_cell(a, b, 9) for a, b in zip(lat, lng, strict=True)
    ]
    names, counts = bin_h3(lat, lng, 9, weights=[1.0, 2.0, 5.0])
    assert sorted(counts.tolist()) == [3.0, 5.0]
    assert set(names) == {
        h3.latlng_to_cell(31.2304, 121.4737, 9),
        h3.latlng_to_cell(lat[2], lng[2], 9),
    }
    with pytest.raises(ValueError, match="resolution"):
        h3_cells(lat, lng, 16)
