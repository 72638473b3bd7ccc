"""Extending the taxonomy from a file: all or nothing, errors by line."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select
from typer.testing import CliRunner

from pingan.cli import app
from pingan.incidents.models import IncidentType
from pingan.kit.db import session_scope


def _codes(engine: Engine) -> set[str]:
    with session_scope(engine) as session:
        return set(session.scalars(select(IncidentType.code)))


def test_load_adds_types_under_existing_parents(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "types.csv"
    path.write_text(
        "code,name_zh,name_en,severity\n"
        "hazard.flooding,内涝,Street flooding,3\n"
        "fraud.elderly,针对老人诈骗,Fraud targeting the elderly,3\n"
        "fraud.elderly.health_products,保健品诈骗,Health-product fraud,2\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["taxonomy", "load", str(path)])
    assert result.exit_code == 0, result.output
    assert {"hazard.flooding", "fraud.elderly.health_products"} <= _codes(engine)
    again = CliRunner().invoke(app, ["taxonomy", "load", str(path)])
    assert "added 0 type(s)" in again.output


def test_bad_lines_are_named_and_nothing_is_loaded(engine: Engine, tmp_path: Path) -> None:
    before = _codes(engine)
    path = tmp_path / "bad.csv"
    path.write_text(
        "code,name_zh,name_en,severity\n"
        "hazard.sinkhole,塌陷,Sinkhole,4\n"
        "Bad Code,坏,Bad,2\n"
        "ufo.sighting,不明飞行物,UFO,1\n"
        "hazard.tree,树木,Fallen tree,9\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["taxonomy", "load", str(path)])
    assert result.exit_code == 1
    assert "line 3" in result.output and "line 4" in result.output and "line 5" in result.output
    assert "nothing was loaded" in result.output
    assert _codes(engine) == before
    listed = CliRunner().invoke(app, ["taxonomy", "list"])
    assert "theft.bicycle" in listed.output
