"""The layers Pingan publishes, as GeoJSON features, each read within the caller's scope.

Every layer answers a ``Query`` (bbox, time interval, paging, its own
options) with one page of features and the number matched. The OGC API and
the file exports both read layers through here, so an export never holds
more than the same user could read over the API.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import shapely
from shapely.geometry import box, shape
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from pingan.alerts import service as alerts_service
from pingan.incidents import service as incidents_service
from pingan.incidents.models import Incident, IncidentType
from pingan.incidents.schemas import IncidentOut
from pingan.kit import jobs
from pingan.kit.errors import NotFound
from pingan.ogc.params import MAX_LIMIT, BadParameter, Query, parse_query
from pingan.org import service as org_service
from pingan.org.levels import Level
from pingan.org.models import OrgUnit
from pingan.org.permissions import Perm
from pingan.org.principal import Principal

Feature = dict[str, Any]
_S = TypeVar("_S", bound="Select[*tuple[Any, ...]]")


@dataclass(frozen=True)
class PageOfFeatures:
    features: list[Feature]
    matched: int


@dataclass(frozen=True)
class Layer:
    id: str
    title: str
    description: str
    perm: str
    geometry: str  # the GeoJSON geometry type of every feature
    temporal: bool
    options: tuple[str, ...]
    read: Callable[[Session, Principal, Query], PageOfFeatures]


def _page(features: Sequence[Feature], query: Query) -> PageOfFeatures:
    end = None if query.limit is None else query.offset + query.limit
    return PageOfFeatures(list(features[query.offset : end]), len(features))


def _in_bbox(features: list[Feature], query: Query) -> list[Feature]:
    if query.bbox is None:
        return features
    window = box(*query.bbox)
    return [
        f for f in features if f["geometry"] is not None and shape(f["geometry"]).intersects(window)
    ]


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _geojson(geom: Any) -> dict[str, Any] | None:
    return None if geom is None else dict(json.loads(shapely.to_geojson(geom)))


# --- org units -------------------------------------------------------------------------


def _org_units(session: Session, actor: Principal, query: Query) -> PageOfFeatures:
    raw_level = query.option("level")
    level = None
    if raw_level is not None:
        try:
            level = Level(raw_level)
        except ValueError:
            known = ", ".join(v.value for v in Level)
            raise BadParameter(
                f"unknown level {raw_level!r} (known: {known})", field="level"
            ) from None
    units = org_service.list_units(session, principal=actor, level=level, limit=10_000_000)
    features = [
        {
            "type": "Feature",
            "id": u.id,
            "geometry": _geojson(u.boundary),
            "properties": {
                "code": u.code,
                "level": u.level,
                "parent_id": u.parent_id,
                "name_zh": u.name_zh,
                "name_en": u.name_en,
                "area_km2": u.area_km2,
                "population": u.population,
                "households": u.households,
            },
        }
        for u in units
    ]
    return _page(_in_bbox(features, query), query)


# --- incidents, scoped points ----------------------------------------------------------


def _type_ids(session: Session, code: str | None) -> list[int] | None:
    if code is None:
        return None
    rows = session.execute(select(IncidentType.id, IncidentType.code)).all()
    ids = [tid for tid, c in rows if c == code or c.startswith(code + ".")]
    if not ids:
        raise BadParameter(f"unknown incident type {code!r}", field="type")
    return ids


def _incident_filter(stmt: _S, session: Session, actor: Principal, query: Query) -> _S:
    stmt = stmt.where(incidents_service.scope_clause(actor, Perm.INCIDENTS_READ))
    if query.bbox is not None:
        west, south, east, north = query.bbox
        stmt = stmt.where(
            Incident.lon >= west, Incident.lon <= east, Incident.lat >= south, Incident.lat <= north
        )
    if query.interval is not None:
        if query.interval.start is not None:
            stmt = stmt.where(Incident.occurred_at >= query.interval.start)
        if query.interval.end is not None:
            stmt = stmt.where(Incident.occurred_at <= query.interval.end)
    type_ids = _type_ids(session, query.option("type"))
    if type_ids is not None:
        stmt = stmt.where(Incident.type_id.in_(type_ids))
    return stmt


def _incidents(session: Session, actor: Principal, query: Query) -> PageOfFeatures:
    actor.require(Perm.INCIDENTS_READ)
    matched = session.scalar(
        _incident_filter(select(func.count(Incident.id)), session, actor, query)
    )
    stmt = _incident_filter(select(Incident), session, actor, query).order_by(Incident.id)
    stmt = stmt.offset(query.offset)
    if query.limit is not None:
        stmt = stmt.limit(query.limit)
    rows = incidents_service.to_out(session, session.scalars(stmt))
    return PageOfFeatures([_incident_feature(row) for row in rows], int(matched or 0))


def _incident_feature(row: IncidentOut) -> Feature:
    return {
        "type": "Feature",
        "id": row.id,
        "geometry": {"type": "Point", "coordinates": [row.lon, row.lat]},
        "properties": row.model_dump(mode="json", exclude={"id", "lon", "lat"}),
    }


# --- incidents, counted per grid -------------------------------------------------------


def _incident_counts(session: Session, actor: Principal, query: Query) -> PageOfFeatures:
    actor.require(Perm.INCIDENTS_READ)
    paths = [g.path for g in actor.grants_with(Perm.INCIDENTS_READ)]
    grids = [
        u
        for u in session.scalars(
            select(OrgUnit).where(OrgUnit.level == Level.GRID.value).order_by(OrgUnit.id)
        )
        if actor.is_system or any(u.path.startswith(p) for p in paths)
    ]
    # The bbox picks grids, not points: a grid's count is always its whole count.
    counted = _incident_filter(
        select(Incident.grid_id, func.count(Incident.id)),
        session,
        actor,
        Query(limit=None, interval=query.interval, extra=query.extra),
    ).group_by(Incident.grid_id)
    counts = {int(gid): int(n) for gid, n in session.execute(counted)}
    window = query.interval
    features = []
    for grid in grids:
        count = counts.get(grid.id, 0)
        rate = None if not grid.population else round(count * 10_000 / grid.population, 4)
        features.append(
            {
                "type": "Feature",
                "id": grid.id,
                "geometry": _geojson(grid.boundary),
                "properties": {
                    "code": grid.code,
                    "name_zh": grid.name_zh,
                    "name_en": grid.name_en,
                    "population": grid.population,
                    "count": count,
                    "per_10k": rate,
                    "since": _iso(window.start if window else None),
                    "until": _iso(window.end if window else None),
                    "type": query.option("type"),
                },
            }
        )
    return _page(_in_bbox(features, query), query)


# --- hotspots from stored analysis runs ------------------------------------------------

HOTSPOT_KIND = "analysis.hotspots"


def _city_wide_admin(session: Session, actor: Principal) -> bool:
    return org_service.holds_city_wide(session, actor, Perm.USERS_ADMIN)


def _visible_run(session: Session, job: jobs.Job, actor: Principal) -> bool:
    # Your own runs (made within your scope), or any run for a city-wide administrator:
    # a district administrator must not see another district's hot spots.
    if actor.is_system:
        return True
    requested = job.params_dict().get("requested_by") or {}
    if job.created_by == actor.actor or requested.get("username") == actor.username:
        return True
    return _city_wide_admin(session, actor)


def hotspot_run(session: Session, actor: Principal, run_id: str | None) -> jobs.Job | None:
    """The run asked for, or the newest finished hotspot run the actor may see."""
    stmt = select(jobs.Job).where(
        jobs.Job.kind == HOTSPOT_KIND, jobs.Job.status == jobs.JobStatus.SUCCEEDED
    )
    if run_id is not None:
        try:
            wanted = int(run_id)
        except ValueError:
            raise BadParameter(f"run must be a job id, got {run_id!r}", field="run") from None
        job = session.scalar(stmt.where(jobs.Job.id == wanted))
        if job is None or not _visible_run(session, job, actor):
            raise NotFound(f"hotspot run {wanted} not found")
        return job
    for job in session.scalars(stmt.order_by(jobs.Job.id.desc()).limit(200)):
        if _visible_run(session, job, actor):
            return job
    return None


def _hotspots(session: Session, actor: Principal, query: Query) -> PageOfFeatures:
    actor.require(Perm.INCIDENTS_READ)
    job = hotspot_run(session, actor, query.option("run"))
    if job is None:
        return PageOfFeatures([], 0)
    result = job.result_dict() or {}
    features = []
    for raw in result.get("features", []):
        props = {k: v for k, v in raw.get("properties", {}).items() if k != "id"}
        props["run_id"] = job.id
        features.append(
            {
                "type": "Feature",
                "id": raw.get("id"),
                "geometry": raw.get("geometry"),
                "properties": props,
            }
        )
    return _page(_in_bbox(features, query), query)


# --- alerts ------------------------------------------------------------------------------


def _alerts(session: Session, actor: Principal, query: Query) -> PageOfFeatures:
    interval = query.interval
    found = alerts_service.list_alerts(
        session,
        actor=actor,
        status=query.option("status"),
        method=query.option("method"),
        since=None if interval is None or interval.start is None else interval.start.date(),
        until=None if interval is None or interval.end is None else interval.end.date(),
        limit=10_000_000,
    )
    features = [
        {
            "type": "Feature",
            "id": a.id,
            "geometry": area,
            "properties": {
                "method": a.method,
                "status": a.status,
                "org_unit_id": a.org_unit_id,
                "incident_types": a.types_list(),
                "window_start": _iso(a.window_start),
                "window_end": _iso(a.window_end),
                "statistic": a.statistic,
                "p_value": a.p_value,
                "observed": a.observed,
                "expected": a.expected,
                "signal_count": a.signal_count,
                "updated_at": _iso(a.updated_at),
            },
        }
        for a, area in zip(found, alerts_service.area_geometries(session, found), strict=True)
    ]
    return _page(_in_bbox(features, query), query)


# --- cameras and street coverage --------------------------------------------------------

# Every feature in scope is read, then paged: clients should send a bbox at city scale.
_ALL = 100_000_000


def _cameras(session: Session, actor: Principal, query: Query) -> PageOfFeatures:
    from pingan.cameras.coverage import cameras_geojson

    actor.require(Perm.CAMERAS_READ)
    doc = cameras_geojson(session, actor=actor, bbox=query.bbox, limit=_ALL)
    return _page(doc["features"], query)


def _coverage(session: Session, actor: Principal, query: Query) -> PageOfFeatures:
    from pingan.cameras.coverage import segments_geojson

    raw = query.option("uncovered")
    if raw not in (None, "true", "false"):
        raise BadParameter("uncovered must be true or false", field="uncovered")
    doc = segments_geojson(
        session, actor=actor, bbox=query.bbox, uncovered_only=raw == "true", limit=_ALL
    )
    return _page(doc["features"], query)


LAYERS: dict[str, Layer] = {
    layer.id: layer
    for layer in (
        Layer(
            "org-units",
            "Org units",
            "City, districts, subdistricts, communities and grids in your scope (option: level).",
            Perm.ORG_READ,
            "MultiPolygon",
            False,
            ("level",),
            _org_units,
        ),
        Layer(
            "incidents",
            "Incidents",
            "Incident points in your scope (options: type, with its subtypes).",
            Perm.INCIDENTS_READ,
            "Point",
            True,
            ("type",),
            _incidents,
        ),
        Layer(
            "incident-counts",
            "Incidents per grid",
            "Incident counts and rates per 10,000 residents for each grid in your scope; "
            "datetime sets the counting window (options: type).",
            Perm.INCIDENTS_READ,
            "MultiPolygon",
            True,
            ("type",),
            _incident_counts,
        ),
        Layer(
            "hotspots",
            "Hotspots",
            "Locations of your newest stored hotspot run (option: run, a job id).",
            Perm.INCIDENTS_READ,
            "Polygon",
            False,
            ("run",),
            _hotspots,
        ),
        Layer(
            "cameras",
            "Cameras",
            "Camera locations and fields of view (heading, angle, range) in your scope.",
            Perm.CAMERAS_READ,
            "Point",
            False,
            (),
            _cameras,
        ),
        Layer(
            "coverage",
            "Street coverage",
            "Street segments with how many cameras see each (option: uncovered=true).",
            Perm.CAMERAS_READ,
            "LineString",
            False,
            ("uncovered",),
            _coverage,
        ),
        Layer(
            "alerts",
            "Early-warning alerts",
            "Alert areas in your scope (options: status, method).",
            Perm.INCIDENTS_READ,
            "MultiPolygon",
            True,
            ("status", "method"),
            _alerts,
        ),
    )
}


def get_layer(layer_id: str) -> Layer:
    if layer_id not in LAYERS:
        raise NotFound(f"collection {layer_id!r} not found (known: {', '.join(LAYERS)})")
    return LAYERS[layer_id]


def visible_layers(actor: Principal) -> list[Layer]:
    return [layer for layer in LAYERS.values() if actor.can(layer.perm)]


def read_feature(session: Session, actor: Principal, layer: Layer, feature_id: str) -> Feature:
    """One feature by id, within scope; out of scope reads as missing."""
    if layer.id == "incidents":
        try:
            wanted = int(feature_id)
        except ValueError:
            raise NotFound(f"feature {feature_id!r} not found") from None
        incident = incidents_service.get(session, incident_id=wanted, actor=actor)
        return _incident_feature(incidents_service.to_out(session, [incident])[0])
    for feature in layer.read(session, actor, Query(limit=None, extra={})).features:
        if str(feature["id"]) == feature_id:
            return feature
    raise NotFound(f"feature {feature_id!r} not found in {layer.id}")


def scope_extent(session: Session, actor: Principal) -> list[float] | None:
    """The lon/lat bounds of the units the actor's grants cover."""
    if actor.is_system:
        units = session.scalars(select(OrgUnit).where(OrgUnit.parent_id.is_(None))).all()
    else:
        ids = [g.unit_id for g in actor.grants]
        units = session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids))).all() if ids else []
    shapes = [u.boundary for u in units if u.boundary is not None]
    if not shapes:
        return None
    return [float(v) for v in shapely.union_all(shapes).bounds]


MAX_PAGE = MAX_LIMIT


def parse_layer_query(layer: Layer, params: dict[str, str]) -> Query:
    return parse_query(params, allowed_extra=layer.options)
