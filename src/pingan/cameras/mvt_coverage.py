"""The street-coverage vector tile: layer ``segments``, seen and blind street pieces.

Consecutive pieces of one road edge with the same state are merged into one
line, so a street seen end to end is one feature, not a hundred 10 m ones.
Properties: ``covered`` (1 when some active camera sees the piece, else 0),
``road_class`` and ``length_m``: the length of the line's pieces whose
midpoint lies in this tile, so that summing over the tiles of a zoom counts
every piece once (a line crossing a tile edge is drawn in both tiles).

What a tile holds depends on the zoom, because a whole-city tile of 10 m
pieces would be millions of lines no screen can show:

* from ``ALL_CLASSES_MIN_ZOOM`` on: every road class;
* from ``SEGMENTS_MIN_ZOOM``: the major classes only (``MAJOR_CLASSES``),
  simplified to a quarter pixel;
* below it: an empty layer (the PNG coverage tile shows the city overview).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session

from pingan.analytics.tiles import lonlat_to_mercator
from pingan.cameras.models import StreetSegment
from pingan.cameras.mvt import EXTENT, TileFrame, encode, inside
from pingan.org.models import OrgUnit
from pingan.org.permissions import Perm
from pingan.org.principal import Principal

SEGMENTS_MIN_ZOOM = 12
ALL_CLASSES_MIN_ZOOM = 14
MAJOR_CLASSES = ("motorway", "trunk", "primary", "secondary")
CLIP_BUFFER = 64  # tile units drawn past the edge, so line joins between tiles do not gap


def _scope(actor: Principal) -> list[ColumnElement[bool]]:
    if actor.is_system:
        return []
    grants = actor.grants_with(Perm.CAMERAS_READ)
    if not grants:
        return [false()]
    in_scope = select(OrgUnit.id).where(or_(*[OrgUnit.path.startswith(g.path) for g in grants]))
    return [StreetSegment.grid_id.in_(in_scope)]


def coverage_tile(session: Session, *, actor: Principal, z: int, x: int, y: int) -> bytes:
    """The ``segments`` layer of tile z/x/y."""
    actor.require(Perm.CAMERAS_READ)
    frame = TileFrame.of(session, z, x, y)
    if z < SEGMENTS_MIN_ZOOM:
        return encode("segments", [])
    box = frame.metric_box()
    assert box is not None  # SEGMENTS_MIN_ZOOM is above BOX_MIN_ZOOM
    bx0, by0, bx1, by1 = box
    where = [StreetSegment.x.between(bx0, bx1), StreetSegment.y.between(by0, by1), *_scope(actor)]
    if z < ALL_CLASSES_MIN_ZOOM:
        where.append(StreetSegment.road_class.in_(MAJOR_CLASSES))
    rows = session.execute(
        select(StreetSegment.edge_id, StreetSegment.seq, StreetSegment.cover_count,
               StreetSegment.road_class, StreetSegment.length_m, StreetSegment.geom,
               StreetSegment.x, StreetSegment.y)
        .where(*where)
        .order_by(StreetSegment.edge_id, StreetSegment.seq)
    ).all()  # fmt: skip
    if not rows:
        return encode("segments", [])
    return encode("segments", _runs(frame, rows, tolerance=4.0 if z < 16 else 1.0))


def _runs(frame: TileFrame, rows: Any, *, tolerance: float) -> list[dict[str, Any]]:
    """Merge consecutive same-state pieces of an edge into lines in tile units."""
    edge = np.array([r[0] for r in rows], dtype=np.int64)
    seq = np.array([r[1] for r in rows], dtype=np.int64)
    covered = np.array([r[2] > 0 for r in rows], dtype=bool)
    mid_u, mid_v = frame.to_tile(
        np.array([r[6] for r in rows], dtype=np.float64),
        np.array([r[7] for r in rows], dtype=np.float64),
    )
    length = np.where(inside(mid_u, mid_v), [r[4] for r in rows], 0.0)
    starts = np.ones(len(rows), dtype=bool)
    starts[1:] = (edge[1:] != edge[:-1]) | (seq[1:] != seq[:-1] + 1) | (covered[1:] != covered[:-1])
    run_of = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    coords, piece = shapely.get_coordinates([r[5] for r in rows], return_index=True)
    wx, wy = lonlat_to_mercator(coords[:, 0], coords[:, 1])
    x0, y0, x1, y1 = frame.bounds
    u = (wx - x0) / (x1 - x0) * EXTENT
    v = (y1 - wy) / (y1 - y0) * EXTENT
    merged = shapely.linestrings(np.column_stack([u, v]), indices=run_of[piece])
    lo, hi = -CLIP_BUFFER, EXTENT + CLIP_BUFFER
    clipped = shapely.clip_by_rect(shapely.simplify(merged, tolerance), lo, lo, hi, hi)
    lines: list[Any] = np.asarray(clipped, dtype=object).tolist()
    run_length = np.bincount(run_of, weights=length)
    features = []
    for i, line in enumerate(lines):
        if line.is_empty:
            continue
        row = rows[first[i]]
        features.append(
            {"geometry": line,
             "properties": {"covered": int(covered[first[i]]), "road_class": row[3],
                            "length_m": round(float(run_length[i]), 1)}}
        )  # fmt: skip
    return features
