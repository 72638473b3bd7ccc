"""Importing a real city's own org polygons from GeoJSON or GeoPackage.

One file holds one level (city, district, subdistrict, community or grid).
Each feature carries ``code`` (required), ``name`` or ``name_zh``/``name_en``,
optionally ``parent_code``, ``population`` and ``households``; the code and
name property names can be remapped. A feature without a parent code is hung
under the unit of the parent level that contains its representative point.

When the database holds no unit at all of the parent level (a city's grids
imported on their own), the missing chain is created as placeholders that
cover the union of the imported polygons: a city ``CITY`` if there is no
city, then ``DISTRICT-IMPORTED``, ``SUBDISTRICT-IMPORTED`` and
``COMMUNITY-IMPORTED`` as needed, each named "(imported placeholder)".
Import the real upper levels first to avoid them.

Polygons are reprojected to EPSG:4326 and stored as MultiPolygons. Invalid
polygons are repaired with ``make_valid`` (and reported) unless repair is
off; features that cannot be used are reported by number. The import is
all or nothing: one bad feature and nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely import MultiPolygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.kit.errors import ValidationFailed
from pingan.kit.geo import PolygonIndex
from pingan.kit.vectorfile import Feature, FileRejected, open_layer
from pingan.org.levels import LEVEL_ORDER, Level
from pingan.org.models import OrgUnit
from pingan.org.principal import Principal
from pingan.org.service import UnitSpec, add_units, as_multipolygon

CITY_PLACEHOLDER = "CITY"
PLACEHOLDER_SUFFIX = "-IMPORTED"
_LEVEL_ZH = {
    Level.CITY: "市",
    Level.DISTRICT: "区",
    Level.SUBDISTRICT: "街道",
    Level.COMMUNITY: "社区",
    Level.GRID: "网格",
}
CODE_MAX = 50
NAME_MAX = 200


@dataclass(frozen=True)
class FeatureNote:
    """A problem with (or a repair to) one feature, by its number in the file."""

    number: int
    reason: str


class BoundaryImportFailed(ValidationFailed):
    """Some features were unusable; nothing was written."""

    def __init__(self, path: Path, unit: str, problems: list[FeatureNote]) -> None:
        super().__init__(
            f"{path.name}: {len(problems)} feature(s) rejected; nothing was imported",
            field="file",
        )
        self.unit = unit
        self.problems = problems


@dataclass
class BoundaryImport:
    level: Level
    unit: str  # "feature" (GeoJSON index from 0) or "fid" (GeoPackage)
    created: list[str] = field(default_factory=list)  # codes from the file
    placeholders: list[str] = field(default_factory=list)
    repaired: list[FeatureNote] = field(default_factory=list)


@dataclass
class _Candidate:
    number: int
    code: str
    name_zh: str
    name_en: str
    boundary: MultiPolygon
    parent_code: str | None
    population: int | None
    households: int | None


def import_boundaries(
    session: Session,
    path: Path,
    *,
    level: Level,
    actor: Principal,
    layer: str | None = None,
    code_field: str = "code",
    name_field: str = "name",
    parent_field: str = "parent_code",
    repair: bool = True,
) -> BoundaryImport:
    """Load one level of org units from ``path`` in the caller's transaction."""
    vector = open_layer(path, layer=layer)
    if vector.fields is not None and code_field not in vector.fields:
        raise FileRejected(f"{path.name}: missing required field {code_field!r}", field=code_field)
    outcome = BoundaryImport(level=level, unit=vector.unit)
    candidates: list[_Candidate] = []
    problems: list[FeatureNote] = []
    for feature in vector.features:
        parsed = _candidate(feature, code_field, name_field, parent_field, repair, outcome)
        if isinstance(parsed, str):
            problems.append(FeatureNote(feature.number, parsed))
        else:
            candidates.append(parsed)
    if not candidates and not problems:
        raise FileRejected(f"{path.name} holds no features", field="file")
    problems += _duplicate_codes(session, candidates)
    specs, parent_problems = _plan_parents(session, candidates, level, parent_field)
    problems += parent_problems
    if problems:
        raise BoundaryImportFailed(path, vector.unit, sorted(problems, key=lambda p: p.number))
    outcome.placeholders = [s.code for s in specs]
    specs += [
        UnitSpec(
            level=level,
            code=c.code,
            name_zh=c.name_zh,
            name_en=c.name_en,
            boundary=c.boundary,
            parent_code=c.parent_code,
            population=c.population,
            households=c.households,
        )
        for c in candidates
    ]
    add_units(session, specs, actor=actor)
    outcome.created = [c.code for c in candidates]
    return outcome


