"""Importing org polygons: parents by code or containment, placeholders, CRS, validity."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from pyogrio import raw
from pyproj import Transformer
from shapely import MultiPolygon, box
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from pingan.incidents import service as incidents
from pingan.kit import meta
from pingan.kit.db import session_scope
from pingan.kit.vectorfile import FileRejected
from pingan.org.boundaries import BoundaryImportFailed, import_boundaries
from pingan.org.levels import Level
from pingan.org.models import OrgUnit
from pingan.org.principal import Principal
from pingan.org.service import CRS_KEY, grid_locator
from tests.citykit import TestCity, unit

SYSTEM = Principal.system("test")
TO_MERCATOR = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
# A bow tie: two triangles touching at a point, drawn as one self-crossing ring.
BOW_TIE = shapely.Polygon([(120.0, 30.0), (120.01, 30.01), (120.01, 30.0), (120.0, 30.01)])
# All four corners on one line: no area to keep.
FLAT = shapely.Polygon([(120.0, 30.0), (120.01, 30.0), (120.02, 30.0), (120.0, 30.0)])


def _geojson(
    tmp_path: Path, features: Sequence[tuple[BaseGeometry | None, Mapping[str, Any]]]
) -> Path:
    path = tmp_path / "units.geojson"
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": None if geom is None else mapping(geom),
                "properties": props,
            }
            for geom, props in features
        ],
    }
    path.write_text(json.dumps(doc, ensure_ascii=False))
    return path


def _units(session: Session) -> dict[str, OrgUnit]:
    return {u.code: u for u in session.scalars(select(OrgUnit))}


def test_grids_alone_get_a_placeholder_chain(session: Session, tmp_path: Path) -> None:
    """A real city's grids imported into an empty database."""
    grids: list[tuple[BaseGeometry | None, dict[str, Any]]] = [
        (box(116.39, 39.90, 116.40, 39.91), {"code": "110101001", "name": "东华门网格一"}),
        (box(116.40, 39.90, 116.41, 39.91), {"code": "110101002", "name_zh": "东华门网格二",
                                             "name_en": "Donghuamen 2", "population": 3120,
                                             "households": "1040"}),
    ]  # fmt: skip
    result = import_boundaries(session, _geojson(tmp_path, grids), level=Level.GRID, actor=SYSTEM)
    assert result.created == ["110101001", "110101002"]
    assert result.placeholders == [
        "CITY", "DISTRICT-IMPORTED", "SUBDISTRICT-IMPORTED", "COMMUNITY-IMPORTED",
    ]  # fmt: skip
    units = _units(session)
    city = units["CITY"]
    assert city.level == "city" and city.parent_id is None
    assert city.boundary is not None
    assert city.boundary.equals(box(116.39, 39.90, 116.41, 39.91))
    assert units["COMMUNITY-IMPORTED"].name_en == "Community (imported placeholder)"
    grid = units["110101002"]
    assert isinstance(grid.boundary, MultiPolygon)
    assert (grid.name_zh, grid.name_en, grid.population, grid.households) == (
        "东华门网格二", "Donghuamen 2", 3120, 1040,
    )  # fmt: skip
    assert units["110101001"].name_en == "东华门网格一"  # the one name serves both
    assert grid.path.count("/") == 6 and grid.parent_id == units["COMMUNITY-IMPORTED"].id
    assert grid.area_km2 == pytest.approx(0.855 * 1.112, rel=0.01)
    assert meta.get_value(session, CRS_KEY) == "EPSG:32650"
    # The grids take incidents at once.
    assert len(grid_locator(session).index) == 2
    taken = incidents.intake_batch(
        session,
        rows=[{"type": "fire", "occurred_at": "2026-03-01T08:00:00Z", "lon": 116.405,
               "lat": 39.905}],
        actor=SYSTEM,
    )  # fmt: skip
    assert len(taken.accepted) == 1


def test_parents_by_code_and_by_containment(
    session: Session, city: TestCity, tmp_path: Path
) -> None:
    grids = [
        (box(120.000, 30.00, 120.005, 30.01), {"code": "G-W", "parent_code": "MW"}),
        (box(120.030, 30.00, 120.035, 30.01), {"code": "G-E"}),  # inside community ME
        (box(120.015, 30.01, 120.020, 30.02), {"code": "G-W2"}),  # inside MW
    ]
    result = import_boundaries(session, _geojson(tmp_path, grids), level=Level.GRID, actor=SYSTEM)
    assert result.placeholders == []
    assert unit(session, "G-W").parent_id == city.id("MW")
    assert unit(session, "G-E").parent_id == city.id("ME")
    assert unit(session, "G-W2").parent_id == city.id("MW")
    assert unit(session, "G-E").path.startswith(unit(session, "ME").path)


