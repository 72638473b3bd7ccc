"""Org units: creating the tree, reading it within scope, locating points.

Also owns the city's metric projection (stored in the meta table when the
first city is created) and the grid lookup used by incident intake.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from shapely import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Select, false, or_, select
from sqlalchemy.orm import Session

from pingan.kit import audit, meta
from pingan.kit.errors import NotFound, ValidationFailed
from pingan.kit.geo import PolygonIndex, Projector, utm_crs_for
from pingan.org.levels import LEVEL_ORDER, Level
from pingan.org.models import OrgUnit
from pingan.org.permissions import Perm
from pingan.org.principal import Principal

CRS_KEY = "city.crs"
ORG_VERSION_KEY = "org.version"


@dataclass
class UnitSpec:
    """A unit to create; ``parent_code`` names a unit created earlier or already stored."""

    level: Level
    code: str
    name_zh: str
    name_en: str
    boundary: BaseGeometry | None = None
    parent_code: str | None = None
    population: int | None = None
    households: int | None = None


def as_multipolygon(geom: BaseGeometry | None) -> MultiPolygon | None:
    if geom is None:
        return None
    if isinstance(geom, MultiPolygon):
        return geom
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    parts = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon | MultiPolygon)]
    polys: list[Polygon] = []
    for part in parts:
        polys.extend(part.geoms if isinstance(part, MultiPolygon) else [part])
    if not polys:
        raise ValidationFailed(
            f"boundary must be polygonal, got {geom.geom_type}", field="boundary"
        )
    return MultiPolygon(polys)


def add_units(session: Session, specs: Sequence[UnitSpec], *, actor: Principal) -> list[OrgUnit]:
    """Create units in one transaction; parents must come before children.

    Sets each unit's materialised path and area, and records one audit entry.
    """
    actor.require(Perm.ORG_WRITE)
    by_code: dict[str, OrgUnit] = {}
    created: list[OrgUnit] = []
    projector = city_projector(session, required=False)
    for spec in specs:
        parent = _resolve_parent(session, spec, by_code)
        boundary = as_multipolygon(spec.boundary)
        if projector is None and boundary is not None:
            centre = boundary.centroid
            set_city_crs(session, utm_crs_for(centre.x, centre.y))
            projector = city_projector(session)
        unit = OrgUnit(
            parent_id=None if parent is None else parent.id,
            level=spec.level.value,
            code=spec.code,
            name_zh=spec.name_zh,
            name_en=spec.name_en,
            boundary=boundary,
            area_km2=None
            if boundary is None or projector is None
            else projector.area_km2(boundary),
            population=spec.population,
            households=spec.households,
        )
        unit.parent = parent
        created.append(unit)
        by_code[spec.code] = unit
    session.add_all(created)
    session.flush()
    for unit in created:
        prefix = "/" if unit.parent is None else unit.parent.path
        unit.path = f"{prefix}{unit.id}/"
    session.flush()
    meta.bump_version(session, ORG_VERSION_KEY)
    audit.record(
        session,
        actor=actor.actor,
        action="org.units.create",
        object_type="org_unit",
        detail={"count": len(created), "codes": [u.code for u in created[:20]]},
    )
    return created


def _resolve_parent(
    session: Session, spec: UnitSpec, by_code: dict[str, OrgUnit]
) -> OrgUnit | None:
    if spec.level == Level.CITY:
        if spec.parent_code is not None:
            raise ValidationFailed("a city has no parent", field="parent_code")
        return None
    if spec.parent_code is None:
        raise ValidationFailed(f"a {spec.level} unit needs a parent", field="parent_code")
    parent = by_code.get(spec.parent_code) or session.scalar(
        select(OrgUnit).where(OrgUnit.code == spec.parent_code)
    )
    if parent is None:
        raise ValidationFailed(f"parent unit {spec.parent_code!r} not found", field="parent_code")
    expected = spec.level.parent
    if expected is None or parent.level != expected.value:
        raise ValidationFailed(
            f"a {spec.level} must sit under a {expected}, not a {parent.level}",
            field="parent_code",
        )
    return parent


def set_city_crs(session: Session, crs: str) -> None:
    meta.set_value(session, CRS_KEY, crs)


def city_projector(session: Session, *, required: bool = True) -> Projector | None:
    crs = meta.get_value(session, CRS_KEY)
    if crs is None:
        if required:
            raise NotFound(
                "no city has been set up yet: run `pingan sim city` or import boundaries"
            )
        return None
    return Projector(crs)


def require_projector(session: Session) -> Projector:
    projector = city_projector(session, required=True)
    assert projector is not None
    return projector


# --- reading -----------------------------------------------------------------


def scope_filter(stmt: Select[OrgUnit], principal: Principal, perm: str) -> Select[OrgUnit]:
    """Restrict a query on org units to the subtrees where ``perm`` is held."""
    if principal.is_system:
        return stmt
    grants = principal.grants_with(perm)
    if not grants:
        return stmt.where(false())
    return stmt.where(or_(*[OrgUnit.path.startswith(g.path) for g in grants]))


def holds_city_wide(session: Session, principal: Principal, perm: str) -> bool:
    """Whether ``perm`` is held over every root unit, i.e. over the whole city.

    Records that belong to no unit (the audit log, every user's jobs) are for
    such holders only: a district's administrator must not read the city's.
    """
    if principal.is_system:
        return True
    roots = session.scalars(select(OrgUnit.path).where(OrgUnit.parent_id.is_(None))).all()
    return bool(roots) and all(principal.can(perm, path) for path in roots)


def get_unit(session: Session, unit_id: int, *, principal: Principal) -> OrgUnit:
    unit = session.get(OrgUnit, unit_id)
    # Out of scope reads the same as missing: no hint that the unit exists.
    if unit is None or not principal.can(Perm.ORG_READ, unit.path):
        raise NotFound(f"org unit {unit_id} not found")
    return unit


def get_unit_by_code(session: Session, code: str) -> OrgUnit:
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if unit is None:
        raise NotFound(f"org unit {code!r} not found", field="code")
    return unit


def list_units(
    session: Session,
    *,
    principal: Principal,
    level: Level | None = None,
    parent_id: int | None = None,
    limit: int = 100,
    after_id: int | None = None,
) -> list[OrgUnit]:
    stmt = select(OrgUnit).order_by(OrgUnit.id).limit(limit)
    if level is not None:
        stmt = stmt.where(OrgUnit.level == level.value)
    if parent_id is not None:
        stmt = stmt.where(OrgUnit.parent_id == parent_id)
    if after_id is not None:
        stmt = stmt.where(OrgUnit.id > after_id)
    return list(session.scalars(scope_filter(stmt, principal, Perm.ORG_READ)))


def count_units(session: Session) -> dict[str, int]:
    from sqlalchemy import func

    rows = session.execute(select(OrgUnit.level, func.count()).group_by(OrgUnit.level)).all()
    counts = {level.value: 0 for level in LEVEL_ORDER}
    counts.update({str(level): int(n) for level, n in rows})
    return counts


# --- locating points ---------------------------------------------------------


@dataclass(frozen=True)
class GridLocator:
    """Grid lookup plus each grid's ancestors, for stamping incidents."""

    version: int
    index: PolygonIndex
    # grid id -> (community, subdistrict, district, city) ids
    ancestors: dict[int, tuple[int, int, int, int]]
    paths: dict[int, str]

    def locate(self, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.int64]:
        return self.index.locate(lon, lat)


_locator_lock = threading.Lock()
_locator_cache: dict[str, GridLocator] = {}


def grid_locator(session: Session) -> GridLocator:
    """The grid index for this database, rebuilt only when the org tree changed."""
    version = meta.get_version(session, ORG_VERSION_KEY)
    key = str(session.get_bind().engine.url)
    with _locator_lock:
        cached = _locator_cache.get(key)
        if cached is not None and cached.version == version:
            return cached
    rows = session.execute(
        select(OrgUnit.id, OrgUnit.path, OrgUnit.boundary)
        .where(OrgUnit.level == Level.GRID.value, OrgUnit.boundary.is_not(None))
        .order_by(OrgUnit.id)
    ).all()
    ancestors: dict[int, tuple[int, int, int, int]] = {}
    paths: dict[int, str] = {}
    for unit_id, path, _ in rows:
        ids = [int(p) for p in path.strip("/").split("/")]
        if len(ids) != len(LEVEL_ORDER):
            continue  # a grid not yet hung under a full tree cannot take incidents
        city, district, subdistrict, community, _grid = ids
        ancestors[unit_id] = (community, subdistrict, district, city)
        paths[unit_id] = path
    usable = [
        (uid, boundary) for uid, _, boundary in rows if uid in ancestors and boundary is not None
    ]
    locator = GridLocator(
        version=version,
        index=PolygonIndex([u for u, _ in usable], [b for _, b in usable]),
        ancestors=ancestors,
        paths=paths,
    )
    with _locator_lock:
        _locator_cache[key] = locator
    return locator
