"""Input limits at the edges: coordinates out of range, overlong strings, huge ids.

Each bad request must be a 4xx problem and store nothing.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from pingan.cases.models import Case
from pingan.incidents.models import Incident
from pingan.kit.db import session_scope
from tests.security.conftest import World

GOOD = {
    "type": "theft.bicycle",
    "occurred_at": "2026-11-02T10:00:00+08:00",
    "lon": 120.005,
    "lat": 30.01,
}


def _count(engine: Engine, model: type[Incident] | type[Case]) -> int:
    with session_scope(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


BAD_INCIDENT_FIELDS = [
    {"lon": 181.0},
    {"lat": -90.5},
    {"lat": "NaN"},
    {"lon": "Infinity"},
    {"summary": "x" * 2001},
    {"type": "t" * 81},
    {"external_id": "e" * 129},
    {"severity": 6},
]


def test_incident_fields_out_of_range_are_422(
    app_client: TestClient, world: World, engine: Engine
) -> None:
    before = _count(engine, Incident)
    for bad in BAD_INCIDENT_FIELDS:
        response = app_client.post(
            "/api/v1/incidents", json={**GOOD, **bad}, headers=world.headers["west_admin"]
        )
        assert response.status_code == 422, (bad, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert _count(engine, Incident) == before


def test_case_coordinates_and_lengths_are_checked(
    app_client: TestClient, world: World, engine: Engine
) -> None:
    before = _count(engine, Case)
    base = {"category": "blocked_passage", "title": "exit blocked", "lon": 120.005, "lat": 30.01}
    for bad in ({"lat": 95.0}, {"lon": -200.0}, {"title": "t" * 201}, {"description": "d" * 5001}):
        response = app_client.post(
            "/api/v1/cases", json={**base, **bad}, headers=world.headers["west_admin"]
        )
        assert response.status_code == 422, (bad, response.text)
    assert _count(engine, Case) == before


def test_ids_past_the_database_range_are_not_server_errors(
    app_client: TestClient, world: World
) -> None:
    headers = world.headers["city_admin"]
    for path in ("/api/v1/incidents/", "/api/v1/cases/", "/api/v1/org/units/"):
        response = app_client.get(path + str(2**70), headers=headers)
        assert 400 <= response.status_code < 500, (path, response.status_code)


def test_batch_larger_than_the_limit_is_refused_whole(
    engine: Engine, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pingan.app import create_app
    from pingan.settings import Settings

    before = _count(engine, Incident)
    with TestClient(create_app(Settings(max_batch_size=3, run_jobs=False), engine)) as client:
        response = client.post(
            "/api/v1/incidents/batch", json=[GOOD] * 4, headers=world.headers["west_admin"]
        )
        assert response.status_code in (413, 422), response.text
        assert response.headers["content-type"] == "application/problem+json"
    assert _count(engine, Incident) == before
