"""Street segments and their cover counts: full rebuilds and one-camera updates.

The road network is cut into short pieces (10 m by default) stored with
their midpoint in metres, their grid and ``cover_count``, the number of
active cameras whose sector holds the midpoint. A full recompute runs the
vectorised join of ``analytics.coverage``; registering, moving or retiring
one camera adjusts only the pieces inside that camera's reach (a range
query on the ``(x, y)`` index), so nothing else is read or written.

``segment_arrays`` (every segment as columns, read by coverage reports,
briefings and planning) reads PostgreSQL with binary COPY and keeps the
arrays in process, keyed by a stamp that every writer of segments or counts
replaces (``SEGMENTS_VERSION_KEY``) and by the roads' version (deleting road
edges deletes their segments): a day of 28 briefings reads them once.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from sqlalchemy import bindparam, delete, event, func, insert, select, text, update
from sqlalchemy.orm import Session, SessionTransaction

from pingan.analytics.coverage import (
    Sectors,
    covering_pairs,
    in_sector,
    split_lines,
    unobstructed,
)
from pingan.cameras.models import BuildingFootprint, Camera, CameraStatus, StreetSegment
from pingan.dispatch.models import RoadEdge
from pingan.dispatch.roads import ROADS_VERSION_KEY
from pingan.kit import audit, commit_hooks, meta
from pingan.kit.db import WGS84, Base, is_postgres
from pingan.kit.errors import NotFound
from pingan.org.principal import Principal
from pingan.org.service import grid_locator, require_projector

DEFAULT_PIECE_M = 10.0
_INSERT_CHUNK = 10_000
# Counts per UPDATE ... FROM unnest(...) on PostgreSQL: one statement per chunk.
_UNNEST_CHUNK = 200_000
# Replaced (a fresh random value, never a counter: a rolled-back write's stamp must
# never come back for other data) by every write to segments or their counts.
SEGMENTS_VERSION_KEY = "cameras.segments.version"
_PENDING_STAMP = "pingan.cameras.segments.pending_stamp"
_PENDING_ARRAYS = "pingan.cameras.segments.pending_arrays"
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
    # Counted before the insert, so every segment is written once with its count.
    counts = cover_counts_at(session, pieces.mid_x, pieces.mid_y).tolist()
    columns = {
        "edge_id": edge_ids[pieces.line].tolist(),
        "seq": pieces.seq.tolist(),
        "road_class": classes[pieces.line].tolist(),
        "length_m": pieces.length.tolist(),
        "x": pieces.mid_x.tolist(),
        "y": pieces.mid_y.tolist(),
        "grid_id": [None if g < 0 else g for g in grids.tolist()],
        "cover_count": counts,
    }
    if is_postgres(session):
        _insert_by_copy(session, columns, geoms, progress)
    else:
        insert_segments_per_row(session, columns, geoms, progress)
    session.flush()
    mark_segments_changed(session)
    changed = sum(1 for c in counts if c)
    audit.record(
        session, actor=actor.actor, action="cameras.segments.build", object_type="street_segment",
        detail={"segments": total, "piece_m": piece_m, "covered_changed": changed},
    )  # fmt: skip
    return total


def insert_segments_per_row(
    session: Session,
    columns: dict[str, list[Any]],
    geoms: NDArray[np.object_],
    progress: Progress | None = None,
) -> None:
    """Core inserts of plain values, 10,000 rows a statement (SQLite's way)."""
    # Geometries already WKB: the ORM's bulk path spends most of its time per row.
    wkb = shapely.to_wkb(geoms)
    names = list(columns)
    table = insert(Base.metadata.tables[StreetSegment.__tablename__])  # Core, not ORM bulk
    total = len(geoms)
    for start in range(0, total, _INSERT_CHUNK):
        stop = min(start + _INSERT_CHUNK, total)
        session.execute(
            table,
            [
                {**{n: columns[n][i] for n in names}, "geom": bytes(wkb[i])}
                for i in range(start, stop)
            ],
        )
        if progress is not None:
            progress(stop - start)


def _insert_by_copy(
    session: Session,
    columns: dict[str, list[Any]],
    geoms: NDArray[np.object_],
    progress: Progress | None,
) -> None:
    """One COPY FROM STDIN: PostgreSQL parses the rows without a statement per batch."""
    # Hex EWKB carries the column's SRID; geometry_in reads it in COPY's text format.
    ewkb = shapely.to_wkb(shapely.set_srid(geoms, WGS84), hex=True, include_srid=True).tolist()
    names = list(columns)
    dbapi: Any = session.connection().connection.dbapi_connection
    statement = f"COPY {StreetSegment.__tablename__} ({', '.join(names)}, geom) FROM STDIN"
    values = [columns[n] for n in names]
    total = len(ewkb)
    with dbapi.cursor() as cursor, cursor.copy(statement) as copy:
        for start in range(0, total, _INSERT_CHUNK):
            stop = min(start + _INSERT_CHUNK, total)
            for i in range(start, stop):
                copy.write_row([*(v[i] for v in values), ewkb[i]])
            if progress is not None:
                progress(stop - start)


def active_sectors(session: Session) -> Sectors:
    rows = session.execute(
        select(Camera.x, Camera.y, Camera.heading_deg, Camera.fov_deg, Camera.range_m, Camera.ptz)
        .where(Camera.status == CameraStatus.ACTIVE.value)
    ).all()  # fmt: skip
    arr = np.array([r[:5] for r in rows], dtype=np.float64).reshape(-1, 5)
    ptz = np.array([bool(r[5]) for r in rows], dtype=bool)
    return Sectors.build(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3], arr[:, 4], ptz)


