"""The sector join and the road cutter against shapely (the peer) and hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely import LineString

from pingan.analytics.coverage import (
    CoverageIndex,
    Sectors,
    cover_counts,
    in_sector,
    sector_polygon,
    split_lines,
    unobstructed,
)


def _random_sectors(rng: np.random.Generator, n: int, extent: float) -> Sectors:
    return Sectors.build(
        rng.uniform(0, extent, n), rng.uniform(0, extent, n), rng.uniform(0, 360, n),
        rng.uniform(10, 170, n), rng.uniform(5, 60, n), rng.random(n) < 0.2,
    )  # fmt: skip


def test_hand_computed_sector() -> None:
    # Facing east (90 deg), 90 deg wide, 10 m: (5, 0) in, (5, 5) on the edge, (0, 5) out.
    s = Sectors.build([0.0], [0.0], [90.0], [90.0], [10.0])
    px = np.array([5.0, 5.0, 0.0, 10.0, 10.01, -1.0, 0.0])
    py = np.array([0.0, 5.0, 5.0, 0.0, 0.0, 0.0, 0.0])
    got = in_sector(s, np.zeros(len(px), dtype=np.int64), px, py)
    assert got.tolist() == [True, True, False, True, False, False, True]


def test_full_circle_for_ptz_ignores_heading() -> None:
    s = Sectors.build([0.0], [0.0], [0.0], [30.0], [10.0], [True])
    px, py = np.array([-9.0, 0.0, 9.0, 0.0]), np.array([0.0, -9.0, 0.0, 11.0])
    assert in_sector(s, np.zeros(4, dtype=np.int64), px, py).tolist() == [True, True, True, False]


def test_counts_match_shapely_polygons() -> None:
    rng = np.random.default_rng(5)
    sectors = _random_sectors(rng, 400, 500.0)
    px, py = rng.uniform(0, 500, 5000), rng.uniform(0, 500, 5000)
    # The peer: fine polygons (chorded arcs sit inside the true arc by < 1 mm at 512 steps).
    polys = [
        sector_polygon(float(sectors.x[i]), float(sectors.y[i]), float(sectors.heading_deg[i]),
                       float(sectors.half_angle_deg[i]), float(sectors.range_m[i]), steps=512)
        for i in range(len(sectors))
    ]  # fmt: skip
    points = shapely.points(px, py)
    tree = shapely.STRtree(polys)
    pt_idx, _poly_idx = tree.query(points, predicate="intersects")
    expected = np.bincount(pt_idx, minlength=len(px))
    # Points within 1 cm of any sector boundary may fall either way: leave them out.
    boundary = shapely.union_all([shapely.boundary(p) for p in polys])
    clear = shapely.distance(points, boundary) > 0.01
    got = cover_counts(sectors, px, py, workers=2)
    assert clear.sum() > 4900
    assert np.array_equal(got[clear], expected[clear])
    assert expected.max() >= 2  # the test exercises overlapping sectors


def test_query_circle_holds_the_whole_sector() -> None:
    rng = np.random.default_rng(1)
    sectors = _random_sectors(rng, 200, 100.0)
    cx, cy, radius = sectors.query_circles()
    for i in range(len(sectors)):
        poly = sector_polygon(float(sectors.x[i]), float(sectors.y[i]),
                              float(sectors.heading_deg[i]), float(sectors.half_angle_deg[i]),
                              float(sectors.range_m[i]), steps=64)  # fmt: skip
        coords = shapely.get_coordinates(poly)
        dist = np.hypot(coords[:, 0] - cx[i], coords[:, 1] - cy[i])
        assert dist.max() <= radius[i] + 1e-6
        assert radius[i] <= sectors.range_m[i] + 1e-9


def test_split_lines_hand_computed() -> None:
    # An L: 30 m east then 25 m north = 55 m -> 6 pieces of 55/6 m.
    pieces = split_lines(
        [LineString([(0, 0), (30, 0), (30, 25)]), LineString([(0, 0), (10, 0)])], 10.0
    )
    assert pieces.line.tolist() == [0] * 6 + [1]
    assert pieces.seq.tolist() == [0, 1, 2, 3, 4, 5, 0]
    assert np.allclose(pieces.length, [55 / 6] * 6 + [10.0])
    step = 55 / 6
    assert np.allclose(pieces.x0[:4], [0, step, 2 * step, 3 * step])
    # The 4th piece (27.5 .. 36.67 m) turns the corner: it starts on the east leg
    # and ends 36.67 - 30 = 6.67 m up the north leg.
    assert np.isclose(pieces.x1[3], 30.0) and np.isclose(pieces.y1[3], 4 * step - 30)
    assert np.isclose(pieces.x1[5], 30.0) and np.isclose(pieces.y1[5], 25.0)
    assert np.allclose([pieces.mid_x[6], pieces.mid_y[6]], [5.0, 0.0])


def test_split_lines_matches_shapely_interpolation() -> None:
    rng = np.random.default_rng(3)
    lines = [LineString(np.cumsum(rng.uniform(-50, 50, (rng.integers(2, 8), 2)), axis=0))
             for _ in range(50)]  # fmt: skip
    pieces = split_lines(lines, 7.0)
    geoms = np.array(lines, dtype=object)[pieces.line]
    start = shapely.line_interpolate_point(geoms, pieces.seq * pieces.length)
    end = shapely.line_interpolate_point(geoms, (pieces.seq + 1) * pieces.length)
    assert np.allclose(shapely.get_x(start), pieces.x0) and np.allclose(
        shapely.get_y(start), pieces.y0
    )
    assert np.allclose(shapely.get_x(end), pieces.x1) and np.allclose(shapely.get_y(end), pieces.y1)
    totals = np.bincount(pieces.line, weights=pieces.length)
    assert np.allclose(totals, shapely.length(np.array(lines, dtype=object)))
    assert pieces.length.max() <= 7.0 + 1e-9


def test_incremental_updates_equal_a_full_recount() -> None:
    rng = np.random.default_rng(11)
    px, py = rng.uniform(0, 400, 3000), rng.uniform(0, 400, 3000)
    sectors = _random_sectors(rng, 60, 400.0)
    index = CoverageIndex.build(px, py, sectors.subset(np.arange(50)))
    touched = index.add(sectors.subset([50]))
    # Only points inside the new camera's reach were touched.
    d = np.hypot(px[touched] - sectors.x[50], py[touched] - sectors.y[50])
    assert np.all(d <= sectors.range_m[50] + 1e-9)
    index.move(sectors.subset([3]), sectors.subset([51]))
    index.remove(sectors.subset([7]))
    keep = [i for i in range(52) if i not in (3, 7)]
    assert np.array_equal(index.counts, cover_counts(sectors.subset(keep), px, py))


def test_removing_an_uncounted_camera_is_refused() -> None:
    px, py = np.array([1.0]), np.array([0.0])
    index = CoverageIndex.build(px, py, Sectors.build([], [], [], [90.0], [10.0]))
    with pytest.raises(ValueError, match="never counted"):
        index.remove(Sectors.build([0.0], [0.0], [90.0], [90.0], [10.0]))


def test_bad_sectors_are_rejected() -> None:
    with pytest.raises(ValueError):
        Sectors.build([0.0], [0.0], [0.0], [90.0], [-1.0])
    with pytest.raises(ValueError):
        Sectors.build([np.nan], [0.0], [0.0], [90.0], [1.0])


def test_buildings_block_sight_lines_hand_computed() -> None:
    from shapely import box

    walls = np.array([box(4, -1, 6, 1), box(4, 0.5, 6, 2.5), box(-1, -1, 1, 1)], dtype=object)
    cam = np.zeros(4)
    px = np.array([10.0, 10.0, 10.0, -10.0])
    py = np.array([0.0, 10.0, -0.5, 0.0])
    got = unobstructed(cam, cam, px, py, walls)
    # Through the first box; clear diagonally; through the first box's lower half;
    # westwards only through the camera's own building (a wall mount), which is allowed.
    assert got.tolist() == [False, True, False, True]
    # Along a wall (the box's bottom edge lies on y = 0): not through the inside.
    graze = unobstructed(np.zeros(1), np.zeros(1), np.array([10.0]), np.array([0.0]),
                         np.array([box(4, 0, 6, 2)], dtype=object))  # fmt: skip
    assert graze.tolist() == [True]


def test_buildings_match_shapely_pairwise() -> None:
    from shapely import box

    rng = np.random.default_rng(21)
    walls = np.array(
        [box(x, y, x + w, y + h) for x, y, w, h in
         zip(*rng.uniform(0, 100, (2, 40)), *rng.uniform(2, 10, (2, 40)), strict=True)],
        dtype=object,
    )  # fmt: skip
    n = 3000
    cx, cy, px, py = rng.uniform(0, 110, (4, n))
    got = unobstructed(cx, cy, px, py, walls)
    want = np.ones(n, dtype=bool)
    for k in range(n):
        line = LineString([(cx[k], cy[k]), (px[k], py[k])])
        cam = shapely.Point(cx[k], cy[k])
        for w in walls:
            if not w.intersects(cam) and line.relate_pattern(w, "T********"):
                want[k] = False
                break
    assert np.array_equal(got, want)
    assert 0.1 < got.mean() < 0.95  # both outcomes occur
