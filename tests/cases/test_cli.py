"""``pingan cases ...`` against a real database."""

from __future__ import annotations

from sqlalchemy import Engine
from typer.testing import CliRunner

from pingan.cli import app
from tests.cases.test_flow import report

runner = CliRunner()


def test_cases_cli(engine: Engine, people: dict[str, int]) -> None:
    report(engine)
    result = runner.invoke(app, ["cases", "seed-categories"])
    assert result.exit_code == 0 and "0 categories added" in result.output
    result = runner.invoke(app, ["cases", "list"])
    assert result.exit_code == 0 and "GE-2026-000001" in result.output
    result = runner.invoke(app, ["cases", "show", "GE-2026-000001"])
    assert result.exit_code == 0 and "created" in result.output
    assert runner.invoke(app, ["cases", "show", "GE-1999-000001"]).exit_code == 1
    result = runner.invoke(app, ["cases", "holiday", "2026-12-01", "--name", "test"])
    assert result.exit_code == 0
    result = runner.invoke(app, ["cases", "run-escalations"])
    assert result.exit_code == 0 and "escalations applied" in result.output