_cache_lock = threading.Lock()
# database URL -> (segments stamp, roads version, arrays); one entry per database.
_cache: dict[str, tuple[str, int, dict[str, NDArray[Any]]]] = {}


def mark_segments_changed(session: Session, current: dict[str, NDArray[Any]] | None = None) -> None:
    """Every writer of segments or cover counts calls this in its transaction.

    The new stamp is written as the transaction commits: written now, its row
    would stay locked to the commit and queue every other camera writer behind
    a long one. Until then this session reads the segments uncached. With
    ``current`` (the arrays as they stand after the write), the cache takes
    them at the commit instead of reading them again.
    """
    session.info[_PENDING_STAMP] = uuid.uuid4().hex
    session.info.pop(_PENDING_ARRAYS, None)  # any stashed arrays are out of date now
    if current is not None:
        url = str(session.get_bind().engine.url)
        roads = meta.get_version(session, ROADS_VERSION_KEY)
        session.info[_PENDING_ARRAYS] = (url, roads, current)


# Before the audit chain's hook, outside the lock every writer shares.
@commit_hooks.at_commit(commit_hooks.STAMPS)
def _write_pending_stamp(session: Session) -> None:
    stamp = session.info.get(_PENDING_STAMP)
    if stamp is not None:
        meta.set_value(session, SEGMENTS_VERSION_KEY, stamp)


@event.listens_for(Session, "after_commit")
def _cache_committed_arrays(session: Session) -> None:
    stamp = session.info.pop(_PENDING_STAMP, None)
    pending = session.info.pop(_PENDING_ARRAYS, None)
    if stamp is not None and pending is not None:
        url, roads, arrays = pending
        _remember(url, stamp, roads, arrays)


@event.listens_for(Session, "after_soft_rollback")
def _forget_pending(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_PENDING_STAMP, None)
        session.info.pop(_PENDING_ARRAYS, None)


def segment_arrays(session: Session) -> dict[str, NDArray[Any]]:
    """Every segment as columns: id, x, y, length, grid id (-1 if none), class, count.

    The arrays are shared between callers (read-only): take copies to change them.
    """
    if _PENDING_STAMP in session.info:
        # This transaction changed segments: what it sees is not committed yet.
        return read_segment_arrays(session)
    # The stamp is read before the rows: a write committed in between makes the
    # cache miss next time, never hold old rows under a new stamp.
    stamp = meta.get_value(session, SEGMENTS_VERSION_KEY)
    roads = meta.get_version(session, ROADS_VERSION_KEY)
    key = str(session.get_bind().engine.url)
    with _cache_lock:
        hit = _cache.get(key)
    if stamp is not None and hit is not None and hit[:2] == (stamp, roads):
        return dict(hit[2])
    arrays = read_segment_arrays(session)
    if stamp is not None:  # never stamped: segments written before stamps existed
        _remember(key, stamp, roads, arrays)
    return dict(arrays)


def _remember(key: str, stamp: str, roads: int, arrays: dict[str, NDArray[Any]]) -> None:
    for column in arrays.values():
        column.setflags(write=False)
    with _cache_lock:
        _cache[key] = (stamp, roads, arrays)


