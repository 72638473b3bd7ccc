"""The legal outreach register: recording, CSV import with line numbers, counts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from pingan.app import create_app
from pingan.cli import app as cli_app
from pingan.governance import outreach_service as service
from pingan.governance.outreach_models import OutreachActivity
from pingan.governance.outreach_service import ActivityIn
from pingan.kit.db import session_scope
from pingan.kit.errors import Forbidden, ValidationFailed
from pingan.org import users
from pingan.org.levels import Level
from pingan.org.principal import Principal
from pingan.settings import get_settings
from tests.cases.conftest import PEOPLE, _password_hash, login, principal
from tests.citykit import TestCity, unit

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
    return ids


def _record(engine: Engine, who: str = "system", **fields: Any) -> None:
    actor = SYSTEM if who == "system" else principal(engine, who)
    with session_scope(engine) as s:
        service.record(s, activity_in=ActivityIn.model_validate(fields), actor=actor)


# kind, day (2026-10-dd or 2026-11-dd), unit, attendance, hours
FIXTURE = [
    ("law_lecture", dt.date(2026, 10, 3), "MW", 40, None),
    ("law_lecture", dt.date(2026, 10, 3), "W1", 25, None),
    ("mobile_court", dt.date(2026, 10, 9), "SW", 60, None),
    ("pro_bono_hours", dt.date(2026, 10, 9), "ME", 12, 3.5),
    ("pro_bono_hours", dt.date(2026, 11, 2), "E2", 8, 2.0),
    ("circuit_court", dt.date(2026, 11, 20), "DE", 100, None),
    ("law_lecture", dt.date(2026, 12, 1), "W2", 30, None),  # after the period
]


def _fixture(engine: Engine) -> None:
    for kind, day, code, attendance, hours in FIXTURE:
        _record(engine, kind=kind, title=f"{kind} at {code}", held_on=day, unit=code,
                attendance=attendance, hours=hours)  # fmt: skip


def test_counts_by_area_and_date(engine: Engine, staff: dict[str, int], city: TestCity) -> None:
    _fixture(engine)
    start, end = dt.date(2026, 10, 1), dt.date(2026, 12, 1)
    with session_scope(engine) as s:
        rows = service.counts(s, actor=SYSTEM, start=start, end=end)
        got = {(r.area_id, r.period, r.kind): (r.activities, r.attendance, r.hours) for r in rows}
        west, east = city.id("DW"), city.id("DE")
        assert got == {
            (west, "2026-10", "law_lecture"): (2, 65, 0.0),
            (west, "2026-10", "mobile_court"): (1, 60, 0.0),
            (east, "2026-10", "pro_bono_hours"): (1, 12, 3.5),
            (east, "2026-11", "pro_bono_hours"): (1, 8, 2.0),
            (east, "2026-11", "circuit_court"): (1, 100, 0.0),
        }
        by_day = service.counts(s, actor=SYSTEM, start=start, end=end, by="day")
        assert {(r.period, r.kind) for r in by_day if r.area_id == west} == {
            ("2026-10-03", "law_lecture"), ("2026-10-09", "mobile_court"),
        }  # fmt: skip
        # By community: the district-level court sitting counts under the district itself.
        by_community = service.counts(
            s, actor=SYSTEM, start=start, end=end, area_level=Level.COMMUNITY, by="all"
        )
        totals = {(r.area_id, r.kind): r.activities for r in by_community}
        assert totals[(city.id("MW"), "law_lecture")] == 2
        assert totals[(city.id("SW"), "mobile_court")] == 1
        assert totals[(city.id("DE"), "circuit_court")] == 1
        east_only = service.counts(s, actor=principal(engine, "east_officer"), start=start, end=end)
        assert {r.area_id for r in east_only} == {east}
        assert service.counts(s, actor=principal(engine, "nobody"), start=start, end=end) == []
        with pytest.raises(ValidationFailed):
            service.counts(s, actor=SYSTEM, start=end, end=start)


def test_bad_input_and_scope(engine: Engine, staff: dict[str, int]) -> None:
    with pytest.raises(ValidationFailed, match="org unit 'XX' not found"):
        _record(engine, kind="law_lecture", title="t", held_on="2026-10-01", unit="XX",
                attendance=3)  # fmt: skip
    with pytest.raises(ValidationFailed, match="need hours"):
        _record(engine, kind="pro_bono_hours", title="t", held_on="2026-10-01", unit="W1",
                attendance=3)  # fmt: skip
    with pytest.raises(Forbidden):
        _record(engine, who="east_officer", kind="law_lecture", title="t",
                held_on="2026-10-01", unit="W1", attendance=3)  # fmt: skip
    with pytest.raises(Forbidden):  # grid workers report cases, they do not keep this register
        _record(engine, who="w1_worker", kind="law_lecture", title="t", held_on="2026-10-01",
                unit="W1", attendance=3)  # fmt: skip
    with session_scope(engine) as s:
        assert s.scalar(select(func.count(OutreachActivity.id))) == 0


def test_csv_import_keeps_good_rows_and_names_bad_lines(
    engine: Engine, staff: dict[str, int], tmp_path: Path
) -> None:
    path = tmp_path / "outreach.csv"
    path.write_text(
        "kind,title,held_on,unit,attendance,hours,organiser\n"
        "law_lecture,宪法宣传日讲座,2026-12-04,MW,80,,司法所\n"
        "karaoke,联欢,2026-12-05,MW,10,,\n"
        "pro_bono_hours,律师值班,2026-12-06,W1,6,4,律所\n"
        "mobile_court,巡回审判,2026-13-01,SW,30,,法院\n"
        "legal_clinic,法律门诊,2026-12-07,NOPE,5,,\n",
        "utf-8",
    )
    result = CliRunner().invoke(cli_app, ["outreach", "import", str(path)])
    assert result.exit_code == 1
    assert "2 activities added, 3 rejected" in result.output
    for line in (3, 5, 6):
        assert f"outreach.csv:{line}:" in result.output.replace("\n", "")
    with session_scope(engine) as s:
        titles = set(s.scalars(select(OutreachActivity.title)))
        assert titles == {"宪法宣传日讲座", "律师值班"}
    bad = tmp_path / "bad.csv"
    bad.write_text("kind,title\nlaw_lecture,x\n", "utf-8")
    result = CliRunner().invoke(cli_app, ["outreach", "import", str(bad)])
    assert result.exit_code == 1 and "line 1: missing columns" in result.output


def test_outreach_api_and_cli(engine: Engine, staff: dict[str, int], city: TestCity) -> None:
    _fixture(engine)
    with TestClient(create_app(get_settings(), engine)) as client:
        h = login(client, "west_officer")
        body = {"kind": "law_lecture", "title": "民法典进社区", "held_on": "2026-10-20",
                "unit": "W2", "attendance": 55}  # fmt: skip
        r = client.post("/api/v1/outreach/activities", json=body, headers=h)
        assert r.status_code == 201 and r.json()["unit_id"] == city.id("W2")
        r = client.post("/api/v1/outreach/activities", json={**body, "attendance": -1}, headers=h)
        assert r.status_code == 422
        assert r.headers["content-type"].startswith("application/problem+json")
        period = {"start": "2026-10-01", "end": "2026-11-01", "by": "all"}
        r = client.get("/api/v1/outreach/counts", headers=h, params=period)
        rows = {row["kind"]: row for row in r.json()}
        assert rows["law_lecture"]["activities"] == 3 and rows["law_lecture"]["attendance"] == 120
        assert set(rows) == {"law_lecture", "mobile_court"}  # west only
        r = client.get("/api/v1/outreach/activities", headers=h,
                       params={"start": "2026-10-01", "end": "2026-10-04"})  # fmt: skip
        assert len(r.json()) == 2
    result = CliRunner().invoke(
        cli_app, ["outreach", "counts", "--start", "2026-10-01", "--end", "2026-12-01"]
    )
    assert result.exit_code == 0 and "circuit_court" in result.output
    result = CliRunner().invoke(cli_app, ["outreach", "counts", "--start", "x", "--end", "y"])
    assert result.exit_code != 0