def test_web_mercator_geopackage_with_mapped_fields(
    session: Session, city: TestCity, tmp_path: Path
) -> None:
    districts = [box(120.00, 30.00, 120.01, 30.02), box(120.02, 30.00, 120.03, 30.02)]
    mercator = [
        shapely.transform(d, lambda xy: np.column_stack(TO_MERCATOR.transform(xy[:, 0], xy[:, 1])))
        for d in districts
    ]
    path = tmp_path / "districts.gpkg"
    raw.write(
        path,
        np.asarray(shapely.to_wkb(mercator), dtype=object),
        [
            np.array(["330101", "330102"], dtype=object),
            np.array(["上城区", "下城区"], dtype=object),
        ],
        ["DIST_CODE", "DIST_NAME"],
        layer="districts",
        driver="GPKG",
        geometry_type="Polygon",
        crs="EPSG:3857",
    )
    result = import_boundaries(
        session, path, level=Level.DISTRICT, actor=SYSTEM,
        code_field="DIST_CODE", name_field="DIST_NAME",
    )  # fmt: skip
    assert result.unit == "fid" and result.created == ["330101", "330102"]
    stored = unit(session, "330102")
    assert stored.name_zh == "下城区" and stored.parent_id == city.id("C")
    assert isinstance(stored.boundary, MultiPolygon)
    assert stored.boundary.bounds == pytest.approx(districts[1].bounds, abs=1e-9)


def test_invalid_polygons_are_repaired_or_rejected(session: Session, tmp_path: Path) -> None:
    path = _geojson(tmp_path, [(BOW_TIE, {"code": "BT"})])
    with pytest.raises(BoundaryImportFailed) as caught:
        import_boundaries(session, path, level=Level.CITY, actor=SYSTEM, repair=False)
    [problem] = caught.value.problems
    assert problem.number == 0 and problem.reason.startswith("invalid polygon: Self-intersection")
    result = import_boundaries(session, path, level=Level.CITY, actor=SYSTEM)
    assert [n.number for n in result.repaired] == [0]
    repaired = unit(session, "BT").boundary
    assert isinstance(repaired, MultiPolygon) and repaired.is_valid and len(repaired.geoms) == 2
    assert repaired.area == pytest.approx(0.00005)


def test_one_bad_feature_and_nothing_is_written(
    engine: Engine, city: TestCity, tmp_path: Path
) -> None:
    features: list[tuple[BaseGeometry | None, dict[str, Any]]] = [
        (box(120.000, 30.00, 120.005, 30.01), {"code": "OK1"}),  # 0 fine
        (box(120.005, 30.00, 120.010, 30.01), {"code": "OK1"}),  # 1 repeats feature 0
        (box(120.010, 30.00, 120.015, 30.01), {"code": "W1"}),  # 2 already stored
        (box(120.015, 30.00, 120.020, 30.01), {"code": "X3", "parent_code": "NOPE"}),  # 3
        (box(120.015, 30.00, 120.020, 30.01), {"code": "X4", "parent_code": "DW"}),  # 4
        (box(121.500, 30.00, 121.510, 30.01), {"code": "X5"}),  # 5 outside every community
        (FLAT, {"code": "X6"}),  # 6 no area, cannot be repaired
        (None, {"code": "X7"}),  # 7 no geometry
        (box(120.000, 30.00, 120.005, 30.01), {"name": "no code"}),  # 8
        (shapely.LineString([(120.0, 30.0), (120.01, 30.01)]), {"code": "X9"}),  # 9
        (box(120.020, 30.00, 120.025, 30.01), {"code": "X10", "population": "many"}),  # 10
        (box(120.025, 30.00, 120.030, 30.01), {"code": "OK11"}),  # 11 fine
    ]
    with session_scope(engine) as session:
        before = session.scalar(select(func.count(OrgUnit.id)))
    with pytest.raises(BoundaryImportFailed) as caught, session_scope(engine) as session:
        import_boundaries(session, _geojson(tmp_path, features), level=Level.GRID, actor=SYSTEM)
    reasons = {p.number: p.reason for p in caught.value.problems}
    assert sorted(reasons) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert reasons[1] == "code 'OK1' repeats feature 0"
    assert reasons[2] == "code 'W1' already exists"
    assert reasons[3] == "parent 'NOPE' not found"
    assert reasons[4] == "parent 'DW' is a district, not a community"
    assert reasons[5].startswith("lies in no community unit")
    assert "cannot be repaired" in reasons[6]
    assert reasons[7] == "has no geometry"
    assert reasons[8] == "no 'code'"
    assert "got LineString" in reasons[9]
    assert "population must be a whole number" in reasons[10]
    with session_scope(engine) as session:
        assert session.scalar(select(func.count(OrgUnit.id))) == before


def test_a_city_has_no_parent(session: Session, tmp_path: Path) -> None:
    path = _geojson(tmp_path, [(box(120, 30, 120.1, 30.1), {"code": "C", "parent_code": "X"})])
    with pytest.raises(BoundaryImportFailed) as caught:
        import_boundaries(session, path, level=Level.CITY, actor=SYSTEM)
    assert [(p.number, p.reason) for p in caught.value.problems] == [
        (0, "a city has no parent unit")
    ]


def test_missing_code_field_in_a_geopackage_names_it(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "grids.gpkg"
    raw.write(
        path,
        np.asarray(shapely.to_wkb([box(120, 30, 120.01, 30.01)]), dtype=object),
        [np.array(["G"], dtype=object)],
        ["id_code"],
        driver="GPKG",
        geometry_type="Polygon",
        crs="EPSG:4326",
    )
    with pytest.raises(FileRejected, match="missing required field 'code'"):
        import_boundaries(session, path, level=Level.GRID, actor=SYSTEM)
    result = import_boundaries(session, path, level=Level.GRID, actor=SYSTEM, code_field="id_code")
    assert result.created == ["G"]