# --- one feature --------------------------------------------------------------


def _candidate(
    feature: Feature,
    code_field: str,
    name_field: str,
    parent_field: str,
    repair: bool,
    outcome: BoundaryImport,
) -> _Candidate | str:
    """The unit a feature describes, or the reason it cannot be used."""
    if feature.error is not None:
        return feature.error
    props = feature.properties
    code = _text(props.get(code_field))
    if code is None:
        return f"no {code_field!r}"
    if len(code) > CODE_MAX:
        return f"code {code!r} is longer than {CODE_MAX} characters"
    name = _text(props.get(name_field))
    name_zh = _text(props.get("name_zh")) or name or code
    name_en = _text(props.get("name_en")) or name or code
    if max(len(name_zh), len(name_en)) > NAME_MAX:
        return f"name is longer than {NAME_MAX} characters"
    counts: dict[str, int | None] = {}
    for key in ("population", "households"):
        value = props.get(key)
        counts[key] = _count(value)
        if value not in (None, "") and counts[key] is None:
            return f"{key} must be a whole number >= 0, got {value!r}"
    boundary = _polygonal(feature.geometry, repair)
    if isinstance(boundary, str):
        return boundary
    if feature.geometry is not None and not feature.geometry.is_valid:
        outcome.repaired.append(FeatureNote(feature.number, f"repaired invalid polygon ({code})"))
    return _Candidate(
        number=feature.number,
        code=code,
        name_zh=name_zh,
        name_en=name_en,
        boundary=boundary,
        parent_code=_text(props.get(parent_field)),
        population=counts["population"],
        households=counts["households"],
    )


def _polygonal(geom: BaseGeometry | None, repair: bool) -> MultiPolygon | str:
    if geom is None or geom.is_empty:
        return "has no geometry"
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        return f"geometry must be a Polygon or MultiPolygon, got {geom.geom_type}"
    if not geom.is_valid:
        why = shapely.is_valid_reason(geom)
        if not repair:
            return f"invalid polygon: {why}"
        # make_valid may return a collection; keep its polygonal parts only.
        fixed = shapely.make_valid(geom)
        try:
            multi = as_multipolygon(fixed)
        except ValidationFailed:
            return f"invalid polygon that cannot be repaired: {why}"
        if multi is None or multi.is_empty or multi.area == 0:
            return f"invalid polygon that cannot be repaired: {why}"
        return multi
    multi = as_multipolygon(geom)
    assert multi is not None
    if multi.area == 0:
        return "polygon has no area"
    return multi


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # GIS tools often store numeric codes as reals
    text = str(value).strip()
    return text or None


