"""PNG map tiles of street coverage and of cameras, for city zoom levels.

GeoJSON stops being useful long before 800,000 cameras fit a screen, so the
console draws these instead: every street piece (or camera) in the tile is
a 2 x 2 pixel dot, seen pieces green and blind ones red on top, cameras
coloured by network. Only the columns needed are read (an index range on
``x``/``y``); past ``MAX_POINTS`` rows in one tile an even sample is drawn.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import ColumnElement, false, func, or_, select
from sqlalchemy.orm import Session

from pingan.analytics.rasters import encode_png
from pingan.analytics.tiles import lonlat_to_mercator, tile_bounds, tile_bounds_lonlat
from pingan.cameras.models import Camera, Network, StreetSegment
from pingan.cameras.registry import visible_filter
from pingan.kit.errors import ValidationFailed
from pingan.org.models import OrgUnit
from pingan.org.permissions import Perm
from pingan.org.principal import Principal
from pingan.org.service import require_projector

SIZE = 256
MAX_POINTS = 400_000
COVERED = (0, 150, 70, 230)
BLIND = (215, 40, 40, 230)
NETWORK_COLOURS: dict[str, tuple[int, int, int, int]] = {
    Network.PUBLIC_HD: (30, 90, 200, 240),
    Network.CITY_MANAGEMENT: (0, 150, 150, 240),
    Network.SOCIAL: (230, 140, 0, 240),
    Network.COMMUNITY: (120, 80, 170, 240),
    Network.SCHOOL: (210, 60, 130, 240),
    Network.HOSPITAL: (200, 30, 30, 240),
    Network.TRANSPORT: (90, 90, 90, 240),
}
OTHER = (60, 60, 60, 240)


def _metric_box(session: Session, z: int, x: int, y: int) -> tuple[float, float, float, float]:
    try:
        lon0, lat0, lon1, lat1 = tile_bounds_lonlat(z, x, y)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="z") from None
    proj = require_projector(session)
    lons = np.array([lon0, lon1, lon0, lon1])
    lats = np.array([lat0, lat0, lat1, lat1])
    mx, my = proj.to_metric(lons, lats)
    pad = 100.0  # the metric box of a Mercator tile is slightly rotated: pad it
    return (
        float(mx.min()) - pad,
        float(my.min()) - pad,
        float(mx.max()) + pad,
        float(my.max()) + pad,
    )


def _pixels(
    session: Session, z: int, x: int, y: int, px: NDArray[np.float64], py: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
    proj = require_projector(session)
    lon, lat = proj.to_lonlat(px, py)
    mx, my = lonlat_to_mercator(lon, lat)
    x0, y0, x1, y1 = tile_bounds(z, x, y)
    col = np.floor((mx - x0) / (x1 - x0) * SIZE).astype(np.int64)
    row = np.floor((y1 - my) / (y1 - y0) * SIZE).astype(np.int64)
    inside = (col >= 0) & (col < SIZE) & (row >= 0) & (row < SIZE)
    return col, row, inside


def _paint(img: NDArray[np.uint8], col: NDArray[np.int64], row: NDArray[np.int64],
           colour: tuple[int, int, int, int]) -> None:  # fmt: skip
    for dc in (0, 1):
        for dr in (0, 1):
            c = np.clip(col + dc, 0, SIZE - 1)
            r = np.clip(row + dr, 0, SIZE - 1)
            img[r, c] = colour


def _sampled(stmt: Any, id_column: Any, session: Session, count_stmt: Any) -> Any:
    n = int(session.scalar(count_stmt) or 0)
    if n > MAX_POINTS:
        step = -(-n // MAX_POINTS)
        stmt = stmt.where(id_column % step == 0)
    return stmt


def coverage_tile(session: Session, *, actor: Principal, z: int, x: int, y: int) -> bytes:
    actor.require(Perm.CAMERAS_READ)
    bx0, by0, bx1, by1 = _metric_box(session, z, x, y)
    where: list[ColumnElement[bool]] = [
        StreetSegment.x.between(bx0, bx1),
        StreetSegment.y.between(by0, by1),
    ]
    if not actor.is_system:
        grants = actor.grants_with(Perm.CAMERAS_READ)
        in_scope = select(OrgUnit.id).where(or_(*[OrgUnit.path.startswith(g.path) for g in grants]))
        where.append(StreetSegment.grid_id.in_(in_scope) if grants else false())
    stmt = select(StreetSegment.x, StreetSegment.y, StreetSegment.cover_count).where(*where)
    count = select(func.count()).select_from(StreetSegment).where(*where)
    rows = session.execute(_sampled(stmt, StreetSegment.id, session, count)).all()
    img = np.zeros((SIZE, SIZE, 4), dtype=np.uint8)
    if rows:
        arr = np.array(rows, dtype=np.float64)
        col, row, inside = _pixels(session, z, x, y, arr[:, 0], arr[:, 1])
        seen = arr[:, 2] > 0
        _paint(img, col[inside & seen], row[inside & seen], COVERED)
        _paint(img, col[inside & ~seen], row[inside & ~seen], BLIND)
    return encode_png(img)


def cameras_tile(session: Session, *, actor: Principal, z: int, x: int, y: int) -> bytes:
    bx0, by0, bx1, by1 = _metric_box(session, z, x, y)
    where = [Camera.x.between(bx0, bx1), Camera.y.between(by0, by1),
             visible_filter(session, actor)]  # fmt: skip
    stmt = select(Camera.x, Camera.y, Camera.network).where(*where)
    count = select(func.count()).select_from(Camera).where(*where)
    rows = session.execute(_sampled(stmt, Camera.id, session, count)).all()
    img = np.zeros((SIZE, SIZE, 4), dtype=np.uint8)
    if rows:
        xs = np.array([r[0] for r in rows], dtype=np.float64)
        ys = np.array([r[1] for r in rows], dtype=np.float64)
        nets = np.array([r[2] for r in rows], dtype=object)
        col, row, inside = _pixels(session, z, x, y, xs, ys)
        for net in sorted(set(nets.tolist())):
            m = inside & (nets == net)
            _paint(img, col[m], row[m], NETWORK_COLOURS.get(net, OTHER))
    return encode_png(img)
