"""``pingan analyze ...``: files written by suffix, the run stored, errors as clean messages."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import tifffile
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from pingan import __version__
from pingan.cli import app
from pingan.kit import jobs
from pingan.kit.db import session_scope
from tests.incidents.analysis.conftest import Planted
from tests.incidents.analysis.pngcheck import decode_rgba

runner = CliRunner(env={"COLUMNS": "200"})


def _runs(engine: Engine) -> list[jobs.Job]:
    with session_scope(engine) as session:
        found = list(session.scalars(select(jobs.Job).order_by(jobs.Job.id)))
        session.expunge_all()
        return found


def test_heat_writes_geotiff_png_and_contours(
    engine: Engine, planted: Planted, tmp_path: Path
) -> None:
    tif, png, contours = tmp_path / "heat.tif", tmp_path / "heat.png", tmp_path / "c.geojson"
    args = ["analyze", "heat", "--bandwidth-m", "200", "--cell-size-m", "25",
            "-o", str(tif), "-o", str(png), "-o", str(contours)]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "heat map" in result.stdout and f"{planted.total}" in result.stdout
    with tifffile.TiffFile(tif) as handle:
        assert handle.pages[0].asarray().ndim == 2
    assert decode_rgba(png.read_bytes()).shape[2] == 4
    assert json.loads(contours.read_text())["type"] == "FeatureCollection"
    [run] = _runs(engine)
    assert run.kind == "analysis.heat" and run.status == "succeeded"
    assert run.created_by.startswith("system:cli:") and run.software_version == __version__
    assert run.params_dict()["params"]["bandwidth_m"] == 200
    result_doc = run.result_dict()
    assert result_doc is not None and result_doc["n_events"] == planted.total
    assert f"stored as run {run.id}" in result.stdout


def test_hotspots_emerging_and_rates_write_their_files(
    engine: Engine, planted: Planted, tmp_path: Path
) -> None:
    hot = tmp_path / "hot.csv"
    result = runner.invoke(app, ["analyze", "hotspots", "--permutations", "99", "-o", str(hot)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(hot.open()))
    assert sum(int(r["count"]) for r in rows) == planted.total and "hot 99%" in result.stdout
    em = tmp_path / "em.geojson"
    result = runner.invoke(
        app,
        ["analyze", "emerging", "--since", "2026-03-01T00:00:00Z", "--until",
         "2026-04-01T00:00:00Z", "--step", "day", "-o", str(em)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(em.read_text())["summary"]["steps"]["count"] == 31
    rates = tmp_path / "rates.csv"
    result = runner.invoke(
        app,
        ["analyze", "rates", "--level", "district", "--org-unit", "C", "--since",
         "2026-03-01T00:00:00Z", "--until", "2026-04-01T00:00:00Z", "-o", str(rates)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    table = {r["code"]: int(r["current"]) for r in csv.DictReader(rates.open())}
    assert table == {"DE": planted.east, "DW": planted.west}
    assert [r.kind for r in _runs(engine)] == [
        "analysis.hotspots",
        "analysis.emerging",
        "analysis.rates",
    ]


def test_bad_options_exit_1_with_a_message(
    engine: Engine, planted: Planted, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["analyze", "heat", "--bandwidth-m", "-5"])
    assert result.exit_code == 1
    assert "error (bandwidth_m)" in result.output and "greater than 0" in result.output
    result = runner.invoke(app, ["analyze", "hotspots", "--type", "no.such"])
    assert result.exit_code == 1 and "unknown incident type 'no.such'" in result.output
    result = runner.invoke(app, ["analyze", "rates", "-o", str(tmp_path / "rates.xlsx")])
    assert result.exit_code == 1 and "error (out)" in result.output
    assert _runs(engine) == []
