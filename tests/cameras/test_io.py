"""Camera files: CSV, GeoJSON and GeoPackage round trips, per-row errors, idempotent re-imports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from pingan.cameras import io, registry, streets
from pingan.cameras.models import Camera
from pingan.kit.db import session_scope
from pingan.kit.vectorfile import FileRejected
from tests.cameras.camkit import SYSTEM, add_owner, build_roads, lonlat, standard_cameras
from tests.citykit import TestCity

HEADER = ",".join(io.COLUMNS)


@pytest.fixture
def registered(engine: Engine, city: TestCity) -> TestCity:
    with session_scope(engine) as s:
        build_roads(s)
        add_owner(s)
        streets.build_segments(s, actor=SYSTEM)
        registry.upsert_cameras(s, list(enumerate(standard_cameras(s), 1)), actor=SYSTEM)
    return city


@pytest.mark.parametrize("suffix", [".csv", ".geojson", ".gpkg"])
def test_round_trip_is_idempotent(
    engine: Engine, registered: TestCity, tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"cams{suffix}"
    with session_scope(engine) as s:
        assert io.write_file(s, path, actor=SYSTEM) == 2
    rows, errors = io.read_file(path)
    assert errors == []
    assert sorted(r.owner_camera_id for _, r in rows) == ["c1", "c2"]
    by_id = {r.owner_camera_id: r for _, r in rows}
    assert by_id["c2"].ptz is True and by_id["c1"].heading_deg == 90.0
    with session_scope(engine) as s:
        report = registry.upsert_cameras(s, rows, actor=SYSTEM)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)


def test_csv_errors_name_their_lines(engine: Engine, registered: TestCity) -> None:
    with session_scope(engine) as s:
        lon, lat = lonlat(s, 300, 0)
    text = "\n".join(
        [
            HEADER,
            f"PSB,n1,public_hd,,{lon},{lat},6,45,90,40,,no,active,2024-05-01,full,",
            f"PSB,n2,not_a_network,,{lon},{lat},,,,,,,,,,",
            f"PSB,n3,school,,{lon},,,,,,,,,,,",
            f"PSB,n4,school,,{lon},{lat},,400,,,,,,,,",
            f"PSB,n5,school,,{lon},{lat},,,,,,maybe,,,,",
            f"GHOST,n6,school,,{lon},{lat},,,,,,,,,,",
        ]
    )
    rows, errors = io.read_csv(text)
    assert [line for line, _ in rows] == [2, 7]
    lines = {e.line: e.error for e in errors}
    assert sorted(lines) == [3, 4, 5, 6]
    assert "network" in lines[3]
    assert "lat" in lines[4]
    assert "heading_deg" in lines[5]
    assert "ptz" in lines[6]
    with session_scope(engine) as s:
        report = registry.upsert_cameras(s, rows, actor=SYSTEM, errors=errors)
        assert report.created == 1
        assert sorted(e.line for e in report.errors) == [3, 4, 5, 6, 7]
        cam = s.scalar(select(Camera).where(Camera.owner_camera_id == "n1"))
        assert cam is not None and cam.height_m == 6.0 and cam.access_level == "full"


def test_bad_files_are_rejected_whole(tmp_path: Path) -> None:
    with pytest.raises(FileRejected, match="unknown column"):
        io.read_csv("owner_code,owner_camera_id,network,lon,lat,colour\n")
    with pytest.raises(FileRejected, match="missing column"):
        io.read_csv("owner_code,network,lon,lat\n")
    odd = tmp_path / "cams.txt"
    odd.write_text("x")
    with pytest.raises(FileRejected, match="unknown format"):
        io.read_file(odd)


def test_geojson_features_must_be_points(tmp_path: Path) -> None:
    doc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [120.01, 30.01]},
             "properties": {"owner_code": "PSB", "owner_camera_id": "g1", "network": "social"}},
            {"type": "Feature", "geometry": {"type": "LineString",
                                             "coordinates": [[120.01, 30.01], [120.02, 30.01]]},
             "properties": {"owner_code": "PSB", "owner_camera_id": "g2", "network": "social"}},
        ],
    }  # fmt: skip
    path = tmp_path / "cams.geojson"
    path.write_text(json.dumps(doc))
    rows, errors = io.read_file(path)
    assert [r.owner_camera_id for _, r in rows] == ["g1"]
    assert [(e.line, e.owner_camera_id) for e in errors] == [(1, "g2")]
    assert "Point" in errors[0].error
