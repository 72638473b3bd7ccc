"""``pingan import boundaries`` end to end through the Typer app."""

from __future__ import annotations

import json
from pathlib import Path

from shapely import box
from shapely.geometry import mapping
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from pingan.cli import app
from pingan.kit.db import session_scope
from pingan.org.models import OrgUnit

runner = CliRunner(env={"COLUMNS": "200"})


def _write(tmp_path: Path, codes: list[str | None]) -> Path:
    features = [
        {
            "type": "Feature",
            "geometry": mapping(box(120 + 0.01 * i, 30.0, 120.01 + 0.01 * i, 30.01)),
            "properties": {"code": code, "name": f"Grid {i}"},
        }
        for i, code in enumerate(codes)
    ]
    path = tmp_path / "grids.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _codes(engine: Engine) -> set[str]:
    with session_scope(engine) as session:
        return set(session.scalars(select(OrgUnit.code)))


def test_grids_load_with_placeholders(engine: Engine, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["import", "boundaries", str(_write(tmp_path, ["G1", "G2"])), "--level", "grid"]
    )
    assert result.exit_code == 0, result.output
    assert "imported 2 grid units from grids.geojson" in result.stdout
    assert "placeholder units CITY, DISTRICT-IMPORTED" in result.stdout
    assert _codes(engine) == {
        "CITY", "DISTRICT-IMPORTED", "SUBDISTRICT-IMPORTED", "COMMUNITY-IMPORTED", "G1", "G2",
    }  # fmt: skip

    # The same file again: every code exists, nothing changes, exit 1.
    again = runner.invoke(
        app, ["import", "boundaries", str(_write(tmp_path, ["G1", "G2"])), "--level", "grid"]
    )
    assert again.exit_code == 1
    assert "code 'G1' already exists" in again.stderr
    assert "2 feature(s) rejected; nothing was imported" in again.stderr
    with session_scope(engine) as session:
        assert session.scalar(select(func.count(OrgUnit.id))) == 6


def test_bad_features_are_listed_and_nothing_loads(engine: Engine, tmp_path: Path) -> None:
    path = _write(tmp_path, ["A", None, "A"])
    result = runner.invoke(app, ["import", "boundaries", str(path), "--level", "grid"])
    assert result.exit_code == 1
    assert "no 'code'" in result.stderr and "code 'A' repeats feature 0" in result.stderr
    assert _codes(engine) == set()


def test_level_is_required_and_checked(engine: Engine, tmp_path: Path) -> None:
    path = _write(tmp_path, ["A"])
    assert runner.invoke(app, ["import", "boundaries", str(path)]).exit_code == 2
    wrong = runner.invoke(app, ["import", "boundaries", str(path), "--level", "province"])
    assert wrong.exit_code == 2
