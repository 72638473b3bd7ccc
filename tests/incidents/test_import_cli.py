"""``pingan import incidents`` end to end through the Typer app."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from pingan.cli import app
from pingan.incidents.models import Incident
from pingan.kit.db import session_scope
from tests.citykit import TestCity

WHEN = "2026-03-01T08:30:00+08:00"
runner = CliRunner(env={"COLUMNS": "200"})


def _count(engine: Engine) -> int:
    with session_scope(engine) as session:
        return int(session.scalar(select(func.count(Incident.id))) or 0)


def _csv(tmp_path: Path, bad_rows: int) -> Path:
    lines = ["type,occurred_at,lon,lat,external_id"]
    lines += [f"theft.bicycle,{WHEN},120.005,30.01,ok{i}" for i in range(3)]
    lines += [f"no.such.type,{WHEN},120.005,30.01,bad{i}" for i in range(bad_rows)]
    path = tmp_path / "calls.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_import_prints_counts_and_rejected_lines(
    engine: Engine, city: TestCity, tmp_path: Path
) -> None:
    path = _csv(tmp_path, bad_rows=25)
    errors = tmp_path / "errors.csv"
    result = runner.invoke(
        app,
        ["import", "incidents", str(path), "--source", "call", "--batch-size", "10",
         "--errors", str(errors)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "accepted" in result.stdout and "duplicates" in result.stdout
    assert "rejected rows (20 of 25 shown)" in result.stdout
    assert "unknown incident type 'no.such.type'" in result.stdout
    assert "│ 5    │ type" in result.stdout  # line 5: the first bad row
    with errors.open(newline="") as handle:
        assert [int(r["line"]) for r in csv.DictReader(handle)] == list(range(5, 30))
    assert _count(engine) == 3

    again = runner.invoke(app, ["import", "incidents", str(path), "--source", "call"])
    assert again.exit_code == 0, again.output
    assert "│ 0        │ 3          │ 25       │" in again.stdout
    assert _count(engine) == 3


def test_unreadable_input_exits_1_with_a_message(
    engine: Engine, city: TestCity, tmp_path: Path
) -> None:
    missing_column = tmp_path / "no_lat.csv"
    missing_column.write_text("type,occurred_at,lon\n")
    result = runner.invoke(app, ["import", "incidents", str(missing_column)])
    assert result.exit_code == 1
    assert "missing required column 'lat'" in result.stderr

    unknown = tmp_path / "calls.xlsx"
    unknown.write_bytes(b"PK")
    result = runner.invoke(app, ["import", "incidents", str(unknown)])
    assert result.exit_code == 1 and "unknown format '.xlsx'" in result.stderr

    result = runner.invoke(app, ["import", "incidents", str(tmp_path / "nowhere.geojson")])
    assert result.exit_code == 1 and "does not exist" in result.stderr


def test_unknown_source_is_refused_by_the_option(
    engine: Engine, city: TestCity, tmp_path: Path
) -> None:
    result = runner.invoke(
        app, ["import", "incidents", str(_csv(tmp_path, 0)), "--source", "rumour"]
    )
    assert result.exit_code == 2
    assert _count(engine) == 0
