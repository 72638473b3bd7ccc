"""Layer exports: GeoJSON, CSV and GeoPackage files hold what the requester may read, read back
with GDAL (pyogrio) and the csv module."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import httpx
import pyogrio
import shapely
from typer.testing import CliRunner

from pingan.cli import app
from tests.ogc.conftest import PLAN, Server


def _get(server: Server, user: str, path: str) -> httpx.Response:
    return httpx.get(f"{server.url}{path}", headers={"X-API-Key": server.keys[user]}, timeout=60)


def test_api_exports_in_three_formats_within_scope(server: Server, tmp_path: Path) -> None:
    west = sorted(server.incidents["W1"] + server.incidents["W2"])
    got = _get(server, "west_officer", "/api/v1/exports/incidents?format=geojson")
    assert got.status_code == 200 and got.headers["content-type"] == "application/geo+json"
    assert sorted(f["id"] for f in got.json()["features"]) == west

    table = _get(server, "west_officer", "/api/v1/exports/incidents?format=csv")
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert sorted(int(r["id"]) for r in rows) == west
    assert all(shapely.from_wkt(r["wkt"]).geom_type == "Point" for r in rows)

    gpkg = _get(server, "chief", "/api/v1/exports/incident-counts?format=gpkg")
    assert gpkg.status_code == 200
    path = tmp_path / "counts.gpkg"
    path.write_bytes(gpkg.content)
    meta = pyogrio.read_info(path)
    assert meta["features"] == len(PLAN) and meta["geometry_type"] == "MultiPolygon"
    assert meta["crs"] == "EPSG:4326"
    _, _, geometry, fields = pyogrio.raw.read(path)
    names = list(meta["fields"])
    counts = dict(zip(fields[names.index("code")], fields[names.index("count")], strict=True))
    assert {str(k): int(v) for k, v in counts.items()} == PLAN
    assert len(geometry) == len(PLAN)


def test_export_filters_and_refusals(server: Server) -> None:
    query = "format=geojson&bbox=120.0,30.0,120.0099,30.02"
    bbox = _get(server, "chief", f"/api/v1/exports/incidents?{query}")
    assert sorted(f["id"] for f in bbox.json()["features"]) == server.incidents["W1"]
    assert _get(server, "chief", "/api/v1/exports/incidents?format=shp").status_code == 400
    assert _get(server, "chief", "/api/v1/exports/nothing?format=csv").status_code == 404
    assert _get(server, "nobody", "/api/v1/exports/incidents").status_code == 404
    assert httpx.get(f"{server.url}/api/v1/exports/incidents").status_code == 401


def test_cli_export_writes_each_format(server: Server, tmp_path: Path) -> None:
    runner = CliRunner()
    for suffix in ("geojson", "csv", "gpkg"):
        out = tmp_path / f"grids.{suffix}"
        result = runner.invoke(app, ["export", "org-units", str(out), "-O", "level=grid"])
        assert result.exit_code == 0, result.output
        assert "4 features" in result.output
    doc = json.loads((tmp_path / "grids.geojson").read_text())
    assert sorted(f["properties"]["code"] for f in doc["features"]) == ["E1", "E2", "W1", "W2"]
    assert pyogrio.read_info(tmp_path / "grids.gpkg")["features"] == 4
    bad = runner.invoke(app, ["export", "org-units", str(tmp_path / "x.shp")])
    assert bad.exit_code == 1 and ".gpkg" in bad.output
