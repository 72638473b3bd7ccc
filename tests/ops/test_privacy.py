"""Access requests: everything held about a person, for city-wide privacy officers only."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from pingan.cases.categories import ensure_categories
from pingan.cases.schemas import CaseIn
from pingan.cases.service import create_case
from pingan.cases.workflows.grid_event import DEFAULT_CATEGORIES
from pingan.cli import app
from pingan.dispatch.responder_models import Responder
from pingan.kit import audit
from pingan.kit.db import session_scope
from pingan.org import users
from tests.api.conftest import PASSWORD, login
from tests.citykit import TestCity, grid_centre, unit
from tests.ops.conftest import SYSTEM

PHONE = "13912345678"


def _person(engine: Engine, city: TestCity) -> dict[str, int]:
    """Li Wei: a user (a volunteer responder), the reporter of two cases; plus a stranger's case."""
    lon, lat = grid_centre("E1")
    with session_scope(engine) as session:
        ensure_categories(session)
        user = users.create_user(
            session, username="liwei", password=PASSWORD, display_name="Li Wei", actor=SYSTEM
        )
        users.grant_role(session, user=user, role_name="grid_worker", unit=unit(session, "E1"),
                         actor=SYSTEM)  # fmt: skip
        session.add(Responder(display_name="Li Wei", kind="volunteer", tier=3,
                              org_unit_id=city.id("E1"), user_id=user.id))  # fmt: skip
        ids = {"user": user.id}
        for key, name, phone in (("by_name", "Li Wei", None), ("by_phone", None, PHONE),
                                 ("stranger", "Zhao Min", "13700000000")):  # fmt: skip
            case, _ = create_case(
                session,
                case_in=CaseIn(category=DEFAULT_CATEGORIES[0][0], title="Pothole", lon=lon,
                               lat=lat, reporter_name=name, reporter_phone=phone),
                actor=SYSTEM,
            )  # fmt: skip
            ids[key] = case.id
    return ids


def test_export_holds_all_that_names_the_person_and_nothing_else(
    client: TestClient, engine: Engine, city: TestCity, people: dict[str, int]
) -> None:
    ids = _person(engine, city)
    login(client, "liwei")  # an action of theirs in the audit log
    chief = login(client, "chief")
    response = client.post(
        "/api/v1/privacy/exports",
        json={"name": "Li Wei", "phone": PHONE, "username": "liwei"},
        headers=chief,
    )
    assert response.status_code == 200, response.text
    doc = response.json()
    records = doc["records"]
    assert [u["id"] for u in records["users"]] == [ids["user"]]
    assert sorted(c["id"] for c in records["cases"]) == sorted([ids["by_name"], ids["by_phone"]])
    assert [r["user_id"] for r in records["responders"]] == [ids["user"]]
    assert [m["user_id"] for m in records["memberships"]] == [ids["user"]]
    assert any(a["action"].startswith("auth.") for a in doc["actions_in_audit_log"])
    text = json.dumps(doc)
    assert "Zhao Min" not in text
    assert "password_hash" not in text and "public_token" not in text
    # The answer is audited, without writing the person's name into the permanent log.
    with session_scope(engine) as session:
        entry = session.scalar(
            select(audit.AuditEntry).where(audit.AuditEntry.action == "privacy.export")
        )
        assert entry is not None and entry.actor == "user:chief"
        assert "Li Wei" not in entry.detail and PHONE not in entry.detail


def test_only_city_wide_privacy_officers_may_export(
    client: TestClient, engine: Engine, city: TestCity, people: dict[str, int]
) -> None:
    _person(engine, city)
    with session_scope(engine) as session:
        west_admin = users.create_user(session, username="west_admin", password=PASSWORD,
                                       actor=SYSTEM)  # fmt: skip
        users.grant_role(session, user=west_admin, role_name="admin", unit=unit(session, "DW"),
                         actor=SYSTEM)  # fmt: skip
    body = {"name": "Li Wei"}
    assert client.post("/api/v1/privacy/exports", json=body).status_code == 401
    for name in ("west_officer", "west_admin"):
        refused = client.post("/api/v1/privacy/exports", json=body, headers=login(client, name))
        assert refused.status_code == 403, (name, refused.text)
    chief = login(client, "chief")
    empty = client.post("/api/v1/privacy/exports", json={}, headers=chief)
    assert empty.status_code == 422 and empty.json()["field"] == "person"
    rules = client.get("/api/v1/privacy/retention", headers=chief).json()
    assert {r["setting"] for r in rules} >= {"PINGAN_RETENTION_POSITIONS_HOURS"}


def test_cli_export_writes_the_document(engine: Engine, city: TestCity, tmp_path: Path) -> None:
    ids = _person(engine, city)
    out = tmp_path / "li-wei.json"
    result = CliRunner().invoke(app, ["privacy", "export", "--person", "Li Wei", "-o", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["counts"]["cases"] == 1 and doc["records"]["cases"][0]["id"] == ids["by_name"]
    nothing = CliRunner().invoke(app, ["privacy", "export", "-o", str(out)])
    assert nothing.exit_code == 1 and "at least one" in nothing.output
