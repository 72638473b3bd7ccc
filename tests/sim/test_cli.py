"""``pingan sim city`` from the command line."""

from __future__ import annotations

from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from pingan.cli import app
from pingan.incidents.models import Incident
from pingan.kit.db import session_scope

runner = CliRunner()


def test_builds_the_city_then_refuses_a_second_one(engine: Engine) -> None:
    result = runner.invoke(app, ["sim", "city", "--scale", "tiny", "--seed", "3", "--days", "60"])
    assert result.exit_code == 0, result.output
    assert "Synthetic city" in result.output
    with session_scope(engine) as session:
        stored = session.scalar(select(func.count(Incident.id))) or 0
    assert 500 < stored < 2_000

    again = runner.invoke(app, ["sim", "city", "--scale", "tiny", "--seed", "3"])
    assert again.exit_code == 1
    assert "already holds" in again.output
    with session_scope(engine) as session:
        assert session.scalar(select(func.count(Incident.id))) == stored


def test_bad_options_are_clear_errors(engine: Engine) -> None:
    result = runner.invoke(app, ["sim", "city", "--scale", "huge"])
    assert result.exit_code == 1
    assert "unknown scale 'huge'" in result.output
    result = runner.invoke(app, ["sim", "city", "--start", "next tuesday"])
    assert result.exit_code == 1
    assert "not a date" in result.output
