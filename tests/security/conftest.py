"""Users for the security tests: one with every permission over the whole city,
one with every permission but only in the east district, and data in the west.

Everything the west-side fixtures store carries ``MARKER``, so any response
that shows it to the east-only user has leaked across org scope.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from pingan.app import create_app
from pingan.kit import security
from pingan.kit.db import session_scope
from pingan.org import users
from pingan.org.principal import Principal
from pingan.settings import get_settings
from tests.citykit import TestCity, grid_centre, unit
from tests.console.conftest import browser, console  # noqa: F401  (fixtures for the CSP test)

PASSWORD = "matrix-pass-2026"
PRODUCTION_HASHER = security._hasher
MARKER = "zq-west-only-7f3a91"


@dataclass
class World:
    city: TestCity
    ids: dict[str, int] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The production argon2id profile costs about a second a hash on a loaded
    test machine; these tests hash dozens. Same algorithm, smallest cost."""
    monkeypatch.setattr(
        security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture
def app_client(engine: Engine) -> Iterator[TestClient]:
    # No job worker: jobs that calls enqueue would only compete for the CPU.
    settings = get_settings().model_copy(update={"run_jobs": False})
    with TestClient(create_app(settings, engine)) as client:
        yield client


def bearer(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    client.cookies.clear()  # calls pass the bearer token explicitly
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def world(engine: Engine, city: TestCity, app_client: TestClient) -> World:
    system = Principal.system("security-test")
    found = World(city=city)
    with session_scope(engine) as session:
        for name, code in (("city_admin", "C"), ("east_admin", "DE"), ("west_admin", "DW")):
            user = users.create_user(session, username=name, password=PASSWORD, actor=system)
            users.grant_role(
                session, user=user, role_name="admin", unit=unit(session, code), actor=system
            )
            found.ids[f"user:{name}"] = user.id
    for name in ("city_admin", "east_admin", "west_admin"):
        found.headers[name] = bearer(app_client, name)
    west = found.headers["west_admin"]
    lon, lat = grid_centre("W1")
    incident = app_client.post(
        "/api/v1/incidents",
        json={
            "type": "theft.bicycle",
            "occurred_at": "2026-11-01T10:00:00+08:00",
            "lon": lon,
            "lat": lat,
            "summary": MARKER,
        },
        headers=west,
    )
    assert incident.status_code == 201, incident.text
    case = app_client.post(
        "/api/v1/cases",
        json={
            "category": "blocked_passage",
            "title": MARKER,
            "description": MARKER,
            "lon": lon,
            "lat": lat,
        },
        headers=west,
    )
    assert case.status_code == 201, case.text
    responder = app_client.post(
        "/api/v1/dispatch/responders",
        json={"display_name": MARKER, "kind": "police_unit", "org_unit_id": city.id("W1")},
        headers=west,
    )
    assert responder.status_code == 201, responder.text
    found.ids.update(
        incident_id=incident.json()["id"],
        case_id=case.json()["id"],
        responder_id=responder.json()["id"],
        unit_id=city.id("DW"),
        user_id=found.ids["user:west_admin"],
    )
    return found
