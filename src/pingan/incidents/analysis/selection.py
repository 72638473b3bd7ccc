"""Turning a request's filters into what to load: the cube filter and the study area.

The study area is where the analysis looks: the requested org unit, or else
the union of the units where the caller may read incidents (the whole city
for the system), cut to a key site or area when one is given. Cells and grids
outside it are not part of the answer, so an analyst never sees counts (or
zeros that would pass for counts) outside their scope.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from pingan.incidents.analysis.params import Filters
from pingan.incidents.cube import CubeFilter
from pingan.incidents.service import city_zone, to_utc
from pingan.incidents.taxonomy import type_table
from pingan.kit.errors import NotFound, ValidationFailed
from pingan.kit.geo import Projector
from pingan.org.levels import Level
from pingan.org.models import OrgUnit
from pingan.org.permissions import Perm
from pingan.org.principal import Principal
from pingan.org.service import get_unit, list_units, require_projector
from pingan.places.models import Place


@dataclass(frozen=True)
class Selection:
    """Resolved filters: the cube to load and the area the answer covers."""

    cube_filter: CubeFilter
    projector: Projector
    # Study area in metres (city CRS) and in lon/lat; None when no boundary is known.
    area_metric: BaseGeometry | None
    area_lonlat: BaseGeometry | None
    # Org paths the answer may cover; None means the whole tree.
    unit_paths: tuple[str, ...] | None
    described: dict[str, Any]

    @property
    def since(self) -> dt.datetime | None:
        return self.cube_filter.since

    @property
    def until(self) -> dt.datetime | None:
        return self.cube_filter.until


def utc_window(filters: Filters) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The filter's window in UTC (a naive time is read in the city's zone)."""
    zone = city_zone()
    since = None if filters.since is None else to_utc(filters.since, zone)
    until = None if filters.until is None else to_utc(filters.until, zone)
    if since is not None and until is not None and since >= until:
        raise ValidationFailed("the time window is empty: until must be after since", field="until")
    return since, until


def check_types(session: Session, codes: list[str]) -> tuple[str, ...]:
    """The codes, sorted and deduplicated; an unknown code is a ValidationFailed."""
    known = type_table(session)
    for code in codes:
        if not any(k == code or k.startswith(code + ".") for k in known):
            raise ValidationFailed(f"unknown incident type {code!r}", field="types")
    return tuple(sorted(set(codes)))


def resolve(
    session: Session,
    filters: Filters,
    *,
    actor: Principal,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> Selection:
    """Check every filter against the database and the caller's scope, before any work."""
    actor.require(Perm.INCIDENTS_READ)
    types = check_types(session, filters.types)
    projector = require_projector(session)
    described: dict[str, Any] = {
        "since": None if since is None else since.isoformat(),
        "until": None if until is None else until.isoformat(),
        "types": list(types),
        "org_unit": None,
        "place": None,
        "actor": actor.actor,
    }
    org_unit_id, org_level = None, None
    if filters.org_unit_id is not None:
        unit = _unit_in_scope(session, filters.org_unit_id, actor)
        org_unit_id, org_level = unit.id, unit.level
        scope = [(unit.path, unit.boundary)]
        described["org_unit"] = _describe_unit(unit)
    else:
        scope = _scope_areas(session, actor)
    paths = None if actor.is_system and filters.org_unit_id is None else tuple(p for p, _ in scope)
    area_metric = _union_metric([b for _, b in scope], projector)
    place_area, area_key = None, None
    if filters.place_id is not None:
        place = _place_in_scope(session, filters.place_id, actor)
        place_metric = projector.geometry_to_metric(place.geom)
        if filters.buffer_m > 0:
            place_metric = place_metric.buffer(filters.buffer_m)
        if place_metric.area <= 0:
            raise ValidationFailed(
                f"key site {place.id} is a point or a line: give buffer_m > 0", field="buffer_m"
            )
        place_area = projector.geometry_to_lonlat(place_metric)
        area_key = f"place:{place.id}:{filters.buffer_m:g}"
        area_metric = (
            place_metric if area_metric is None else area_metric.intersection(place_metric)
        )
        if area_metric.is_empty:
            raise ValidationFailed("the key site lies outside the org unit", field="place_id")
        described["place"] = {
            "id": place.id,
            "code": place.code,
            "name_en": place.name_en,
            "buffer_m": filters.buffer_m,
        }
    cube_filter = CubeFilter(
        since=since,
        until=until,
        types=types,
        org_unit_id=org_unit_id,
        org_level=org_level,
        area=place_area,
        area_key=area_key,
    )
    return Selection(
        cube_filter=cube_filter,
        projector=projector,
        area_metric=area_metric,
        area_lonlat=None if area_metric is None else projector.geometry_to_lonlat(area_metric),
        unit_paths=paths,
        described=described,
    )


def _describe_unit(unit: OrgUnit) -> dict[str, Any]:
    return {"id": unit.id, "code": unit.code, "name_en": unit.name_en, "level": unit.level}


def _unit_in_scope(session: Session, unit_id: int, actor: Principal) -> OrgUnit:
    """The unit, if the caller may read its incidents; otherwise it reads as missing."""
    try:
        unit = get_unit(session, unit_id, principal=actor)
    except NotFound:
        unit = None
    if unit is None or not actor.can(Perm.INCIDENTS_READ, unit.path):
        raise ValidationFailed(f"org unit {unit_id} not found", field="org_unit_id")
    return unit


def _scope_areas(session: Session, actor: Principal) -> list[tuple[str, BaseGeometry | None]]:
    """(path, boundary) of each unit where the caller may read incidents."""
    if actor.is_system:
        return [
            (u.path, u.boundary) for u in list_units(session, principal=actor, level=Level.CITY)
        ]
    areas: list[tuple[str, BaseGeometry | None]] = []
    for grant in actor.grants_with(Perm.INCIDENTS_READ):
        try:
            boundary = get_unit(session, grant.unit_id, principal=actor).boundary
        except NotFound:
            boundary = None  # incidents but not org units may be read there
        areas.append((grant.path, boundary))
    return areas


def _union_metric(
    boundaries: list[BaseGeometry | None], projector: Projector
) -> BaseGeometry | None:
    if not boundaries or any(b is None for b in boundaries):
        return None
    merged = shapely.union_all([b for b in boundaries if b is not None])
    return projector.geometry_to_metric(merged)


def _place_in_scope(session: Session, place_id: int, actor: Principal) -> Place:
    """The key site, if the caller may read places in its grid; otherwise it reads as missing."""
    place = session.get(Place, place_id)
    visible = place is not None and (actor.is_system or _grid_readable(session, place, actor))
    if place is None or not visible:
        raise ValidationFailed(f"key site {place_id} not found", field="place_id")
    return place


def _grid_readable(session: Session, place: Place, actor: Principal) -> bool:
    if place.grid_id is None:
        return False
    try:
        grid = get_unit(session, place.grid_id, principal=actor)
    except NotFound:
        return False
    return actor.can(Perm.PLACES_READ, grid.path)
