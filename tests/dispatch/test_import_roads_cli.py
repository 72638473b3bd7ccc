"""``pingan import roads`` end to end through the Typer app."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from pingan.cli import app
from pingan.dispatch.models import RoadEdge
from pingan.kit.db import session_scope

pyrosm = pytest.importorskip("pyrosm")
runner = CliRunner(env={"COLUMNS": "200"})


def _edges(engine: Engine) -> int:
    with session_scope(engine) as session:
        return int(session.scalar(select(func.count(RoadEdge.id))) or 0)


def test_import_replace_and_refuse(engine: Engine) -> None:
    path = pyrosm.get_data("helsinki_pbf")
    result = runner.invoke(app, ["import", "roads", path])
    assert result.exit_code == 0, result.output
    assert "osm:Helsinki.osm.pbf" in result.stdout and "1437" in result.stdout
    assert "1500" in result.stdout and "EPSG:32635" in result.stdout

    again = runner.invoke(app, ["import", "roads", path])
    assert again.exit_code == 1 and "use --replace" in again.stderr

    replaced = runner.invoke(app, ["import", "roads", path, "--replace"])
    assert replaced.exit_code == 0, replaced.output
    assert _edges(engine) == 1500


def test_unreadable_files_exit_1(engine: Engine, tmp_path: Path) -> None:
    wrong_kind = tmp_path / "roads.geojson"
    wrong_kind.write_text("{}")
    result = runner.invoke(app, ["import", "roads", str(wrong_kind)])
    assert result.exit_code == 1 and "expected an OpenStreetMap .osm.pbf file" in result.stderr

    corrupt = tmp_path / "broken.osm.pbf"
    corrupt.write_bytes(b"\x00\x00\x00\x0dnot a pbf at all")
    result = runner.invoke(app, ["import", "roads", str(corrupt)])
    assert result.exit_code == 1 and "broken.osm.pbf" in result.stderr
    assert _edges(engine) == 0
