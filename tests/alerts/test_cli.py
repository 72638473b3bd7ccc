"""``pingan alerts run`` and ``pingan alerts list`` against the test database."""

from __future__ import annotations

import re

from sqlalchemy import Engine
from typer.testing import CliRunner

from pingan.alerts.service import list_alerts
from pingan.cli import app
from pingan.kit.db import session_scope
from pingan.org.principal import Principal
from tests.alerts.conftest import DAY


def test_cli_run_then_list(engine: Engine, outbreak: dict[str, int]) -> None:
    runner = CliRunner()
    ran = runner.invoke(app, ["alerts", "run", "--day", DAY.isoformat(), "--replications", "99"])
    assert ran.exit_code == 0, ran.output
    assert "505 incidents" in ran.output
    assert re.search(r"[1-9]\d* new alerts", ran.output)
    listed = runner.invoke(app, ["alerts", "list", "--status", "new"])
    assert listed.exit_code == 0, listed.output
    with session_scope(engine) as session:
        ids = [a.id for a in list_alerts(session, actor=Principal.system("t"), status="new")]
    assert ids and all(f"│ {i} " in listed.output for i in ids)
    empty = runner.invoke(app, ["alerts", "list", "--status", "resolved"])
    assert empty.exit_code == 0 and "│ 1 " not in empty.output
    bad = runner.invoke(app, ["alerts", "run", "--day", "yesterday-ish"])
    assert bad.exit_code != 0
