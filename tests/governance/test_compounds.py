"""Compound remediation as a case type: the project's course on the engine, its clocks
and escalation, the register as a view over the cases, totals by area, API and CLI.

Times are in the city's zone; Monday 30 Nov 2026 is a working day.
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from shapely import box
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from pingan.app import create_app
from pingan.cases.clocks import clocks_of
from pingan.cases.escalation import run_escalations
from pingan.cases.models import Case
from pingan.cases.service import timeline
from pingan.cli import app as cli_app
from pingan.governance import compounds_service as service
from pingan.governance.compounds_service import RemediationIn, StepDoneIn
from pingan.governance.compounds_totals import totals
from pingan.kit.audit import AuditEntry
from pingan.kit.db import session_scope
from pingan.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from pingan.org import users
from pingan.org.levels import Level
from pingan.org.principal import Principal
from pingan.places.models import Management
from pingan.places.service import CompoundIn, add_compounds
from pingan.settings import get_settings
from tests.cases.conftest import PEOPLE, _password_hash, login, principal
from tests.citykit import TestCity, grid_centre, unit

SYSTEM = Principal.system("test")
SH = ZoneInfo("Asia/Shanghai")
EVIDENCE = "备案回执 2026-031"


def local(y: int, m: int, d: int, h: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, minute, tzinfo=SH)


T0 = local(2026, 11, 30)
DEMO_SEED = 1


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
        for code, grid, with_grid, households in (
            ("C1", "W1", True, 300), ("C2", "W2", False, 300), ("C3", "E1", True, 800),
            ("C4", "E2", True, 1500), ("C5", "E1", True, 300),
        ):  # fmt: skip
            lon, lat = grid_centre(grid)
            compounds.append(
                CompoundIn(
                    code=code, name_zh=f"{code}小区", name_en=code,
                    geom=box(lon - 0.001, lat - 0.001, lon + 0.001, lat + 0.001),
                    households=households, buildings=6, management=Management.UNMANAGED,
                    grid_id=unit(session, grid).id if with_grid else None,
                )
            )  # fmt: skip
        add_compounds(session, compounds, actor=SYSTEM)
    return ids


def _register(
    engine: Engine, code: str, flags: tuple[bool, bool, bool], residents: int, at: dt.datetime = T0
) -> str:
    with session_scope(engine) as s:
        case, _ = service.register(
            s,
            remediation_in=RemediationIn(
                compound=code, no_property_management=flags[0],
                no_responsible_department=flags[1], no_self_governance=flags[2],
                residents=residents,
            ),
            actor=SYSTEM, now=at,
        )  # fmt: skip
        return case.number


def _take(
    engine: Engine, number: str, name: str, at: dt.datetime, who: str = "system", **fields: object
) -> None:
    actor = SYSTEM if who == "system" else principal(engine, who)
    with session_scope(engine) as s:
        service.take(s, number=number, transition=name, fields=fields, actor=actor, now=at)


def _done(engine: Engine, code: str, step: str, day: int, who: str = "system") -> None:
    actor = SYSTEM if who == "system" else principal(engine, who)
    with session_scope(engine) as s:
        service.record_step(
            s, code=code, actor=actor, now=local(2026, 12, day),
            step_in=StepDoneIn(step=step, done_on=dt.date(2026, 12, day), note=EVIDENCE),
        )  # fmt: skip


def _fixture(engine: Engine) -> dict[str, str]:
    numbers = {
        "C1": _register(engine, "C1", (True, True, True), 800),
        "C2": _register(engine, "C2", (True, False, True), 300),
        "C3": _register(engine, "C3", (True, False, False), 500),
        "C4": _register(engine, "C4", (False, True, False), 200),
    }
    for code in ("C1", "C2", "C3"):
        _take(engine, numbers[code], "survey", local(2026, 12, 1), findings="no gate")
    for day, step in enumerate(service.STEPS, start=2):
        _done(engine, "C1", step, day)
        _done(engine, "C3", step, 10 + day)
    _take(engine, numbers["C1"], "accept", local(2026, 12, 9), opinion="合格")
    _done(engine, "C2", "access_control", 5)
    _done(engine, "C2", "self_governance", 3)
    return numbers


def test_a_project_is_a_case_on_the_engine(engine: Engine, staff: dict[str, int]) -> None:
    number = _register(engine, "C1", (True, True, True), 800)
    with session_scope(engine) as s:
        project = service.get(s, "C1", actor=SYSTEM)
        case = project.case
        assert number.startswith("XQ-2026-") and case.case_type == "compound_remediation"
        # Led by the subdistrict of the compound's grid, in community governance.
        assert case.unit_id == unit(s, "SW").id and case.department == "community_governance"
        assert (case.state, project.status) == ("registered", "planned")
        survey = next(c for c in clocks_of(s, case.id) if c.name == "survey")
        # 20 working days after Mon 30 Nov: Mon 28 Dec at close of business.
        assert survey.due_at == local(2026, 12, 28, 17)
    with pytest.raises(Conflict, match="not allowed from state 'registered'"):
        _take(engine, number, "record_step", T0, step="gatekeeping", done_on="2026-12-01",
              evidence=EVIDENCE)  # fmt: skip
    _take(engine, number, "survey", local(2026, 12, 1), findings="无门卫，无物业")
    with pytest.raises(ValidationFailed, match="needs its evidence"):
        _take(engine, number, "record_step", local(2026, 12, 2), step="gatekeeping",
              done_on="2026-12-02", evidence="")  # fmt: skip
    for day, step in enumerate(service.STEPS[:3], start=2):
        _take(engine, number, "record_step", local(2026, 12, day), step=step,
              done_on=f"2026-12-0{day}", evidence=EVIDENCE)  # fmt: skip
    with pytest.raises(Conflict, match="still to do: quasi_property"):
        _take(engine, number, "request_acceptance", local(2026, 12, 5))
    with session_scope(engine) as s:
        case = service.get(s, "C1", actor=SYSTEM).case
        target = next(c for c in clocks_of(s, case.id) if c.name == "remediate")
        # 300 households: a small compound, 120 calendar days from the survey.
        assert target.due_at == local(2026, 12, 1) + dt.timedelta(days=120)
    # The fourth step asks for acceptance at once; its clock is 15 working days.
    _take(engine, number, "record_step", local(2026, 12, 7), step="quasi_property",
          done_on="2026-12-07", evidence=EVIDENCE)  # fmt: skip
    _take(engine, number, "reject", local(2026, 12, 9), reason="北门无门禁")
    _take(engine, number, "request_acceptance", local(2026, 12, 14))
    _take(engine, number, "accept", local(2026, 12, 16), opinion="验收合格")
    with session_scope(engine) as s:
        project = service.get(s, "C1", actor=SYSTEM)
        case = project.case
        assert (case.state, case.is_open, project.status) == ("remediated", False, "completed")
        assert all(c.status == "stopped" for c in clocks_of(s, case.id))
        moves = [(e.from_state, e.to_state) for e in timeline(s, case.id) if e.kind == "transition"]
        assert moves == [
            ("registered", "surveyed"), ("surveyed", "in_progress"),
            ("in_progress", "in_progress"), ("in_progress", "in_progress"),
            ("in_progress", "in_progress"), ("in_progress", "acceptance"),
            ("acceptance", "in_progress"), ("in_progress", "acceptance"),
            ("acceptance", "remediated"),
        ]  # fmt: skip
        steps = service.steps(s, case)
        assert [x.step for x in steps] == list(service.STEPS)
        assert {x.note for x in steps} == {EVIDENCE} and {x.recorded_by for x in steps} == {
            "system:test"
        }
        audited = s.scalars(
            select(AuditEntry.action).where(AuditEntry.object_id == case.number)
        ).all()
        assert audited.count("case.transition") == 9


def test_suspend_pauses_and_postpone_moves_the_target(
    engine: Engine, staff: dict[str, int]
) -> None:
    number = _register(engine, "C1", (True, True, True), 800)
    _take(engine, number, "survey", local(2026, 12, 1), findings="x")
    _take(engine, number, "record_step", local(2026, 12, 2), step="gatekeeping",
          done_on="2026-12-02", evidence=EVIDENCE)  # fmt: skip
    _take(engine, number, "suspend", local(2026, 12, 11), reason="业主意见分歧")
    _take(engine, number, "resume", local(2026, 12, 21))
    with pytest.raises(ValidationFailed, match="days must be an integer"):
        _take(engine, number, "postpone", local(2026, 12, 22), reason="x", days=0)
    _take(engine, number, "postpone", local(2026, 12, 22), reason="设备采购延期", days=30)
    with session_scope(engine) as s:
        case = service.get(s, "C1", actor=SYSTEM).case
        target = next(c for c in clocks_of(s, case.id) if c.name == "remediate")
        # 120 days from 1 Dec, 10 days paused, 30 more days: 10 May 2027.
        assert target.due_at == local(2026, 12, 1) + dt.timedelta(days=160)
        clock_events = [json.loads(e.detail) for e in timeline(s, case.id) if e.kind == "clock"]
        assert clock_events[-1]["changes"] == ["remediate:extended:30d"]
    # The breach comes at the moved target, flagged for supervision; not before.
    assert run_escalations(engine, now=local(2027, 5, 10, 9)) == 1  # only the reminder
    assert run_escalations(engine, now=local(2027, 5, 10, 11)) == 1
    with session_scope(engine) as s:
        case = service.get(s, "C1", actor=SYSTEM).case
        assert case.supervision_flag
    _take(engine, number, "terminate", local(2027, 5, 10), reason="纳入旧改征收")
    with session_scope(engine) as s:
        project = service.get(s, "C1", actor=SYSTEM)
        assert (project.case.state, project.status) == ("cancelled", "cancelled")
    # A cancelled project may be followed by a new one for the same compound.
    again = _register(engine, "C1", (True, False, True), 750, at=local(2027, 6, 1))
    with session_scope(engine) as s:
        project = service.get(s, "C1", actor=SYSTEM)
        assert project.case.number == again != number and project.record.residents == 750


def test_register_view_and_totals_come_from_the_cases(
    engine: Engine, staff: dict[str, int], city: TestCity
) -> None:
    _fixture(engine)
    with session_scope(engine) as s:
        c1 = service.get(s, "C1", actor=SYSTEM)
        assert (c1.status, c1.case.state) == ("completed", "remediated")
        c3 = service.get(s, "C3", actor=SYSTEM)
        assert (c3.status, c3.case.state) == ("in_progress", "acceptance")
        c2 = service.get(s, "C2", actor=SYSTEM)
        assert (c2.status, c2.case.state) == ("in_progress", "in_progress")
        # C2 has no grid of its own: it is placed by its position, in W2.
        assert c2.record.grid_path.endswith(f"/{city.id('W2')}/")
        assert c2.case.grid_id == city.id("W2")
        by_area = {t.unit_id: t for t in totals(s, actor=SYSTEM)}
        west, east = by_area[city.id("DW")], by_area[city.id("DE")]
        assert (west.compounds, west.no_property_management, west.no_responsible_department,
                west.no_self_governance) == (2, 2, 1, 2)  # fmt: skip
        assert (west.planned, west.in_progress, west.remediated) == (0, 1, 1)
        assert (west.residents_benefiting, west.steps_done) == (800, 6)
        assert (east.compounds, east.planned, east.in_progress, east.remediated) == (2, 1, 1, 0)
        assert east.residents_benefiting == 0
        by_grid = {t.unit_id: t for t in totals(s, actor=SYSTEM, area_level=Level.GRID)}
        assert by_grid[city.id("W1")].remediated == 1 and city.id("E2") in by_grid
        scoped = totals(s, actor=principal(engine, "east_officer"))
        assert [t.unit_id for t in scoped] == [city.id("DE")]
        rows = service.list_projects(s, actor=SYSTEM, status="planned")
        assert [p.compound.code for p, _n in rows] == ["C4"]
        with pytest.raises(ValidationFailed, match="unknown status"):
            service.list_projects(s, actor=SYSTEM, status="done")


def test_bad_input_and_scope(engine: Engine, staff: dict[str, int]) -> None:
    with pytest.raises(ValidationError, match="at least one of the three"):
        RemediationIn(compound="C1", no_property_management=False, residents=10,
                      no_responsible_department=False, no_self_governance=False)  # fmt: skip
    with pytest.raises(ValidationFailed, match="compound 'C9' not found"):
        _register(engine, "C9", (True, True, True), 10)
    number = _register(engine, "C1", (True, True, True), 800)
    with pytest.raises(Conflict, match="already has a remediation project"):
        _register(engine, "C1", (True, False, False), 800)
    _take(engine, number, "survey", T0, findings="x")
    with pytest.raises(ValidationFailed, match="step must be one of"):
        _done(engine, "C1", "painting", 1)
    with pytest.raises(ValidationFailed, match="done_on must be a date"):
        _take(engine, number, "record_step", T0, step="gatekeeping", done_on="soon",
              evidence=EVIDENCE)  # fmt: skip
    _done(engine, "C1", "gatekeeping", 1)
    with pytest.raises(Conflict, match="already done"):
        _done(engine, "C1", "gatekeeping", 2)
    with pytest.raises(NotFound):  # out of the east officer's scope
        _done(engine, "C1", "access_control", 2, who="east_officer")
    with pytest.raises(Forbidden):  # a grid worker sees the case but may not record steps
        _done(engine, "C1", "access_control", 2, who="w1_worker")
    _done(engine, "C1", "access_control", 2, who="west_officer")
    with pytest.raises(NotFound, match="no remediation project"):
        _done(engine, "C5", "access_control", 2)
    with session_scope(engine) as s, pytest.raises(Forbidden):
        service.register(
            s, actor=principal(engine, "east_officer"),
            remediation_in=RemediationIn(compound="C2", no_property_management=True,
                                         no_responsible_department=False,
                                         no_self_governance=False, residents=5),
        )  # fmt: skip


def test_compounds_api_and_cli(engine: Engine, staff: dict[str, int], city: TestCity) -> None:
    numbers = _fixture(engine)
    with TestClient(create_app(get_settings(), engine)) as client:
        h = login(client, "east_officer")
        body = {"compound": "C5", "no_property_management": True, "residents": 90,
                "no_responsible_department": True, "no_self_governance": False}  # fmt: skip
        r = client.post("/api/v1/compounds/remediations", json=body, headers=h)
        assert r.status_code == 201, r.text
        created = r.json()
        assert (created["status"], created["state"]) == ("planned", "registered")
        assert created["steps_to_do"] == list(service.STEPS)
        assert created["case"]["clocks"][0]["name"] == "survey"
        number = created["number"]
        survey = {"transition": "survey", "fields": {"findings": "无门卫"}}
        r = client.post(f"/api/v1/compounds/cases/{number}/transitions", headers=h, json=survey)
        assert r.status_code == 200 and r.json()["state"] == "surveyed"
        assert r.json()["target_on"] is not None
        # Evidence as a file of the case, then named by the step.
        pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
        r = client.post(f"/api/v1/compounds/cases/{number}/attachments", headers=h,
                        files={"file": ("receipt.pdf", pdf, "application/pdf")})  # fmt: skip
        assert r.status_code == 201, r.text
        attachment_id = r.json()["id"]
        r = client.post("/api/v1/compounds/remediations/C5/steps", headers=h,
                        json={"step": "gatekeeping", "done_on": "2026-12-01",
                              "attachment_id": attachment_id})  # fmt: skip
        assert r.status_code == 200, r.text
        assert r.json()["progress"] == 0.25 and r.json()["status"] == "in_progress"
        assert r.json()["steps"][0]["attachment_id"] == attachment_id
        r = client.post("/api/v1/compounds/remediations/C5/steps", headers=h,
                        json={"step": "gatekeeping", "done_on": "not a date"})  # fmt: skip
        assert r.status_code == 422
        assert r.headers["content-type"].startswith("application/problem+json")
        r = client.post(f"/api/v1/compounds/cases/{number}/transitions", headers=h,
                        json={"transition": "accept", "fields": {"opinion": "x"}})  # fmt: skip
        assert r.status_code == 409
        assert r.headers["content-type"].startswith("application/problem+json")
        r = client.post("/api/v1/compounds/remediations", json={**body, "compound": "C1"},
                        headers=h)  # fmt: skip
        assert r.status_code == 403  # a west compound
        r = client.get(f"/api/v1/compounds/cases/{numbers['C1']}", headers=h)
        assert r.status_code == 404  # a west case
        r = client.get(f"/api/v1/compounds/cases/{numbers['C1']}", headers=login(client, "chief"))
        assert r.status_code == 200 and r.json()["completed_on"] == "2026-12-09"
        assert [e["kind"] for e in r.json()["case"]["timeline"]][:2] == ["created", "transfer"]
        # The generic case routes do not serve this case type.
        r = client.get(f"/api/v1/cases/{r.json()['case']['id']}", headers=login(client, "chief"))
        assert r.status_code == 404
        r = client.get("/api/v1/compounds/totals", headers=login(client, "chief"))
        rows = {row["unit_id"]: row for row in r.json()}
        assert rows[city.id("DE")]["compounds"] == 3
        assert rows[city.id("DW")]["residents_benefiting"] == 800
        r = client.get("/api/v1/compounds/remediations", params={"status": "completed"},
                       headers=login(client, "chief"))  # fmt: skip
        assert [row["compound"] for row in r.json()] == ["C1"]
    runner = CliRunner()
    result = runner.invoke(cli_app, ["compounds", "totals"])
    assert result.exit_code == 0 and "800" in result.output
    result = runner.invoke(cli_app, ["compounds", "list", "--status", "in_progress"])
    assert result.exit_code == 0 and "C2" in result.output and "C5" in result.output
    result = runner.invoke(cli_app, ["compounds", "show", numbers["C1"]])
    assert (
        result.exit_code == 0
        and "remediated" in result.output
        and "quasi_property" in result.output
    )
    with session_scope(engine) as s:
        assert s.scalar(select(Case.state).where(Case.number == numbers["C3"])) == "acceptance"


def test_demo_seeds_open_and_closed_projects_through_the_engine(
    engine: Engine, staff: dict[str, int]
) -> None:
    from pingan.governance.compounds_demo import seed_demo_remediations

    assert seed_demo_remediations(engine, seed=DEMO_SEED, count=5, now=T0) == 5
    assert seed_demo_remediations(engine, seed=DEMO_SEED, count=5, now=T0) == 0
    with session_scope(engine) as s:
        projects = [p for p, _n in service.list_projects(s, actor=SYSTEM)]
        assert len(projects) == 5
        states = {p.case.state for p in projects}
        assert "remediated" in states and states & {"surveyed", "in_progress", "acceptance"}
        for p in projects:
            events = timeline(s, p.case.id)
            assert events[0].kind == "created" and events[0].at < T0
            assert all(e.at <= T0 for e in events)
            done = service.steps(s, p.case)
            # Every step was recorded as a transition with its evidence.
            recorded = [
                e for e in events if json.loads(e.detail).get("transition") == "record_step"
            ]
            assert len(recorded) == len(done) and all(x.note for x in done)
            if p.case.state == "remediated":
                assert len(done) == 4 and not p.case.is_open
        remediated = sum(p.record.residents for p in projects if p.case.state == "remediated")
        assert sum(t.residents_benefiting for t in totals(s, actor=SYSTEM)) == remediated