def read_segment_arrays(session: Session) -> dict[str, NDArray[Any]]:
    """The columns of ``segment_arrays`` from the database, uncached."""
    if is_postgres(session):
        return _read_copy(session)
    return _read_fetchall(session)


def _read_copy(session: Session) -> dict[str, NDArray[Any]]:
    from pingan.kit.pgbinary import copy_columns

    # Classes travel as their index in this list: COPY's numpy view needs fixed widths.
    classes = session.scalars(
        text("SELECT DISTINCT road_class FROM camera_street_segments ORDER BY 1")
    ).all()
    dbapi = session.connection().connection.dbapi_connection
    cols = copy_columns(
        dbapi,
        "SELECT id::int8, x::float8, y::float8, length_m::float8, "
        "coalesce(grid_id, -1)::int8, "
        "array_position(CAST(ARRAY[" + ",".join(["''"] + [_quote(c) for c in classes]) + "] "
        "AS text[]), road_class::text)::int4, cover_count::int4 "
        "FROM camera_street_segments ORDER BY id",
        [("id", "int8"), ("x", "float8"), ("y", "float8"), ("length", "float8"),
         ("grid", "int8"), ("road_class", "int4"), ("count", "int4")],
    )  # fmt: skip
    # array_position counts from 1, and the list starts with a placeholder: index = code - 1.
    names = np.array(["", *classes], dtype=object)
    return {
        "id": cols["id"].astype(np.int64),
        "x": cols["x"].astype(np.float64),
        "y": cols["y"].astype(np.float64),
        "length": cols["length"].astype(np.float64),
        "grid": cols["grid"].astype(np.int64),
        "road_class": names[cols["road_class"] - 1],
        "count": cols["count"].astype(np.int64),
    }


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _read_fetchall(session: Session) -> dict[str, NDArray[Any]]:
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


def cover_counts_at(
    session: Session, x: NDArray[np.float64], y: NDArray[np.float64], *, workers: int = 1
) -> NDArray[np.int64]:
    """How many active cameras see each point (buildings in the way excluded)."""
    if len(x) == 0:
        return np.zeros(0, dtype=np.int64)
    sectors = active_sectors(session)
    if len(sectors.x) == 0:
        return np.zeros(len(x), dtype=np.int64)
    cam, pt = covering_pairs(sectors, x, y, workers=workers)
    footprints = footprints_near(session)
    if len(footprints):
        keep = unobstructed(sectors.x[cam], sectors.y[cam], x[pt], y[pt], footprints)
        pt = pt[keep]
    return np.bincount(pt, minlength=len(x)).astype(np.int64)


def recompute(session: Session, *, workers: int = 1) -> int:
    """Recount every segment from scratch; writes only the counts that changed."""
    seg = segment_arrays(session)
    if len(seg["id"]) == 0:
        return 0
    counts = cover_counts_at(session, seg["x"], seg["y"], workers=workers)
    changed = np.flatnonzero(counts != seg["count"])
    if len(changed) == 0 and meta.get_value(session, SEGMENTS_VERSION_KEY) is not None:
        return 0
    write_counts(session, seg["id"][changed], counts[changed])
    # The arrays with the new counts are what the commit makes current: no re-read.
    mark_segments_changed(session, {**seg, "count": counts})
    return len(changed)


def write_counts(session: Session, ids: NDArray[np.int64], counts: NDArray[np.int64]) -> None:
    """Set the cover count of the segments ``ids``: in bulk on PostgreSQL."""
    if len(ids) == 0:
        return
    if is_postgres(session):
        # One UPDATE ... FROM unnest per chunk, instead of one UPDATE per segment.
        stmt = text(
            "UPDATE camera_street_segments AS s SET cover_count = c.n "
            "FROM unnest(CAST(:ids AS int8[]), CAST(:counts AS int4[])) AS c(id, n) "
            "WHERE s.id = c.id"
        )
        for start in range(0, len(ids), _UNNEST_CHUNK):
            stop = start + _UNNEST_CHUNK
            session.execute(
                stmt, {"ids": ids[start:stop].tolist(), "counts": counts[start:stop].tolist()}
            )
        return
    write_counts_per_row(session, ids, counts)


def write_counts_per_row(
    session: Session, ids: NDArray[np.int64], counts: NDArray[np.int64]
) -> None:
    """One UPDATE per segment (executemany): SQLite's way, and the benchmark's old path."""
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
        mark_segments_changed(session)
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
