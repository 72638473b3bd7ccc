"""Street coverage by camera sectors, vectorised.

A camera sees a sector: apex at the camera, axis along its heading (degrees
clockwise from north), half-angle ``fov / 2`` and radius ``range``; a
half-angle of 180 degrees or more is a full disc (PTZ and dome cameras).
Roads are cut into short pieces and each piece is represented by its
midpoint: a piece is covered when its midpoint lies in some sector (closed
boundary). Counting cameras per piece, not just a flag, is what lets one
camera be added or removed later without recomputing the rest.

The join never loops over cameras in Python: cameras grouped by search
radius are joined to a k-d tree of the piece midpoints in one dual-tree pass
per group, and the sector test runs on the flat array of candidate pairs. Narrow
sectors are queried with their smallest enclosing circle, not the full
range disc, which cuts the candidates about threefold for common lenses.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import shapely
from scipy.spatial import cKDTree

from pingan.analytics._arrays import BoolArray, FloatArray, IntArray, as_float_vector

FULL_CIRCLE_HALF_ANGLE = 180.0


@dataclass(frozen=True)
class Pieces:
    """Roads cut into pieces: which line each came from, its order, ends and length."""

    line: IntArray
    seq: IntArray
    x0: FloatArray
    y0: FloatArray
    x1: FloatArray
    y1: FloatArray
    mid_x: FloatArray
    mid_y: FloatArray
    length: FloatArray

    def __len__(self) -> int:
        return len(self.line)

    def geometries(self) -> npt.NDArray[np.object_]:
        """Each piece as a two-point line (the chord between its ends)."""
        coords = np.empty((2 * len(self), 2))
        coords[0::2, 0], coords[0::2, 1] = self.x0, self.y0
        coords[1::2, 0], coords[1::2, 1] = self.x1, self.y1
        out = shapely.linestrings(coords, indices=np.repeat(np.arange(len(self)), 2))
        return np.asarray(out, dtype=object)


def split_lines(geoms: npt.ArrayLike, piece_m: float) -> Pieces:
    """Cut every line into ``ceil(length / piece_m)`` equal pieces.

    Works on the lines' vertices directly (one cumulative distance over all
    of them and a sorted search), so cost is linear in vertices + pieces.
    """
    if piece_m <= 0:
        raise ValueError("piece_m must be positive")
    lines = np.asarray(geoms, dtype=object)
    if len(lines) == 0:
        empty_f = np.zeros(0)
        empty_i = np.zeros(0, dtype=np.int64)
        return Pieces(empty_i, empty_i, *(empty_f,) * 7)
    coords, owner = shapely.get_coordinates(lines, return_index=True)
    owner = owner.astype(np.int64)
    n_lines = len(lines)
    step = np.hypot(np.diff(coords[:, 0]), np.diff(coords[:, 1]))
    step[owner[1:] != owner[:-1]] = 0.0  # no distance across line boundaries
    cum = np.concatenate([[0.0], np.cumsum(step)])
    first = np.searchsorted(owner, np.arange(n_lines), side="left")
    last = np.searchsorted(owner, np.arange(n_lines), side="right") - 1
    line_len = cum[last] - cum[first]
    count = np.maximum(1, np.ceil(line_len / piece_m - 1e-9)).astype(np.int64)
    # Cut points: count + 1 per line, so each piece's end is the next one's start.
    cuts = count + 1
    cut_line = np.repeat(np.arange(n_lines, dtype=np.int64), cuts)
    cut_start = np.cumsum(cuts) - cuts
    cut_k = np.arange(len(cut_line), dtype=np.int64) - np.repeat(cut_start, cuts)
    target = cum[first][cut_line] + cut_k * (line_len / count)[cut_line]
    lo, hi = first[cut_line], np.maximum(first[cut_line], last[cut_line] - 1)
    v = np.clip(np.searchsorted(cum, target, side="right") - 1, lo, hi)
    nxt = np.minimum(v + 1, len(coords) - 1)
    seg = cum[nxt] - cum[v]
    t = np.clip((target - cum[v]) / np.where(seg > 0, seg, 1.0), 0.0, 1.0)
    cx = coords[v, 0] + t * (coords[nxt, 0] - coords[v, 0])
    cy = coords[v, 1] + t * (coords[nxt, 1] - coords[v, 1])
    is_start = np.ones(len(cut_line), dtype=bool)
    is_start[(cut_start + count)] = False  # the last cut of a line starts no piece
    x0, y0 = cx[is_start], cy[is_start]
    is_end = np.ones(len(cut_line), dtype=bool)
    is_end[cut_start] = False
    x1, y1 = cx[is_end], cy[is_end]
    line = cut_line[is_start]
    seq = cut_k[is_start]
    piece_len = (line_len / count)[line]
    # The chord midpoint: on a bent piece it is within a few metres of the line.
    mx, my = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    return Pieces(line, seq, x0, y0, x1, y1, mx, my, piece_len)


@dataclass(frozen=True)
class Sectors:
    """Camera sectors in metres: apex, heading (deg from north, clockwise), half-angle, range."""

    x: FloatArray
    y: FloatArray
    heading_deg: FloatArray
    half_angle_deg: FloatArray
    range_m: FloatArray

    @classmethod
    def build(
        cls,
        x: npt.ArrayLike,
        y: npt.ArrayLike,
        heading_deg: npt.ArrayLike,
        fov_deg: npt.ArrayLike,
        range_m: npt.ArrayLike,
        full_circle: npt.ArrayLike | None = None,
    ) -> Sectors:
        xs = as_float_vector(x, "x")
        n = len(xs)
        half = np.broadcast_to(as_float_vector(np.atleast_1d(fov_deg), "fov_deg"), (n,)) / 2.0
        if full_circle is not None:
            half = np.where(np.broadcast_to(np.asarray(full_circle, bool), (n,)), 180.0, half)
        rng = np.broadcast_to(as_float_vector(np.atleast_1d(range_m), "range_m"), (n,))
        if np.any(rng < 0) or np.any(half < 0):
            raise ValueError("range and field of view must not be negative")
        return cls(
            xs,
            as_float_vector(y, "y"),
            np.broadcast_to(as_float_vector(np.atleast_1d(heading_deg), "heading_deg"), (n,)),
            np.minimum(half, FULL_CIRCLE_HALF_ANGLE).astype(np.float64),
            rng.astype(np.float64),
        )

    def __len__(self) -> int:
        return len(self.x)

    def subset(self, idx: npt.ArrayLike) -> Sectors:
        i = np.asarray(idx)
        return Sectors(
            self.x[i], self.y[i], self.heading_deg[i], self.half_angle_deg[i], self.range_m[i]
        )

    def query_circles(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Smallest circle holding each sector (centre x, centre y, radius).

        For a half-angle ``a`` up to 60 degrees the circle through the apex
        and both arc ends (centre ``r / (2 cos a)`` along the axis) holds the
        whole sector; wider sectors use the range disc.
        """
        a = np.radians(self.half_angle_deg)
        narrow = self.half_angle_deg <= 60.0
        d = np.where(narrow, self.range_m / (2.0 * np.cos(np.where(narrow, a, 0.0))), 0.0)
        h = np.radians(self.heading_deg)
        cx = self.x + d * np.sin(h)
        cy = self.y + d * np.cos(h)
        radius = np.where(narrow, d, self.range_m)
        return cx, cy, radius

    def polygons(self, arc_steps: int = 16) -> npt.NDArray[np.object_]:
        """Sectors as shapely polygons (discs for full circles), for maps and peers."""
        out = np.empty(len(self), dtype=object)
        for i in range(len(self)):
            out[i] = sector_polygon(
                float(self.x[i]),
                float(self.y[i]),
                float(self.heading_deg[i]),
                float(self.half_angle_deg[i]),
                float(self.range_m[i]),
                arc_steps,
            )
        return out


