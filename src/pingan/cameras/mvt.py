"""Mapbox vector tiles (MVT) of the camera network, for 800,000 cameras at city zoom.

Layer ``cameras``:

* below ``SINGLE_MIN_ZOOM`` a tile holds grid clusters. The database counts
  cameras per fine square cell (a power-of-two size in metres fixed by the
  zoom, so neighbouring tiles cut the same cells); each cell goes to the one
  tile holding its mean position, which makes the tiles of a zoom partition
  the cameras exactly. Cells are then pooled into ``CLUSTER_UNITS`` squares
  of the tile, each cluster at the mean position of its cameras. Properties:
  ``count``, ``offline`` (health's live state) and ``maintenance`` (registry
  status).
* from ``SINGLE_MIN_ZOOM`` on, one point per camera with ``id``, ``network``,
  ``status``, ``live`` (online, offline or unknown), ``heading``, ``fov``,
  ``range_m`` and ``ptz``. A tile denser than ``MAX_SINGLES`` falls back to
  clusters, so no tile is unbounded.

Retired cameras stay in the registry but are not on the map. Nothing here
loops over the table in Python: a range on the ``(x, y)`` index and a
``GROUP BY`` do the reading on either backend. Below ``ONE_PASS_MIN_ZOOM``
(tiles holding much of the city), a city-wide reader's count comes from the
index alone, less the few hidden cameras (retired, or outside every org
unit) that the status and unit indexes find; offline and maintenance counts
start from their own indexes too. Closer in, one pass over the box's rows
counts everything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import mapbox_vector_tile
import numpy as np
from numpy.typing import NDArray
from shapely import Point
from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    case,
    cast,
    false,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import Session

from pingan.analytics.tiles import (
    MERCATOR_HALF_WORLD,
    lonlat_to_mercator,
    mercator_to_lonlat,
    tile_bounds,
)
from pingan.cameras.health_models import CameraLiveState, LiveState
from pingan.cameras.models import Camera, CameraStatus
from pingan.cameras.registry import READ, member_owner_ids, visible_filter
from pingan.kit.errors import NotFound
from pingan.kit.geo import Projector
from pingan.org.principal import Principal
from pingan.org.service import holds_city_wide, require_projector

MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
EXTENT = 4096
SINGLE_MIN_ZOOM = 15
MAX_SINGLES = 50_000
FINE_CELLS_PER_TILE = 64  # at least this many fine cells across a tile
CLUSTER_UNITS = 256  # cluster squares of 256 / 4096 of a tile (16 px on a 256 px map)
BOX_PAD_M = 100.0  # margin on the metric box, against rounding at its edges
BOX_MIN_ZOOM = 8  # tiles under ~150 km: their metric box is meaningful
ONE_PASS_MIN_ZOOM = 11  # tiles under ~20 km: read their rows once rather than scan rare ones


@dataclass(frozen=True)
class TileFrame:
    """One tile: its Mercator bounds and the city's projection, for placing points in it."""

    z: int
    x: int
    y: int
    bounds: tuple[float, float, float, float]
    proj: Projector

    @classmethod
    def of(cls, session: Session, z: int, x: int, y: int) -> TileFrame:
        try:
            bounds = tile_bounds(z, x, y)
        except ValueError as exc:
            raise NotFound(str(exc)) from None
        return cls(z, x, y, bounds, require_projector(session))

    def metric_box(self, pad: float = BOX_PAD_M) -> tuple[float, float, float, float] | None:
        """The tile's bounding box in the city's metres, padded; None where too big to box.

        Points along all four edges, not just the corners: the city's grid is
        rotated against Mercator away from its central meridian.
        """
        if self.z < BOX_MIN_ZOOM:
            return None  # a tile bigger than the projection's zone: read everything
        x0, y0, x1, y1 = self.bounds
        along_x = x0 + (x1 - x0) * np.linspace(0.0, 1.0, 9)
        along_y = y0 + (y1 - y0) * np.linspace(0.0, 1.0, 9)
        ex = np.concatenate([along_x, along_x, np.full(9, x0), np.full(9, x1)])
        ey = np.concatenate([np.full(9, y0), np.full(9, y1), along_y, along_y])
        lon, lat = mercator_to_lonlat(ex, ey)
        mx, my = self.proj.to_metric(lon, lat)
        return (float(mx.min()) - pad, float(my.min()) - pad,
                float(mx.max()) + pad, float(my.max()) + pad)  # fmt: skip

    def to_tile(
        self, mx: NDArray[np.float64], my: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """City metres to tile units (0..EXTENT, y down), exactly through lon/lat."""
        lon, lat = self.proj.to_lonlat(mx, my)
        wx, wy = lonlat_to_mercator(lon, lat)
        x0, y0, x1, y1 = self.bounds
        return (wx - x0) / (x1 - x0) * EXTENT, (y1 - wy) / (y1 - y0) * EXTENT


def inside(u: NDArray[np.float64], v: NDArray[np.float64]) -> NDArray[np.bool_]:
    return (u >= 0) & (u < EXTENT) & (v >= 0) & (v < EXTENT)


def encode(layer: str, features: list[dict[str, Any]]) -> bytes:
    """One MVT layer in tile units; an empty list is a valid tile with an empty layer."""
    return bytes(
        mapbox_vector_tile.encode(
            [{"name": layer, "features": features}],
            default_options={"extents": EXTENT, "y_coord_down": True},
        )
    )


def fine_cell_m(frame: TileFrame) -> float:
    """Cell size for this zoom: a power of two in metres, so neighbouring tiles cut alike."""
    _, y0, _, y1 = frame.bounds
    _, lat = mercator_to_lonlat(0.0, (y0 + y1) / 2)
    ground = 2 * MERCATOR_HALF_WORLD / (1 << frame.z) * math.cos(math.radians(float(lat)))
    return float(2.0 ** math.floor(math.log2(max(ground / FINE_CELLS_PER_TILE, 1e-3))))


def _mapped_filter(session: Session, actor: Principal) -> list[ColumnElement[bool]]:
    # Scope as the registry reads it: org scope of cameras:read, or the owner's own staff.
    return [visible_filter(session, actor), Camera.status != CameraStatus.RETIRED.value]


def cameras_tile(session: Session, *, actor: Principal, z: int, x: int, y: int) -> bytes:
    """The ``cameras`` layer of tile z/x/y: clusters at city zoom, single cameras close up."""
    frame = TileFrame.of(session, z, x, y)
    where = _mapped_filter(session, actor)
    if z >= SINGLE_MIN_ZOOM:
        singles = _single_features(session, frame, where)
        if singles is not None:
            return encode("cameras", singles)
    return encode("cameras", _cluster_features(session, frame, actor, where))


def _live() -> Any:
    return func.coalesce(CameraLiveState.state, "unknown")


def _single_features(
    session: Session, frame: TileFrame, where: list[ColumnElement[bool]]
) -> list[dict[str, Any]] | None:
    box = frame.metric_box()
    assert box is not None  # single cameras are only drawn close up
    bx0, by0, bx1, by1 = box
    stmt = (
        select(Camera.id, Camera.x, Camera.y, Camera.network, Camera.status, _live(),
               Camera.heading_deg, Camera.fov_deg, Camera.range_m, Camera.ptz)
        .outerjoin(CameraLiveState, CameraLiveState.camera_id == Camera.id)
        .where(Camera.x.between(bx0, bx1), Camera.y.between(by0, by1), *where)
        .order_by(Camera.id)
        .limit(MAX_SINGLES + 1)
    )  # fmt: skip
    rows = session.execute(stmt).all()
    if len(rows) > MAX_SINGLES:
        return None
    if not rows:
        return []
    xs = np.array([r[1] for r in rows], dtype=np.float64)
    ys = np.array([r[2] for r in rows], dtype=np.float64)
    u, v = frame.to_tile(xs, ys)
    keep = inside(u, v)
    features = []
    for i in np.flatnonzero(keep).tolist():
        cid, _, _, network, status, live, heading, fov, range_m, ptz = rows[i]
        features.append(
            {"id": int(cid), "geometry": Point(float(u[i]), float(v[i])),
             "properties": {"id": int(cid), "network": network, "status": status, "live": live,
                            "heading": float(heading), "fov": float(fov),
                            "range_m": float(range_m), "ptz": bool(ptz)}}
        )  # fmt: skip
    return features


def _outside_units(session: Session, actor: Principal) -> ColumnElement[bool] | None:
    """For an actor who may map every camera bar a few: which cameras outside the units those are.

    Clusters then count every camera in the box from the ``(x, y)`` index alone
    and subtract the few hidden ones (retired, or outside every unit), which
    the status and unit indexes find, instead of visiting each row for its
    status and scope. None when the actor's scope is narrower.
    """
    if actor.is_system:
        return false()
    if not holds_city_wide(session, actor, READ):
        return None
    # Every org unit is in scope: only cameras outside all units are hidden,
    # unless they belong to an owner the actor works for.
    outside: ColumnElement[bool] = Camera.org_unit_id.is_(None)
    members = member_owner_ids(session, actor)
    if members:
        outside = and_(outside, Camera.owner_id.not_in(members))
    return outside


def _cell_sums(
    session: Session,
    cell: float,
    where: list[ColumnElement[bool]],
    *,
    offline: bool = False,
    live: bool = False,
    extra: tuple[ColumnElement[int], ...] = (),
    tallies: tuple[ColumnElement[Any], ...] = (),
) -> NDArray[np.float64]:
    """Per fine cell (and ``extra`` key): cell x, cell y, cameras, sum x, sum y, extra, tallies.

    ``offline`` keeps offline cameras only; ``live`` joins the live state for ``tallies``.
    """
    # The cell size is inlined: PostgreSQL must see the same expression in GROUP BY.
    size: ColumnElement[float] = literal_column(repr(float(cell)))
    cx = cast(func.floor(Camera.x / size), Integer)
    cy = cast(func.floor(Camera.y / size), Integer)
    stmt = select(cx, cy, func.count(), func.sum(Camera.x), func.sum(Camera.y), *extra, *tallies)
    stmt = stmt.where(*where)
    if live:
        stmt = stmt.outerjoin(CameraLiveState, CameraLiveState.camera_id == Camera.id)
    if offline:
        stmt = stmt.join(CameraLiveState, CameraLiveState.camera_id == Camera.id).where(
            CameraLiveState.state == LiveState.OFFLINE.value
        )
    rows = session.execute(stmt.group_by(cx, cy, *extra)).all()
    width = 5 + len(extra) + len(tallies)
    return np.array([tuple(r) for r in rows], dtype=np.float64).reshape(-1, width)


def _cluster_features(
    session: Session, frame: TileFrame, actor: Principal, where: list[ColumnElement[bool]]
) -> list[dict[str, Any]]:
    cell = fine_cell_m(frame)
    box_where: list[ColumnElement[bool]] = []
    box = frame.metric_box()
    if box is not None:
        # Whole cells only: a cell cut by the box edge would have another mean here
        # than in the neighbouring tile, and the partition would break.
        bx0, by0, bx1, by1 = box
        lo_x, hi_x = math.floor(bx0 / cell) * cell, (math.floor(bx1 / cell) + 1) * cell
        lo_y, hi_y = math.floor(by0 / cell) * cell, (math.floor(by1 / cell) + 1) * cell
        box_where = [Camera.x >= lo_x, Camera.x < hi_x, Camera.y >= lo_y, Camera.y < hi_y]
    retired = Camera.status == CameraStatus.RETIRED.value
    maintenance = Camera.status == CameraStatus.MAINTENANCE.value
    outside = _outside_units(session, actor)
    # (sums, sign, kind): kind 0 adds to the mapped cameras, 1 to offline, 2 to maintenance.
    parts: list[tuple[NDArray[np.float64], float, int]] = []
    if frame.z >= ONE_PASS_MIN_ZOOM:
        # A small box: one pass over its rows beats index scans of the city's rare rows.
        tallies = (
            func.sum(case((CameraLiveState.state == LiveState.OFFLINE.value, 1), else_=0)),
            func.sum(case((maintenance, 1), else_=0)),
        )
        both = _cell_sums(session, cell, [*box_where, *where], live=True, tallies=tallies)
        parts.append((both[:, :5], 1.0, 0))
        parts.append((both[:, [0, 1, 5, 3, 4]], 1.0, 1))
        parts.append((both[:, [0, 1, 6, 3, 4]], 1.0, 2))
    elif outside is None:
        parts.append((_cell_sums(session, cell, box_where + where), 1.0, 0))
        parts.append((_cell_sums(session, cell, [*box_where, *where, maintenance]), 1.0, 2))
    else:
        # One pass over the rare rows: retired, in maintenance, or outside every unit.
        flags = (
            cast(case((retired, 1), else_=0), Integer),
            cast(case((outside, 1), else_=0), Integer),
        )
        rare = _cell_sums(session, cell, [*box_where, or_(retired, maintenance, outside)],
                          extra=flags)  # fmt: skip
        hidden = (rare[:, 5] > 0) | (rare[:, 6] > 0)
        parts.append((_cell_sums(session, cell, box_where), 1.0, 0))
        parts.append((rare[hidden, :5], -1.0, 0))
        parts.append((rare[~hidden, :5], 1.0, 2))  # the rest of the rare rows: maintenance
    if frame.z < ONE_PASS_MIN_ZOOM:
        parts.append((_cell_sums(session, cell, [*box_where, *where], offline=True), 1.0, 1))
    keys = np.vstack([p[:, :2] for p, _, _ in parts])
    if len(keys) == 0:
        return []
    cells, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    # Columns: cameras, sum x, sum y (of the mapped cameras), offline, maintenance.
    totals = np.zeros((len(cells), 5))
    at = 0
    for part, sign, kind in parts:
        rows = inverse[at : at + len(part)]
        at += len(part)
        columns = ((0, 2), (1, 3), (2, 4)) if kind == 0 else ((2 + kind, 2),)
        for col, src in columns:
            totals[:, col] += sign * np.bincount(rows, weights=part[:, src], minlength=len(cells))
    totals = totals[totals[:, 0] > 0.5]
    if len(totals) == 0:
        return []
    count = totals[:, 0]
    u, v = frame.to_tile(totals[:, 1] / count, totals[:, 2] / count)
    keep = inside(u, v)
    totals, u, v, count = totals[keep], u[keep], v[keep], count[keep]
    if len(totals) == 0:
        return []
    per_side = EXTENT // CLUSTER_UNITS
    key = (v // CLUSTER_UNITS).astype(np.int64) * per_side + (u // CLUSTER_UNITS).astype(np.int64)
    groups, inverse = np.unique(key, return_inverse=True)
    sums = np.zeros((len(groups), 5))
    for col, values in enumerate((count, count * u, count * v, totals[:, 3], totals[:, 4])):
        sums[:, col] = np.bincount(inverse, weights=values, minlength=len(groups))
    features = []
    for n, su, sv, n_offline, n_maintenance in sums.tolist():
        features.append(
            {"geometry": Point(su / n, sv / n),
             "properties": {"count": round(n), "offline": round(n_offline),
                            "maintenance": round(n_maintenance)}}
        )  # fmt: skip
    return features
