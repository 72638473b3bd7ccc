"""Street segments and their cover counts: full rebuilds and one-camera updates.

The road network is cut into short pieces (10 m by default) stored with
their midpoint in metres, their grid and ``cover_count``, the number of
active cameras whose sector holds the midpoint. A full recompute runs the
vectorised join of ``analytics.coverage``; registering, moving or retiring
one camera adjusts only the pieces inside that camera's reach (a range
query on the ``(x, y)`` index), so nothing else is read or written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from pingan.analytics.coverage import (
    Sectors,
    covering_pairs,
    in_sector,
    split_lines,
    unobstructed,
)
from pingan.cameras.models import BuildingFootprint, Camera, CameraStatus, StreetSegment
from pingan.dispatch.models import RoadEdge
from pingan.kit import audit
from pingan.kit.db import Base
from pingan.kit.errors import NotFound
from pingan.org.principal import Principal
from pingan.org.service import grid_locator, require_projector

DEFAULT_PIECE_M = 10.0
_INSERT_CHUNK = 10_000
Progress = Callable[[int], None]


@dataclass(frozen=True)
class SectorSpec:
    """What coverage needs of one active camera."""

    x: float
    y: float
    heading_deg: float
    fov_deg: float
    range_m: float
    ptz: bool

    @classmethod
    def of_camera(cls, cam: Camera) -> SectorSpec | None:
        if cam.status != CameraStatus.ACTIVE.value:
            return None
        return cls(cam.x, cam.y, cam.heading_deg, cam.fov_deg, cam.range_m, bool(cam.ptz))

    @classmethod
    def of_values(cls, v: dict[str, Any]) -> SectorSpec | None:
        if v["status"] != CameraStatus.ACTIVE.value:
            return None
        return cls(v["x"], v["y"], v["heading_deg"], v["fov_deg"], v["range_m"], bool(v["ptz"]))

    def sectors(self) -> Sectors:
        return Sectors.build(
            [self.x], [self.y], [self.heading_deg], [self.fov_deg], [self.range_m], [self.ptz]
        )


def segment_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(StreetSegment)) or 0)


def build_segments(
    session: Session,
    *,
    actor: Principal,
    piece_m: float = DEFAULT_PIECE_M,
    progress: Progress | None = None,
) -> int:
    """Replace the street segments with a fresh cut of the road network, then count cover."""
    actor.require("cameras:write")
    rows = session.execute(
        select(RoadEdge.id, RoadEdge.road_class, RoadEdge.geom).order_by(RoadEdge.id)
    ).all()
    if not rows:
        raise NotFound("no road network: run `pingan sim city` or `pingan import roads`")
    proj = require_projector(session)
    edge_ids = np.array([r[0] for r in rows], dtype=np.int64)
    classes = np.array([r[1] for r in rows], dtype=object)
    lonlat_geoms = np.array([r[2] for r in rows], dtype=object)
    metric = shapely.transform(
        lonlat_geoms, lambda c: np.column_stack(proj.to_metric(c[:, 0], c[:, 1]))
    )
    pieces = split_lines(metric, piece_m)
    mid_lon, mid_lat = proj.to_lonlat(pieces.mid_x, pieces.mid_y)
    grids = grid_locator(session).locate(mid_lon, mid_lat)
    geoms = shapely.transform(
        pieces.geometries(), lambda c: np.column_stack(proj.to_lonlat(c[:, 0], c[:, 1]))
    )
    session.execute(delete(StreetSegment))
    total = len(pieces)
    # Core inserts of plain values (geometries already WKB): the ORM's bulk path
    # spends most of its time per row, which at city scale is minutes.
    wkb = shapely.to_wkb(geoms)
    edge_of = edge_ids[pieces.line].tolist()
    class_of = classes[pieces.line].tolist()
    grid_of = [None if g < 0 else g for g in grids.tolist()]
    seqs, lengths = pieces.seq.tolist(), pieces.length.tolist()
    xs, ys = pieces.mid_x.tolist(), pieces.mid_y.tolist()
    table = insert(Base.metadata.tables[StreetSegment.__tablename__])  # Core, not ORM bulk
    for start in range(0, total, _INSERT_CHUNK):
        stop = min(start + _INSERT_CHUNK, total)
        session.execute(
            table,
            [
                {"edge_id": edge_of[i], "seq": seqs[i], "road_class": class_of[i],
                 "length_m": lengths[i], "x": xs[i], "y": ys[i], "grid_id": grid_of[i],
                 "geom": bytes(wkb[i]), "cover_count": 0}
                for i in range(start, stop)
            ],
        )  # fmt: skip
        if progress is not None:
            progress(stop - start)
    session.flush()
    # Fresh segments start at 0; counting is only needed once cameras exist.
    any_camera = session.scalar(
        select(Camera.id).where(Camera.status == CameraStatus.ACTIVE.value).limit(1)
    )
    changed = recompute(session) if any_camera is not None else 0
    audit.record(
        session, actor=actor.actor, action="cameras.segments.build", object_type="street_segment",
        detail={"segments": total, "piece_m": piece_m, "covered_changed": changed},
    )  # fmt: skip
    return total


def active_sectors(session: Session) -> Sectors:
    rows = session.execute(
        select(Camera.x, Camera.y, Camera.heading_deg, Camera.fov_deg, Camera.range_m, Camera.ptz)
        .where(Camera.status == CameraStatus.ACTIVE.value)
    ).all()  # fmt: skip
    arr = np.array([r[:5] for r in rows], dtype=np.float64).reshape(-1, 5)
    ptz = np.array([bool(r[5]) for r in rows], dtype=bool)
    return Sectors.build(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3], arr[:, 4], ptz)


def segment_arrays(session: Session) -> dict[str, NDArray[Any]]:
    """Every segment as columns: id, x, y, length, grid id (-1 if none), class, count."""
    # Plain tuples straight from the driver's cursor: building result rows for
    # millions of segments costs more than the coverage join itself.
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(
            "SELECT id, x, y, length_m, grid_id, road_class, cover_count "
            "FROM camera_street_segments ORDER BY id"
        )
        rows = cursor.fetchall()
    finally:
        cursor.close()
    if not rows:
        cols: list[tuple[Any, ...]] = [()] * 7
    else:
        cols = list(zip(*rows, strict=True))
    return {
        "id": np.array(cols[0], dtype=np.int64),
        "x": np.array(cols[1], dtype=np.float64),
        "y": np.array(cols[2], dtype=np.float64),
        "length": np.array(cols[3], dtype=np.float64),
        "grid": np.array([-1 if g is None else g for g in cols[4]], dtype=np.int64),
        "road_class": np.array(cols[5], dtype=object),
        "count": np.array(cols[6], dtype=np.int64),
    }


def recompute(session: Session, *, workers: int = 1) -> int:
    """Recount every segment from scratch; writes only the counts that changed."""
    seg = segment_arrays(session)
    if len(seg["id"]) == 0:
        return 0
    sectors = active_sectors(session)
    cam, pt = covering_pairs(sectors, seg["x"], seg["y"], workers=workers)
    footprints = footprints_near(session)
    if len(footprints):
        keep = unobstructed(sectors.x[cam], sectors.y[cam], seg["x"][pt], seg["y"][pt], footprints)
        pt = pt[keep]
    counts = np.bincount(pt, minlength=len(seg["id"])).astype(np.int64)
    changed = np.flatnonzero(counts != seg["count"])
    _write_counts(session, seg["id"][changed], counts[changed])
    return len(changed)


def _write_counts(session: Session, ids: NDArray[np.int64], counts: NDArray[np.int64]) -> None:
    if len(ids) == 0:
        return
    stmt = (
        update(StreetSegment.__table__)  # type: ignore[arg-type]
        .where(StreetSegment.__table__.c.id == bindparam("b_id"))
        .values(cover_count=bindparam("b_count"))
    )
    params = [{"b_id": int(i), "b_count": int(c)} for i, c in zip(ids, counts, strict=True)]
    for start in range(0, len(params), _INSERT_CHUNK):
        session.execute(stmt, params[start : start + _INSERT_CHUNK])


def segments_seen(session: Session, spec: SectorSpec) -> NDArray[np.int64]:
    """Ids of the segments one camera sees: a box query on (x, y), then the sector test."""
    reach = spec.range_m
    rows = session.execute(
        select(StreetSegment.id, StreetSegment.x, StreetSegment.y).where(
            StreetSegment.x.between(spec.x - reach, spec.x + reach),
            StreetSegment.y.between(spec.y - reach, spec.y + reach),
        )
    ).all()
    if not rows:
        return np.zeros(0, dtype=np.int64)
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    px = np.array([r[1] for r in rows], dtype=np.float64)
    py = np.array([r[2] for r in rows], dtype=np.float64)
    keep = in_sector(spec.sectors(), np.zeros(len(ids), dtype=np.int64), px, py)
    ids, px, py = ids[keep], px[keep], py[keep]
    footprints = footprints_near(session, (spec.x, spec.y, reach))
    if len(footprints) and len(ids):
        n = len(ids)
        clear = unobstructed(np.full(n, spec.x), np.full(n, spec.y), px, py, footprints)
        ids = ids[clear]
    return ids


def apply_changes(
    session: Session,
    changes: Sequence[tuple[SectorSpec | None, SectorSpec | None]],
    *,
    limit: int | None = None,
) -> int:
    """Adjust cover counts for cameras that appeared, moved or went (before, after).

    Returns how many segment counts were touched. With more than ``limit``
    changes a full recompute is cheaper and is done instead.
    """
    real = [(b, a) for b, a in changes if b != a]
    if not real or segment_count_cached(session) == 0:
        return 0
    if limit is not None and len(real) > limit:
        return recompute(session)
    delta: dict[int, int] = {}
    for before, after in real:
        for spec, sign in ((before, -1), (after, 1)):
            if spec is None:
                continue
            for sid in segments_seen(session, spec).tolist():
                delta[sid] = delta.get(sid, 0) + sign
    touched = [(sid, d) for sid, d in delta.items() if d != 0]
    if touched:
        stmt = (
            update(StreetSegment.__table__)  # type: ignore[arg-type]
            .where(StreetSegment.__table__.c.id == bindparam("b_id"))
            .values(cover_count=StreetSegment.__table__.c.cover_count + bindparam("b_delta"))
        )
        session.execute(stmt, [{"b_id": sid, "b_delta": d} for sid, d in touched])
    return len(touched)


def segment_count_cached(session: Session) -> int:
    # One indexed probe: is there any segment at all?
    return 1 if session.scalar(select(StreetSegment.id).limit(1)) is not None else 0


# --- building footprints (optional occlusion) ----------------------------------


def footprints_near(
    session: Session, around: tuple[float, float, float] | None = None
) -> NDArray[np.object_]:
    """Footprints in metres: all of them, or those that can reach within r of (x, y)."""
    stmt = select(BuildingFootprint.geom)
    if around is not None:
        x, y, r = around
        widest = session.scalar(select(func.max(BuildingFootprint.reach)))
        if widest is None:
            return np.empty(0, dtype=object)
        pad = r + float(widest)
        stmt = stmt.where(
            BuildingFootprint.cx.between(x - pad, x + pad),
            BuildingFootprint.cy.between(y - pad, y + pad),
        )
    geoms = np.array(session.scalars(stmt).all(), dtype=object)
    if len(geoms) == 0:
        return geoms
    proj = require_projector(session)
    metric = shapely.transform(geoms, lambda c: np.column_stack(proj.to_metric(c[:, 0], c[:, 1])))
    return np.asarray(metric, dtype=object)


def load_footprints(
    session: Session, geoms: Sequence[Any], *, source: str, actor: Principal
) -> int:
    """Replace the footprints of ``source`` (lon/lat polygons) and recount coverage."""
    actor.require("cameras:write")
    proj = require_projector(session)
    session.execute(delete(BuildingFootprint).where(BuildingFootprint.source == source))
    rows = []
    for geom in geoms:
        metric = proj.geometry_to_metric(geom)
        x0, y0, x1, y1 = metric.bounds
        rows.append(
            {"source": source, "geom": geom, "cx": (x0 + x1) / 2, "cy": (y0 + y1) / 2,
             "reach": float(np.hypot(x1 - x0, y1 - y0)) / 2}
        )  # fmt: skip
    for start in range(0, len(rows), _INSERT_CHUNK):
        session.execute(insert(BuildingFootprint), rows[start : start + _INSERT_CHUNK])
    session.flush()
    changed = recompute(session)
    audit.record(
        session, actor=actor.actor, action="cameras.buildings.load", object_type="building",
        detail={"source": source, "footprints": len(rows), "segments_changed": changed},
    )  # fmt: skip
    return len(rows)
