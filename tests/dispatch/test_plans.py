"""Response plans from an operator's JSON file: checked whole, used by dispatch, reloaded."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from pingan.cli import app
from pingan.dispatch import assignments
from pingan.dispatch.plans import BUILTIN, active_plans, parse_plans, plan_for
from pingan.kit.db import session_scope
from pingan.kit.errors import ValidationFailed
from pingan.org.principal import Principal
from pingan.settings import get_settings
from tests.api.conftest import login
from tests.dispatch.conftest import T0

PLAN = {
    "ack_seconds": {"1": 45, "2": 90, "3": 180},
    "default": {"name": "default", "slots": [{"tier": 2}]},
    "plans": {"fight": [{"name": "fight-light", "slots": [{"tier": 1, "count": 1}]}]},
}


@pytest.fixture
def plan_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: Engine) -> Path:
    path = tmp_path / "plans.json"
    path.write_text(json.dumps(PLAN))
    monkeypatch.setenv("PINGAN_DISPATCH_PLANS_FILE", str(path))
    get_settings.cache_clear()
    return path


def test_builtin_plans_fall_back_along_the_taxonomy() -> None:
    assert plan_for("traffic.collision", 3, BUILTIN).name == "traffic-major"
    assert plan_for("traffic.collision", 1, BUILTIN).name == "traffic"
    assert plan_for("noise", 5, BUILTIN).name == "default"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"plans": {"fight": [\n  {"name": "x", "slots": []}', "line 2"),
        ('{"plans": {"fight": [{"name": "x", "slots": [{"tier": 4}]}]}}',
         "plans.fight.0.slots.0.tier"),
        ('{"ack_seconds": {"1": 30}}', "ack_seconds needs tiers 1, 2 and 3"),
        ('{"plans": {"fight": [{"name": "a", "slots": [{"tier": 1}]}, '
         '{"name": "b", "min_severity": 3, "slots": [{"tier": 1}]}]}}', "highest min_severity"),
        ('{"plan": {}}', "plan: Extra inputs are not permitted"),
    ],
)  # fmt: skip
def test_bad_files_are_refused_with_the_place(text: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_plans(text, "plans.json")
    assert message in str(caught.value) and "plans.json" in str(caught.value)


def test_dispatch_follows_the_file(plan_file: Path, engine: Engine, world: dict[str, int]) -> None:
    with session_scope(engine) as s:
        sent = assignments.dispatch_incident(
            s, incident_id=world["incident"], actor=Principal.system("test"), now=T0
        )
        # The file's fight plan sends one tier-1 unit with its 45 s acknowledgement time.
        assert [(a.tier, a.ack_seconds) for a in sent] == [(1, 45)]
        assert (sent[0].ack_deadline - T0).total_seconds() == 45


def test_a_broken_edit_keeps_the_plans_in_force(plan_file: Path) -> None:
    assert active_plans().ack_seconds[1] == 45
    plan_file.write_text("{ not json")
    stat = plan_file.stat()
    os.utime(plan_file, (stat.st_atime, stat.st_mtime + 5))
    assert active_plans().ack_seconds[1] == 45  # the last good plans stay in force
    plan_file.write_text(json.dumps({**PLAN, "ack_seconds": {"1": 20, "2": 60, "3": 120}}))
    os.utime(plan_file, (stat.st_atime, stat.st_mtime + 10))
    assert active_plans().ack_seconds[1] == 20


def test_plans_over_http_and_cli(
    plan_file: Path, client: TestClient, people: dict[str, int], tmp_path: Path
) -> None:
    shown = client.get("/api/v1/dispatch/plans", headers=login(client, "west_officer"))
    assert shown.status_code == 200
    assert shown.json()["plans"]["fight"][0]["name"] == "fight-light"
    assert client.get("/api/v1/dispatch/plans").status_code == 401
    runner = CliRunner(env={"COLUMNS": "200"})
    listed = runner.invoke(app, ["dispatch", "plans"])
    assert listed.exit_code == 0 and "fight-light" in listed.stdout
    bad = tmp_path / "bad.json"
    bad.write_text('{"plans": {"fight": [{"name": "x", "slots": [{"tier": 9}]}]}}')
    checked = runner.invoke(app, ["dispatch", "plans", "--check", str(bad)])
    assert checked.exit_code != 0 and "tier" in checked.output
