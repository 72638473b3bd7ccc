"""An HTTP client on the real app, and users with grants at known units."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from pingan.app import create_app
from pingan.kit.db import session_scope
from pingan.org import users
from pingan.org.principal import Principal
from pingan.settings import get_settings
from tests.citykit import TestCity, unit

PASSWORD = "correct horse battery"

# username -> (role, org unit code)
PEOPLE = {
    "chief": ("admin", "C"),
    "west_officer": ("officer", "DW"),
    "east_analyst": ("analyst", "DE"),
    "w1_worker": ("grid_worker", "W1"),
    "nobody": (None, None),
}


@pytest.fixture
def people(engine: Engine, city: TestCity) -> dict[str, int]:
    ids = {}
    system = Principal.system("test")
    with session_scope(engine) as session:
        for name, (role, code) in PEOPLE.items():
            user = users.create_user(session, username=name, password=PASSWORD, actor=system)
            if role is not None and code is not None:
                users.grant_role(
                    session, user=user, role_name=role, unit=unit(session, code), actor=system
                )
            ids[name] = user.id
    return ids


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    app = create_app(get_settings(), engine)
    with TestClient(app) as test_client:
        yield test_client


def login(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.cookies.clear()  # tests pass the bearer token explicitly
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
