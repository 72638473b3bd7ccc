"""Importing incidents from GeoJSON and GeoPackage: feature numbers, CRS, layers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from pyogrio import raw
from pyproj import Transformer
from sqlalchemy import Engine, select

from pingan.incidents.import_read import RowError, read_incident_rows
from pingan.incidents.importers import import_incidents
from pingan.incidents.models import Incident
from pingan.kit.db import session_scope
from pingan.kit.vectorfile import FileRejected
from tests.citykit import TestCity, grid_centre

WHEN = "2026-03-01T08:30:00+08:00"
TO_MERCATOR = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)


def _point(grid: str) -> dict[str, Any]:
    lon, lat = grid_centre(grid)
    return {"type": "Point", "coordinates": [lon, lat]}


def _feature(geometry: dict[str, Any] | None, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": props}


def _geojson(tmp_path: Path, features: list[Any], **extra: Any) -> Path:
    path = tmp_path / "incidents.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features, **extra}))
    return path


def _stored(engine: Engine) -> dict[str, Incident]:
    with session_scope(engine) as session:
        return {i.external_id or "": i for i in session.scalars(select(Incident))}


def test_geojson_features_are_numbered_by_index(
    engine: Engine, city: TestCity, tmp_path: Path
) -> None:
    lon, lat = grid_centre("E2")
    features = [
        _feature(_point("W1"), type="theft.bicycle", occurred_at=WHEN, external_id=101),
        _feature(
            {"type": "LineString", "coordinates": [[120.001, 30.01], [120.002, 30.01]]},
            type="fire",
            occurred_at=WHEN,
        ),
        _feature(_point("W2"), occurred_at=WHEN, external_id="no-type"),
        {"type": "Something else"},
        _feature(None, type="fight", occurred_at=WHEN, lon=lon, lat=lat, external_id="props"),
        _feature({"type": "Point", "coordinates": "abc"}, type="fire", occurred_at=WHEN),
        _feature(_point("E1"), type="fire", occurred_at=WHEN, severity=5, source="patrol"),
    ]
    summary = import_incidents(_geojson(tmp_path, features), engine=engine)
    assert summary.unit == "feature" and summary.format == "geojson"
    assert summary.accepted == 3
    reasons = {r.number: (r.field, r.reason) for r in summary.rejected}
    assert sorted(reasons) == [1, 2, 3, 5]
    assert reasons[1] == ("geometry", "geometry must be a Point, got LineString")
    assert reasons[2][0] == "type"
    assert "not a GeoJSON Feature" in reasons[3][1]
    assert "malformed geometry" in reasons[5][1]
    stored = _stored(engine)
    assert stored["101"].grid_id == city.id("W1")  # a numeric id is stored as text
    assert stored["props"].grid_id == city.id("E2")
    assert stored[""].source == "patrol" and stored[""].severity == 5


def test_geojson_legacy_crs_is_reprojected(engine: Engine, city: TestCity, tmp_path: Path) -> None:
    lon, lat = grid_centre("W2")
    x, y = TO_MERCATOR.transform(lon, lat)
    path = _geojson(
        tmp_path,
        [_feature({"type": "Point", "coordinates": [x, y]}, type="fire", occurred_at=WHEN)],
        crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}},
    )
    assert import_incidents(path, engine=engine).accepted == 1
    stored = _stored(engine)[""]
    assert stored.grid_id == city.id("W2")
    assert stored.lon == pytest.approx(lon, abs=1e-9) and stored.lat == pytest.approx(lat, abs=1e-9)


def test_projected_coordinates_without_crs_are_rejected(tmp_path: Path) -> None:
    path = _geojson(
        tmp_path,
        [_feature({"type": "Point", "coordinates": [13e6, 3.5e6]}, type="fire", occurred_at=WHEN)],
    )
    [(number, row)] = list(read_incident_rows(path))
    assert number == 0 and isinstance(row, RowError)
    assert "outside the longitude/latitude range" in row.reason


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"type": "Point", "coordinates": [1, 2]}', "not a GeoJSON FeatureCollection"),
    ],
)
def test_bad_geojson_files_are_rejected_whole(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(FileRejected, match=message):
        read_incident_rows(path)


def _gpkg(
    path: Path,
    points: list[tuple[float, float]],
    fields: dict[str, Any],
    *,
    layer: str = "incidents",
    crs: str = "EPSG:3857",
    append: bool = False,
) -> Path:
    """Write a Point layer with pyogrio's raw writer (no geopandas)."""
    lon = np.array([p[0] for p in points])
    lat = np.array([p[1] for p in points])
    if crs == "EPSG:3857":
        lon, lat = TO_MERCATOR.transform(lon, lat)
    geometry = np.asarray(shapely.to_wkb(shapely.points(lon, lat)), dtype=object)
    field_data = [np.asarray(values) for values in fields.values()]
    raw.write(
        path,
        geometry,
        field_data,
        list(fields),
        layer=layer,
        driver="GPKG",
        geometry_type="Point",
        crs=crs,
        append=append,
    )
    return path


def test_geopackage_in_web_mercator(engine: Engine, city: TestCity, tmp_path: Path) -> None:
    points = [grid_centre("W1"), (121.5, 30.01), grid_centre("E1"), grid_centre("E2")]
    path = _gpkg(
        tmp_path / "incidents.gpkg",
        points,
        {
            "type": np.array(["theft.bicycle", "fire", "robbery", "nonsense"], dtype=object),
            "occurred_at": np.array([WHEN] * 4, dtype=object),
            "severity": np.array([2, 3, 4, 1]),
            "external_id": np.array([11, 12, 13, 14]),
            "notes": np.array(["a", "b", "c", "d"], dtype=object),
        },
    )
    summary = import_incidents(path, engine=engine)
    assert summary.unit == "fid" and summary.format == "gpkg"
    assert summary.ignored_columns == ["notes"]
    assert summary.accepted == 2
    assert {r.number: r.field for r in summary.rejected} == {2: "lon", 4: "type"}
    stored = _stored(engine)
    assert stored["11"].grid_id == city.id("W1") and stored["13"].grid_id == city.id("E1")
    assert stored["13"].lon == pytest.approx(grid_centre("E1")[0], abs=1e-9)
    again = import_incidents(path, engine=engine)
    assert (again.accepted, again.duplicates) == (0, 2)


def test_geopackage_layers_and_required_fields(tmp_path: Path) -> None:
    path = tmp_path / "two.gpkg"
    fields = {"type": np.array(["fire"], dtype=object), "when": np.array([WHEN], dtype=object)}
    _gpkg(path, [grid_centre("W1")], fields, layer="a")
    _gpkg(path, [grid_centre("W1")], fields, layer="b", crs="EPSG:4326", append=True)
    with pytest.raises(FileRejected, match="has 2 layers"):
        read_incident_rows(path)
    with pytest.raises(FileRejected, match="no layer 'c'"):
        read_incident_rows(path, layer="c")
    with pytest.raises(FileRejected, match="missing required field 'occurred_at'") as caught:
        read_incident_rows(path, layer="b")
    assert caught.value.field == "occurred_at"


def test_geopackage_that_is_not_one(tmp_path: Path) -> None:
    path = tmp_path / "broken.gpkg"
    path.write_bytes(b"this is not sqlite")
    with pytest.raises(FileRejected, match=r"cannot read broken\.gpkg"):
        read_incident_rows(path)
