"""Street coverage reports, coverage and blind-spot layers, within the caller's scope.

Every figure is a length of street: per org unit (grid up to district), per
road class, and around each key site. Weighting by incidents answers "what
share of last year's incidents happened on covered street": an incident
belongs to the nearest street segment within ``SNAP_M``; incidents farther
from every street are not on a street and are left out of that share.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from pingan.analytics.coverage import totals_by_group
from pingan.cameras.models import Camera, CameraStatus, StreetSegment
from pingan.cameras.schemas import AreaCoverage, ClassCoverage, CoverageReport, SiteCoverage
from pingan.cameras.streets import segment_arrays
from pingan.incidents.models import Incident
from pingan.kit.db import utcnow
from pingan.kit.errors import NotFound, ValidationFailed
from pingan.org.levels import LEVEL_ORDER, Level
from pingan.org.models import OrgUnit
from pingan.org.permissions import Perm
from pingan.org.principal import Principal
from pingan.org.service import require_projector
from pingan.places.models import Place

READ = Perm.CAMERAS_READ
SNAP_M = 25.0
NEAR_M = 50.0


def _units(session: Session) -> dict[int, tuple[str, str, str, str]]:
    rows = session.execute(select(OrgUnit.id, OrgUnit.code, OrgUnit.name_en, OrgUnit.level,
                                  OrgUnit.path)).all()  # fmt: skip
    return {int(r[0]): (r[1], r[2], r[3], r[4]) for r in rows}


def _grid_scope(actor: Principal, units: dict[int, tuple[str, str, str, str]]) -> set[int] | None:
    """Grid ids the actor may read coverage of; None means all (including no grid)."""
    if actor.is_system:
        return None
    grants = actor.grants_with(READ)
    if not grants:
        return set()
    return {
        uid
        for uid, (_c, _n, level, path) in units.items()
        if level == Level.GRID.value and any(path.startswith(g.path) for g in grants)
    }


def _in_scope(grid: NDArray[np.int64], scope: set[int] | None) -> NDArray[np.bool_]:
    if scope is None:
        return np.ones(len(grid), dtype=bool)
    return np.isin(grid, np.fromiter(scope, dtype=np.int64, count=len(scope)))


def _ancestor_at(
    grid: NDArray[np.int64], units: dict[int, tuple[str, str, str, str]], level: Level
) -> NDArray[np.int64]:
    depth = LEVEL_ORDER.index(level)
    lookup: dict[int, int] = {}
    for uid, (_c, _n, lvl, path) in units.items():
        if lvl == Level.GRID.value:
            ids = [int(p) for p in path.strip("/").split("/") if p]
            lookup[uid] = ids[depth] if depth < len(ids) else -1
    if not lookup or len(grid) == 0:
        return np.full(len(grid), -1, dtype=np.int64)
    # Vectorised over millions of segments: sorted grid ids, one searchsorted.
    keys = np.fromiter(lookup.keys(), dtype=np.int64, count=len(lookup))
    values = np.fromiter(lookup.values(), dtype=np.int64, count=len(lookup))
    order = np.argsort(keys)
    keys, values = keys[order], values[order]
    at = np.minimum(np.searchsorted(keys, grid), len(keys) - 1)
    return np.where(keys[at] == grid, values[at], -1)


def _factorize(values: NDArray[Any]) -> tuple[list[str], NDArray[np.int64]]:
    """Sorted distinct road classes and each segment's index among them.

    The same as ``np.unique(values, return_inverse=True)`` without sorting
    millions of Python strings: there are only a handful of classes.
    """
    names = sorted(set(values.tolist()))
    codes = np.zeros(len(values), dtype=np.int64)
    for j, name in enumerate(names[1:], start=1):
        codes[values == name] = j
    return names, codes


def incidents_since(session: Session, days: int, scope_grids: set[int] | None) -> dict[str, Any]:
    since = utcnow() - dt.timedelta(days=days)
    stmt = select(Incident.x, Incident.y, Incident.grid_id).where(Incident.occurred_at >= since)
    rows = session.execute(stmt).all()
    x = np.array([r[0] for r in rows], dtype=np.float64)
    y = np.array([r[1] for r in rows], dtype=np.float64)
    grid = np.array([-1 if r[2] is None else r[2] for r in rows], dtype=np.int64)
    keep = _in_scope(grid, scope_grids)
    return {"x": x[keep], "y": y[keep], "grid": grid[keep]}


def unit_street_coverage(
    session: Session, *, actor: Principal, unit_id: int
) -> tuple[float, float] | None:
    """(street metres, covered metres) in one org unit, within the actor's scope.

    The figure a briefing shows, as ``coverage_report`` has it for that unit,
    without the report's per-class, per-area and per-site work over every
    segment (minutes a briefing at full scale); None when the unit has no
    segment in scope.
    """
    actor.require(READ)
    seg = segment_arrays(session)
    if len(seg["id"]) == 0:
        raise NotFound("no street segments yet: run `pingan cameras coverage --rebuild`")
    units = _units(session)
    if unit_id not in units:
        raise NotFound(f"org unit {unit_id} not found", field="unit")
    scope = _grid_scope(actor, units)
    path = units[unit_id][3]
    grids = [
        uid
        for uid, (_c, _n, level, p) in units.items()
        if level == Level.GRID.value and p.startswith(path) and (scope is None or uid in scope)
    ]
    if not grids:
        return None
    # Per grid (ids shifted by one: -1 is "no grid"), then the unit's grids summed.
    shifted = seg["grid"] + 1
    size = max(int(shifted.max()), max(grids) + 1) + 1
    pieces = np.bincount(shifted, minlength=size)
    total = np.bincount(shifted, weights=seg["length"], minlength=size)
    seen = np.bincount(shifted, weights=np.where(seg["count"] > 0, seg["length"], 0.0),
                       minlength=size)  # fmt: skip
    at = np.asarray(grids, dtype=np.int64) + 1
    if int(pieces[at].sum()) == 0:
        return None
    return float(total[at].sum()), float(seen[at].sum())


def coverage_report(
    session: Session,
    *,
    actor: Principal,
    level: Level = Level.DISTRICT,
    incident_days: int | None = 365,
    site_radius_m: float = 150.0,
) -> CoverageReport:
    actor.require(READ)
    seg = segment_arrays(session)
    if len(seg["id"]) == 0:
        raise NotFound("no street segments yet: run `pingan cameras coverage --rebuild`")
    units = _units(session)
    scope = _grid_scope(actor, units)
    keep = _in_scope(seg["grid"], scope)
    seg = {k: v[keep] for k, v in seg.items()}
    covered = seg["count"] > 0
    length = seg["length"]

    areas = _area_rows(seg, covered, units, level)
    if incident_days is not None:
        _add_incident_shares(session, seg, covered, units, level, incident_days, scope, areas)

    classes = []
    class_names, class_codes = _factorize(seg["road_class"])
    for j, cls in enumerate(class_names):
        m = class_codes == j
        total, seen = float(length[m].sum()), float(length[m & covered].sum())
        classes.append(ClassCoverage(road_class=cls, total_m=total, covered_m=seen,
                                     share=seen / total if total else 0.0))  # fmt: skip
    sites = site_coverage(session, seg, radius_m=site_radius_m, scope=scope)
    active = int(
        session.scalar(
            select(func.count())
            .select_from(Camera)
            .where(Camera.status == CameraStatus.ACTIVE.value)
        )
        or 0
    )
    total, seen = float(length.sum()), float(length[covered].sum())
    return CoverageReport(
        segments=len(length), cameras=active, total_m=total, covered_m=seen,
        share=seen / total if total else 0.0, areas=areas, road_classes=classes, sites=sites,
    )  # fmt: skip


def _area_rows(
    seg: dict[str, NDArray[Any]],
    covered: NDArray[np.bool_],
    units: dict[int, tuple[str, str, str, str]],
    level: Level,
) -> list[AreaCoverage]:
    area = _ancestor_at(seg["grid"], units, level)
    keys, inverse = np.unique(area, return_inverse=True)
    total, seen = totals_by_group(inverse.astype(np.int64), seg["length"], covered, len(keys))
    # Area x road class in one pass: the pair's index is area * classes + class.
    names, cls = _factorize(seg["road_class"])
    nc = len(names)
    pair = inverse.astype(np.int64) * nc + cls.astype(np.int64)
    pair_total, pair_seen = totals_by_group(pair, seg["length"], covered, len(keys) * nc)
    out = []
    for k, uid in enumerate(keys.tolist()):
        if uid < 0:
            continue
        code, name, lvl, _path = units[uid]
        classes = [
            ClassCoverage(road_class=str(c), total_m=float(pair_total[k * nc + j]),
                          covered_m=float(pair_seen[k * nc + j]),
                          share=float(pair_seen[k * nc + j] / pair_total[k * nc + j]))
            for j, c in enumerate(names) if pair_total[k * nc + j] > 0
        ]  # fmt: skip
        out.append(
            AreaCoverage(org_unit_id=uid, code=code, name=name, level=lvl, total_m=float(total[k]),
                         covered_m=float(seen[k]),
                         share=float(seen[k] / total[k]) if total[k] else 0.0,
                         road_classes=classes)
        )  # fmt: skip
    return out


def _add_incident_shares(
    session: Session,
    seg: dict[str, NDArray[Any]],
    covered: NDArray[np.bool_],
    units: dict[int, tuple[str, str, str, str]],
    level: Level,
    days: int,
    scope: set[int] | None,
    areas: list[AreaCoverage],
) -> None:
    inc = incidents_since(session, days, scope)
    if len(inc["x"]) == 0 or len(seg["x"]) == 0:
        for a in areas:
            a.incidents, a.incidents_covered, a.incident_share = 0, 0, None
        return
    dist, nearest = cKDTree(np.column_stack([seg["x"], seg["y"]])).query(
        np.column_stack([inc["x"], inc["y"]]), distance_upper_bound=SNAP_M
    )
    on_street = np.isfinite(dist)
    on_covered = np.zeros(len(dist), dtype=bool)
    on_covered[on_street] = covered[nearest[on_street]]
    area = _ancestor_at(inc["grid"], units, level)
    for a in areas:
        m = (area == a.org_unit_id) & on_street
        n, c = int(m.sum()), int((m & on_covered).sum())
        a.incidents, a.incidents_covered = n, c
        a.incident_share = c / n if n else None


def site_coverage(
    session: Session,
    seg: dict[str, NDArray[Any]],
    *,
    radius_m: float,
    scope: set[int] | None,
) -> list[SiteCoverage]:
    proj = require_projector(session)
    places = session.execute(
        select(Place.id, Place.code, Place.name_en, Place.protection_level, Place.geom,
               Place.grid_id).order_by(Place.id)
    ).all()  # fmt: skip
    if not places or len(seg["x"]) == 0:
        return []
    tree = cKDTree(np.column_stack([seg["x"], seg["y"]]))
    out = []
    for pid, code, name, level, geom, grid_id in places:
        if scope is not None and grid_id not in scope:
            continue
        c = geom.centroid
        cx, cy = proj.to_metric(np.array([c.x]), np.array([c.y]))
        metric = proj.geometry_to_metric(geom)
        # An empty answer must still index as integers (a bare [] would be float).
        reach = radius_m + _extent(metric)
        idx = np.asarray(tree.query_ball_point([cx[0], cy[0]], r=reach), dtype=np.int64)
        if len(idx):
            near = shapely.dwithin(metric, shapely.points(seg["x"][idx], seg["y"][idx]), radius_m)
            idx = idx[near]
        length = seg["length"][idx]
        total = float(length.sum())
        seen = float(length[seg["count"][idx] >= 1].sum())
        backup = float(length[seg["count"][idx] >= 2].sum())
        out.append(
            SiteCoverage(place_id=pid, code=code, name=name, protection_level=level,
                         radius_m=radius_m, total_m=total, covered_m=seen,
                         share=seen / total if total else 0.0,
                         backup_share=backup / total if total else 0.0)
        )  # fmt: skip
    return out


def _extent(metric: BaseGeometry) -> float:
    x0, y0, x1, y1 = metric.bounds
    return float(np.hypot(x1 - x0, y1 - y0))


def parse_bbox(bbox: str | None) -> tuple[float, float, float, float] | None:
    if bbox is None:
        return None
    try:
        parts = [float(v) for v in bbox.split(",")]
    except ValueError:
        raise ValidationFailed(
            "bbox must be four numbers: lon0,lat0,lon1,lat1", field="bbox"
        ) from None
    if len(parts) != 4 or parts[0] >= parts[2] or parts[1] >= parts[3]:
        raise ValidationFailed("bbox must be lon0,lat0,lon1,lat1 with lon0<lon1, lat0<lat1",
                               field="bbox")  # fmt: skip
    return parts[0], parts[1], parts[2], parts[3]


def _scoped_segments(session: Session, actor: Principal) -> Any:
    stmt = select(StreetSegment)
    if actor.is_system:
        return stmt
    grants = actor.grants_with(READ)
    if not grants:
        return stmt.where(StreetSegment.id < 0)
    in_scope = select(OrgUnit.id).where(or_(*[OrgUnit.path.startswith(g.path) for g in grants]))
    return stmt.where(StreetSegment.grid_id.in_(in_scope))


def segments_geojson(
    session: Session,
    *,
    actor: Principal,
    bbox: tuple[float, float, float, float] | None,
    uncovered_only: bool = False,
    limit: int = 20_000,
) -> dict[str, Any]:
    """The coverage layer: street segments with how many cameras see each."""
    actor.require(READ)
    stmt = _scoped_segments(session, actor).order_by(StreetSegment.id)
    if bbox is not None:
        stmt = stmt.where(*_xy_box(session, bbox))
    if uncovered_only:
        stmt = stmt.where(StreetSegment.cover_count == 0)
    features = []
    for s in session.scalars(stmt.limit(limit)):
        features.append(
            {"type": "Feature", "id": s.id, "geometry": shapely.geometry.mapping(s.geom),
             "properties": {"cover_count": s.cover_count, "road_class": s.road_class,
                            "length_m": round(s.length_m, 2), "grid_id": s.grid_id}}
        )  # fmt: skip
    return {"type": "FeatureCollection", "features": features}


def _xy_box(session: Session, bbox: tuple[float, float, float, float]) -> list[Any]:
    proj = require_projector(session)
    lon0, lat0, lon1, lat1 = bbox
    xs, ys = proj.to_metric(np.array([lon0, lon1, lon0, lon1]), np.array([lat0, lat0, lat1, lat1]))
    return [
        StreetSegment.x.between(float(xs.min()), float(xs.max())),
        StreetSegment.y.between(float(ys.min()), float(ys.max())),
    ]


def blind_spots(
    session: Session,
    *,
    actor: Principal,
    bbox: tuple[float, float, float, float] | None = None,
    incident_days: int = 365,
    limit: int = 500,
) -> dict[str, Any]:
    """Uncovered segments, most incidents within ``NEAR_M`` first, then denser grids."""
    actor.require(READ)
    units = _units(session)
    scope = _grid_scope(actor, units)
    seg = segment_arrays(session)
    m = (seg["count"] == 0) & _in_scope(seg["grid"], scope)
    if bbox is not None:
        proj = require_projector(session)
        xs, ys = proj.to_metric(np.array([bbox[0], bbox[2]]), np.array([bbox[1], bbox[3]]))
        m &= (seg["x"] >= xs.min()) & (seg["x"] <= xs.max())
        m &= (seg["y"] >= ys.min()) & (seg["y"] <= ys.max())
    idx = np.flatnonzero(m)
    inc = incidents_since(session, incident_days, scope)
    near = np.zeros(len(idx), dtype=np.int64)
    if len(inc["x"]) and len(idx):
        tree = cKDTree(np.column_stack([inc["x"], inc["y"]]))
        near = tree.query_ball_point(
            np.column_stack([seg["x"][idx], seg["y"][idx]]), r=NEAR_M, return_length=True
        ).astype(np.int64)
    density = _grid_density(session)
    dens = np.array([density.get(int(g), 0.0) for g in seg["grid"][idx]], dtype=np.float64)
    order = np.lexsort((-dens, -near))[:limit]
    ids = seg["id"][idx][order]
    geoms = {
        s.id: s.geom
        for s in session.scalars(select(StreetSegment).where(StreetSegment.id.in_(ids.tolist())))
    }
    features = []
    for rank, k in enumerate(order.tolist(), start=1):
        sid = int(seg["id"][idx][k])
        features.append(
            {"type": "Feature", "id": sid, "geometry": shapely.geometry.mapping(geoms[sid]),
             "properties": {"rank": rank, "incidents_near": int(near[k]),
                            "population_per_km2": round(float(dens[k]), 1),
                            "road_class": str(seg["road_class"][idx][k]),
                            "length_m": round(float(seg["length"][idx][k]), 2),
                            "grid_id": int(seg["grid"][idx][k])}}
        )  # fmt: skip
    return {"type": "FeatureCollection", "features": features}


def _grid_density(session: Session) -> dict[int, float]:
    rows = session.execute(
        select(OrgUnit.id, OrgUnit.population, OrgUnit.area_km2).where(
            OrgUnit.level == Level.GRID.value
        )
    ).all()
    return {int(i): (p or 0) / a for i, p, a in rows if a}


def cameras_geojson(
    session: Session,
    *,
    actor: Principal,
    bbox: tuple[float, float, float, float] | None,
    sectors: bool = False,
    limit: int = 20_000,
) -> dict[str, Any]:
    """Cameras as points, or as their field-of-view sectors, for the map."""
    from pingan.analytics.coverage import sector_polygon
    from pingan.cameras.registry import list_cameras

    cams = list_cameras(session, actor=actor, bbox=bbox, limit=limit)
    proj = require_projector(session) if sectors else None
    features = []
    for c in cams:
        geom: BaseGeometry = c.location
        if proj is not None:
            half = 180.0 if c.ptz else c.fov_deg / 2
            geom = proj.geometry_to_lonlat(
                sector_polygon(c.x, c.y, c.heading_deg, half, c.range_m, steps=8)
            )
        features.append(
            {"type": "Feature", "id": c.id, "geometry": shapely.geometry.mapping(geom),
             "properties": {"owner_id": c.owner_id, "network": c.network, "status": c.status,
                            "heading_deg": c.heading_deg, "fov_deg": c.fov_deg,
                            "range_m": c.range_m, "ptz": c.ptz}}
        )  # fmt: skip
    return {"type": "FeatureCollection", "features": features}