def _count(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not number.is_integer() or number < 0:
        return None
    return int(number)


# --- the file as a whole --------------------------------------------------------


def _duplicate_codes(session: Session, candidates: list[_Candidate]) -> list[FeatureNote]:
    problems: list[FeatureNote] = []
    first: dict[str, int] = {}
    for c in candidates:
        if c.code in first:
            problems.append(
                FeatureNote(c.number, f"code {c.code!r} repeats feature {first[c.code]}")
            )
        else:
            first[c.code] = c.number
    stored = _stored_codes(session, list(first))
    problems += [
        FeatureNote(c.number, f"code {c.code!r} already exists")
        for c in candidates
        if c.code in stored and first[c.code] == c.number
    ]
    return problems


def _stored_codes(session: Session, codes: list[str]) -> dict[str, str]:
    """Code -> level of the stored units among ``codes``."""
    found: dict[str, str] = {}
    for start in range(0, len(codes), 1000):
        rows = session.execute(
            select(OrgUnit.code, OrgUnit.level).where(OrgUnit.code.in_(codes[start : start + 1000]))
        )
        found.update({code: unit_level for code, unit_level in rows})
    return found


def _plan_parents(
    session: Session, candidates: list[_Candidate], level: Level, parent_field: str
) -> tuple[list[UnitSpec], list[FeatureNote]]:
    """Give every candidate a parent code; returns the placeholder units needed, and problems."""
    if level == Level.CITY:
        return [], [
            FeatureNote(c.number, "a city has no parent unit") for c in candidates if c.parent_code
        ]
    needs_placeholder, problems = _assign_parents(session, candidates, level, parent_field)
    if not needs_placeholder:
        return [], problems
    placeholders = _placeholder_chain(session, candidates, level)
    codes = {s.code for s in placeholders}
    problems += [
        FeatureNote(c.number, f"code {c.code!r} is reserved for a placeholder unit")
        for c in candidates
        if c.code in codes
    ]
    return placeholders, problems


def _assign_parents(
    session: Session, candidates: list[_Candidate], level: Level, parent_field: str
) -> tuple[bool, list[FeatureNote]]:
    """Fill parent codes by code or containment; True if a placeholder parent is needed."""
    parent_level = level.parent
    assert parent_level is not None
    problems: list[FeatureNote] = []
    named = [c for c in candidates if c.parent_code is not None]
    stored = _stored_codes(session, sorted({c.parent_code for c in named if c.parent_code}))
    for c in named:
        found = stored.get(c.parent_code or "")
        if found is None:
            problems.append(FeatureNote(c.number, f"parent {c.parent_code!r} not found"))
        elif found != parent_level.value:
            problems.append(
                FeatureNote(
                    c.number, f"parent {c.parent_code!r} is a {found}, not a {parent_level}"
                )
            )
    unnamed = [c for c in candidates if c.parent_code is None]
    if not unnamed:
        return False, problems
    if not _has_units(session, parent_level):
        for c in unnamed:
            c.parent_code = _placeholder_code(parent_level)
        return True, problems
    parents = _units_at(session, parent_level)
    codes = [code for code, _ in parents]
    index = PolygonIndex(range(len(parents)), [boundary for _, boundary in parents])
    points = shapely.point_on_surface(np.array([c.boundary for c in unnamed], dtype=object))
    found_at = index.locate(shapely.get_x(points), shapely.get_y(points))
    for c, pos in zip(unnamed, found_at, strict=True):
        if pos < 0:
            problems.append(
                FeatureNote(c.number, f"lies in no {parent_level} unit; give its {parent_field!r}")
            )
        else:
            c.parent_code = codes[int(pos)]
    return False, problems


def _units_at(session: Session, level: Level) -> list[tuple[str, BaseGeometry]]:
    """Code and boundary of the stored units at ``level`` that have a boundary."""
    rows = session.execute(
        select(OrgUnit.code, OrgUnit.boundary)
        .where(OrgUnit.level == level.value)
        .order_by(OrgUnit.id)
    )
    return [(code, boundary) for code, boundary in rows if boundary is not None]


def _has_units(session: Session, level: Level) -> bool:
    return (
        session.scalar(select(OrgUnit.id).where(OrgUnit.level == level.value).limit(1)) is not None
    )


def _placeholder_code(level: Level) -> str:
    return CITY_PLACEHOLDER if level == Level.CITY else f"{level.value.upper()}{PLACEHOLDER_SUFFIX}"


def _placeholder_chain(
    session: Session, candidates: Iterable[_Candidate], level: Level
) -> list[UnitSpec]:
    """Placeholder units from below the deepest populated level down to ``level``'s parent."""
    union = as_multipolygon(shapely.union_all([c.boundary for c in candidates]))
    assert union is not None
    missing: list[Level] = []
    anchor: str | None = None
    for upper in reversed(LEVEL_ORDER[: level.depth]):
        if _has_units(session, upper):
            anchor = _containing_unit(session, upper, union)
            break
        missing.append(upper)
    specs: list[UnitSpec] = []
    for placeholder_level in reversed(missing):
        code = _placeholder_code(placeholder_level)
        specs.append(
            UnitSpec(
                level=placeholder_level,
                code=code,
                name_zh=f"导入占位{_LEVEL_ZH[placeholder_level]}",
                name_en=f"{placeholder_level.value.title()} (imported placeholder)",
                boundary=union,
                parent_code=anchor,
            )
        )
        anchor = code
    return specs


def _containing_unit(session: Session, level: Level, area: MultiPolygon) -> str:
    units = _units_at(session, level)
    point = area.representative_point()
    for code, boundary in units:
        if boundary.covers(point):
            return code
    raise ValidationFailed(
        f"the imported area lies in no {level} unit; import the levels above it first",
        field="file",
    )