def sector_polygon(
    x: float, y: float, heading_deg: float, half_angle_deg: float, range_m: float, steps: int = 16
) -> shapely.Polygon:
    if half_angle_deg >= FULL_CIRCLE_HALF_ANGLE:
        poly: shapely.Polygon = shapely.Point(x, y).buffer(range_m, quad_segs=max(steps // 2, 4))
        return poly
    angles = np.radians(
        np.linspace(heading_deg - half_angle_deg, heading_deg + half_angle_deg, steps + 1)
    )
    arc = np.column_stack([x + range_m * np.sin(angles), y + range_m * np.cos(angles)])
    return shapely.Polygon(np.vstack([[x, y], arc, [x, y]]))


def in_sector(sectors: Sectors, cam: IntArray, px: FloatArray, py: FloatArray) -> BoolArray:
    """Whether point k lies in sector ``cam[k]`` (pairwise over equal-length arrays)."""
    dx = px - sectors.x[cam]
    dy = py - sectors.y[cam]
    dist = np.hypot(dx, dy)
    h = np.radians(sectors.heading_deg[cam])
    # cos(angle off the axis) >= cos(half-angle), without an arctangent.
    along = dx * np.sin(h) + dy * np.cos(h)
    cos_half = np.cos(np.radians(sectors.half_angle_deg[cam]))
    tol = 1e-9 * np.maximum(dist, 1.0)
    inside_angle = (sectors.half_angle_deg[cam] >= FULL_CIRCLE_HALF_ANGLE) | (
        along >= dist * cos_half - tol
    )
    result: BoolArray = (dist <= sectors.range_m[cam] + 1e-9) & inside_angle
    return result


# Query radii are grouped into buckets growing by this factor, so a bucket's shared
# search radius over-fetches at most 1.25^2 ~ 1.6 x the area any camera needs.
_BUCKET_GROWTH = 1.25


def _ball_pairs(
    tree: cKDTree, cx: FloatArray, cy: FloatArray, radius: FloatArray, workers: int
) -> tuple[IntArray, IntArray]:
    """(query index, point index) for every point within ``radius`` of each centre.

    Centres are bucketed by radius and each bucket is joined to the point
    tree in one dual-tree pass (``sparse_distance_matrix``), which returns
    flat arrays: no per-camera Python lists, and far fewer tree descents than
    one ball query per camera.
    """
    empty = np.zeros(0, dtype=np.int64)
    if len(cx) == 0:
        return empty, empty
    scaled = np.log(np.maximum(radius, 1e-3)) / np.log(_BUCKET_GROWTH)
    bucket = np.ceil(scaled).astype(np.int64)

    def join(k: int) -> tuple[IntArray, IntArray]:
        members = np.flatnonzero(bucket == k)
        reach = float(radius[members].max()) + 1e-6
        sub = cKDTree(np.column_stack([cx[members], cy[members]]))
        found = sub.sparse_distance_matrix(tree, reach, output_type="ndarray")
        near = found["v"] <= radius[members][found["i"]] + 1e-6
        return members[found["i"][near]].astype(np.int64), found["j"][near].astype(np.int64)

    keys = np.unique(bucket).tolist()
    if workers > 1 and len(keys) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(join, keys))
    else:
        parts = [join(k) for k in keys]
    owners = np.concatenate([p[0] for p in parts]) if parts else empty
    points = np.concatenate([p[1] for p in parts]) if parts else empty
    return owners, points


def covering_pairs(
    sectors: Sectors,
    px: FloatArray,
    py: FloatArray,
    *,
    tree: cKDTree | None = None,
    workers: int = 1,
) -> tuple[IntArray, IntArray]:
    """Every (camera, point) pair with the point inside the camera's sector."""
    if tree is None:
        tree = cKDTree(np.column_stack([px, py]))
    cx, cy, radius = sectors.query_circles()
    cam, pt = _ball_pairs(tree, cx, cy, radius, workers)
    keep = in_sector(sectors, cam, px[pt], py[pt])
    return cam[keep], pt[keep]


def cover_counts(sectors: Sectors, px: FloatArray, py: FloatArray, *, workers: int = 1) -> IntArray:
    """How many sectors hold each point."""
    _cam, pt = covering_pairs(sectors, px, py, workers=workers)
    counts: IntArray = np.bincount(pt, minlength=len(px)).astype(np.int64)
    return counts


@dataclass
class CoverageIndex:
    """Cover counts of fixed points, kept current as single cameras come and go.

    Adding or removing one camera costs one ball query and a sector test on
    the few points within its range: nothing else is touched.
    """

    px: FloatArray
    py: FloatArray
    counts: IntArray
    tree: cKDTree = field(repr=False)

    @classmethod
    def build(
        cls, px: FloatArray, py: FloatArray, sectors: Sectors, *, workers: int = 1
    ) -> CoverageIndex:
        tree = cKDTree(np.column_stack([px, py]))
        _cam, pt = covering_pairs(sectors, px, py, tree=tree, workers=workers)
        counts = np.bincount(pt, minlength=len(px)).astype(np.int64)
        return cls(px, py, counts, tree)

    def points_seen(self, sector: Sectors) -> IntArray:
        """Indices of the points one camera's sector holds."""
        cx, cy, radius = sector.query_circles()
        hits = self.tree.query_ball_point([cx[0], cy[0]], r=radius[0] + 1e-6)
        idx = np.asarray(hits, dtype=np.int64)
        keep = in_sector(sector, np.zeros(len(idx), dtype=np.int64), self.px[idx], self.py[idx])
        out: IntArray = np.sort(idx[keep])
        return out

    def add(self, sector: Sectors) -> IntArray:
        idx = self.points_seen(sector)
        self.counts[idx] += 1
        return idx

    def remove(self, sector: Sectors) -> IntArray:
        idx = self.points_seen(sector)
        if np.any(self.counts[idx] <= 0):
            raise ValueError("removing a camera that was never counted here")
        self.counts[idx] -= 1
        return idx

    def move(self, old: Sectors, new: Sectors) -> IntArray:
        """Replace one camera's sector; returns every point whose count changed."""
        gone = self.remove(old)
        came = self.add(new)
        touched: IntArray = np.union1d(gone, came)
        return touched


def totals_by_group(
    group: IntArray, length: FloatArray, covered: BoolArray, n_groups: int
) -> tuple[FloatArray, FloatArray]:
    """Total and covered length per group id (0..n_groups-1; negative ids are skipped)."""
    ok = group >= 0
    total = np.bincount(group[ok], weights=length[ok], minlength=n_groups)
    seen = np.bincount(
        group[ok], weights=np.where(covered[ok], length[ok], 0.0), minlength=n_groups
    )
    return total.astype(np.float64), seen.astype(np.float64)


def unobstructed(
    cam_x: FloatArray,
    cam_y: FloatArray,
    pt_x: FloatArray,
    pt_y: FloatArray,
    footprints: npt.NDArray[np.object_],
    tree: shapely.STRtree | None = None,
) -> BoolArray:
    """Whether each camera-to-point sight line misses every building's interior.

    Pairwise over equal-length arrays. A footprint that holds the camera
    itself (a camera on a wall or a roof) does not block its own view; a
    line that only grazes a wall or corner is not blocked either.
    """
    n = len(cam_x)
    clear = np.ones(n, dtype=bool)
    if n == 0 or len(footprints) == 0:
        return clear
    if tree is None:
        tree = shapely.STRtree(footprints)
    coords = np.empty((2 * n, 2))
    coords[0::2, 0], coords[0::2, 1] = cam_x, cam_y
    coords[1::2, 0], coords[1::2, 1] = pt_x, pt_y
    lines = np.asarray(
        shapely.linestrings(coords, indices=np.repeat(np.arange(n), 2)), dtype=object
    )
    line_idx, poly_idx = tree.query(lines, predicate="intersects")
    if len(line_idx) == 0:
        return clear
    polys = footprints[poly_idx]
    through = shapely.relate_pattern(lines[line_idx], polys, "T********")
    own = shapely.intersects(polys, shapely.points(cam_x[line_idx], cam_y[line_idx]))
    blocked = line_idx[through & ~own]
    clear[blocked] = False
    return clear
