"""``pingan cameras owner|import|export|coverage|plan`` against the test database."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from pingan.cameras import io
from pingan.cameras.models import Camera
from pingan.cli import app
from pingan.kit.db import session_scope
from tests.cameras.camkit import build_roads, lonlat, standard_cameras
from tests.citykit import TestCity


def _write_csv(engine: Engine, path: Path, extra: list[list[str]]) -> None:
    with session_scope(engine) as s:
        cams = standard_cameras(s)
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(io.COLUMNS))
        writer.writeheader()
        for c in cams:
            writer.writerow({k: v for k, v in c.model_dump(mode="json").items() if v is not None})
        for row in extra:
            fh.write(",".join(row) + "\n")


def test_import_coverage_plan_export(engine: Engine, city: TestCity, tmp_path: Path) -> None:
    with session_scope(engine) as s:
        build_roads(s)
    runner = CliRunner()
    made = runner.invoke(app, ["cameras", "owner", "PSB", "--name", "Public security bureau"])
    assert made.exit_code == 0, made.output
    cams = tmp_path / "cams.csv"
    bad = ["PSB", "x1", "public_hd", "", "120.01", "30.01", "", "999"] + [""] * 8
    _write_csv(engine, cams, [bad])
    # Segments first, so the import's incremental update has streets to count.
    cov = runner.invoke(app, ["cameras", "coverage"])
    assert cov.exit_code == 0, cov.output
    assert "240 street segments" in cov.output
    imported = runner.invoke(app, ["cameras", "import", str(cams)])
    assert imported.exit_code == 2, imported.output  # a rejected row is an error exit
    assert "2 created" in imported.output and "1 rejected" in imported.output
    assert "line 4:" in imported.output and "heading_deg" in imported.output
    again = runner.invoke(app, ["cameras", "import", str(cams)])
    assert "0 created, 0 updated, 2 unchanged" in again.output
    report = tmp_path / "report.json"
    spots = tmp_path / "spots.geojson"
    cov = runner.invoke(
        app, ["cameras", "coverage", "--json", str(report), "--blind-spots", str(spots)]
    )
    assert cov.exit_code == 0, cov.output
    data = json.loads(report.read_text())
    assert round(data["covered_m"], 6) == 110.0
    assert json.loads(spots.read_text())["features"]
    with session_scope(engine) as s:
        ring = [list(lonlat(s, x, y)) for x, y in ((120, -5), (130, -5), (130, 5), (120, 5))]
    footprints = tmp_path / "buildings.geojson"
    footprints.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {},
         "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}},
        {"type": "Feature", "properties": {},
         "geometry": {"type": "Point", "coordinates": ring[0]}},
    ]}))  # fmt: skip
    loaded = runner.invoke(app, ["cameras", "buildings", str(footprints)])
    assert loaded.exit_code == 0, loaded.output
    assert "1 footprints loaded, 1 features skipped" in loaded.output
    assert "feature 1: not a polygon" in loaded.output
    cov = runner.invoke(app, ["cameras", "coverage", "--json", str(report)])
    assert round(json.loads(report.read_text())["covered_m"], 6) == 80.0  # c1 keeps 2 pieces
    out = tmp_path / "plan.csv"
    planned = runner.invoke(
        app, ["cameras", "plan", "--sites", "2", "--method", "both", "--out", str(out)]
    )
    assert planned.exit_code == 0, planned.output
    assert "gap" in planned.output
    assert len(out.read_text().splitlines()) == 3
    exported = tmp_path / "all.geojson"
    done = runner.invoke(app, ["cameras", "export", str(exported)])
    assert done.exit_code == 0 and "2 cameras" in done.output
    assert len(json.loads(exported.read_text())["features"]) == 2
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Camera)) == 2


def test_bad_options_fail_cleanly(engine: Engine, city: TestCity, tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["cameras", "plan", "--budget", "west=3"])
    assert res.exit_code != 0 and "DISTRICT_ID=N" in res.output
    missing = runner.invoke(app, ["cameras", "import", str(tmp_path / "none.csv")])
    assert missing.exit_code == 1 and "error" in missing.output
    res = runner.invoke(app, ["cameras", "coverage"])
    assert res.exit_code == 1 and "no road network" in res.output
