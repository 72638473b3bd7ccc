"""Compound remediation: the three "no" flags, steps, progress and totals by area."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from shapely import box
from sqlalchemy import Engine
from typer.testing import CliRunner

from pingan.app import create_app
from pingan.cli import app as cli_app
from pingan.governance import compounds_service as service
from pingan.governance.compounds_service import RemediationIn, StepDoneIn
from pingan.kit.db import session_scope
from pingan.kit.errors import Conflict, NotFound, ValidationFailed
from pingan.org import users
from pingan.org.levels import Level
from pingan.org.principal import Principal
from pingan.places.models import Management
from pingan.places.service import CompoundIn, add_compounds
from pingan.settings import get_settings
from tests.cases.conftest import PEOPLE, _password_hash, login, principal
from tests.citykit import TestCity, grid_centre, unit

SYSTEM = Principal.system("test")


@pytest.fixture
def staff(engine: Engine, city: TestCity) -> dict[str, int]:
    ids = {}
    with session_scope(engine) as session:
        for name, (role, code) in PEOPLE.items():
            user = users.create_user(
                session, username=name, password=None, is_service=True, actor=SYSTEM
            )
            user.password_hash, user.is_service = _password_hash(), False
            if role is not None and code is not None:
                users.grant_role(
                    session, user=user, role_name=role, unit=unit(session, code), actor=SYSTEM
                )
            ids[name] = user.id
        compounds = []
        for code, grid, with_grid in (
            ("C1", "W1", True), ("C2", "W2", False), ("C3", "E1", True), ("C4", "E2", True),
            ("C5", "E1", True),
        ):  # fmt: skip
            lon, lat = grid_centre(grid)
            compounds.append(
                CompoundIn(
                    code=code, name_zh=f"{code}小区", name_en=code,
                    geom=box(lon - 0.001, lat - 0.001, lon + 0.001, lat + 0.001),
                    households=300, buildings=6, management=Management.UNMANAGED,
                    grid_id=unit(session, grid).id if with_grid else None,
                )
            )  # fmt: skip
        add_compounds(session, compounds, actor=SYSTEM)
    return ids


def _register(engine: Engine, code: str, flags: tuple[bool, bool, bool], residents: int) -> None:
    with session_scope(engine) as s:
        service.register(
            s,
            remediation_in=RemediationIn(
                compound=code, no_property_management=flags[0],
                no_responsible_department=flags[1], no_self_governance=flags[2],
                residents=residents,
            ),
            actor=SYSTEM,
        )  # fmt: skip


def _done(engine: Engine, code: str, step: str, day: int, who: str = "system") -> None:
    actor = SYSTEM if who == "system" else principal(engine, who)
    with session_scope(engine) as s:
        service.record_step(
            s, code=code, step_in=StepDoneIn(step=step, done_on=dt.date(2026, 9, day)), actor=actor
        )


def _fixture(engine: Engine) -> None:
    _register(engine, "C1", (True, True, True), 800)
    _register(engine, "C2", (True, False, True), 300)
    _register(engine, "C3", (True, False, False), 500)
    _register(engine, "C4", (False, True, False), 200)
    for day, step in enumerate(service.STEPS, start=1):
        _done(engine, "C1", step, day)
        _done(engine, "C3", step, 10 + day)
    _done(engine, "C2", "access_control", 5)
    _done(engine, "C2", "self_governance", 3)


def test_steps_progress_and_totals_by_area(
    engine: Engine, staff: dict[str, int], city: TestCity
) -> None:
    _fixture(engine)
    with session_scope(engine) as s:
        _c, c1 = service.get(s, "C1", actor=SYSTEM)
        assert (c1.status, c1.started_on, c1.completed_on) == (
            "completed", dt.date(2026, 9, 1), dt.date(2026, 9, 4),
        )  # fmt: skip
        _c, c2 = service.get(s, "C2", actor=SYSTEM)
        assert (c2.status, c2.started_on, c2.completed_on) == (
            "in_progress", dt.date(2026, 9, 3), None,
        )  # fmt: skip
        # C2 has no grid of its own: it is placed by its position, in W2.
        assert c2.grid_path.endswith(f"/{city.id('W2')}/")
        totals = {t.unit_id: t for t in service.totals(s, actor=SYSTEM)}
        west, east = totals[city.id("DW")], totals[city.id("DE")]
        assert (west.compounds, west.no_property_management, west.no_responsible_department,
                west.no_self_governance) == (2, 2, 1, 2)  # fmt: skip
        assert (west.planned, west.in_progress, west.remediated) == (0, 1, 1)
        assert (west.residents_benefiting, west.steps_done) == (800, 6)
        assert (east.compounds, east.planned, east.remediated, east.residents_benefiting) == (
            2, 1, 1, 500,
        )  # fmt: skip
        by_grid = {t.unit_id: t for t in service.totals(s, actor=SYSTEM, area_level=Level.GRID)}
        assert by_grid[city.id("E1")].remediated == 1 and city.id("E2") in by_grid
        scoped = service.totals(s, actor=principal(engine, "east_officer"))
        assert [t.unit_id for t in scoped] == [city.id("DE")]


def test_bad_input_and_scope(engine: Engine, staff: dict[str, int]) -> None:
    with pytest.raises(ValidationError, match="at least one of the three"):
        RemediationIn(compound="C1", no_property_management=False, residents=10,
                      no_responsible_department=False, no_self_governance=False)  # fmt: skip
    with pytest.raises(ValidationFailed, match="compound 'C9' not found"):
        _register(engine, "C9", (True, True, True), 10)
    _register(engine, "C1", (True, True, True), 800)
    with pytest.raises(Conflict, match="already has"):
        _register(engine, "C1", (True, False, False), 800)
    with pytest.raises(ValidationFailed, match="step must be one of"):
        _done(engine, "C1", "painting", 1)
    _done(engine, "C1", "gatekeeping", 1)
    with pytest.raises(Conflict, match="already done"):
        _done(engine, "C1", "gatekeeping", 2)
    with pytest.raises(NotFound):  # out of the east officer's scope
        _done(engine, "C1", "access_control", 2, who="east_officer")
    _done(engine, "C1", "access_control", 2, who="west_officer")
    with pytest.raises(NotFound, match="no remediation project"):
        _done(engine, "C5", "access_control", 2)


def test_compounds_api_and_cli(engine: Engine, staff: dict[str, int], city: TestCity) -> None:
    _fixture(engine)
    with TestClient(create_app(get_settings(), engine)) as client:
        h = login(client, "east_officer")
        body = {"compound": "C5", "no_property_management": True, "residents": 90,
                "no_responsible_department": True, "no_self_governance": False}  # fmt: skip
        r = client.post("/api/v1/compounds/remediations", json=body, headers=h)
        assert r.status_code == 201 and r.json()["status"] == "planned"
        assert r.json()["steps_to_do"] == list(service.STEPS)
        r = client.post("/api/v1/compounds/remediations/C5/steps", headers=h,
                        json={"step": "gatekeeping", "done_on": "2026-10-01"})  # fmt: skip
        assert r.json()["progress"] == 0.25 and r.json()["status"] == "in_progress"
        r = client.post("/api/v1/compounds/remediations/C5/steps", headers=h,
                        json={"step": "gatekeeping", "done_on": "not a date"})  # fmt: skip
        assert r.status_code == 422
        assert r.headers["content-type"].startswith("application/problem+json")
        r = client.post("/api/v1/compounds/remediations", json={**body, "compound": "C1"},
                        headers=h)  # fmt: skip
        assert r.status_code == 403  # a west compound
        r = client.get("/api/v1/compounds/totals", headers=login(client, "chief"))
        rows = {row["unit_id"]: row for row in r.json()}
        assert rows[city.id("DE")]["compounds"] == 3
        assert rows[city.id("DW")]["residents_benefiting"] == 800
        r = client.get("/api/v1/compounds/remediations", params={"status": "completed"},
                       headers=h)  # fmt: skip
        assert [row["compound"] for row in r.json()] == ["C3"]
    runner = CliRunner()
    result = runner.invoke(cli_app, ["compounds", "totals"])
    assert result.exit_code == 0 and "800" in result.output
    result = runner.invoke(cli_app, ["compounds", "list", "--status", "in_progress"])
    assert result.exit_code == 0 and "C2" in result.output and "C5" in result.output
