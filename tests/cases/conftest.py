"""Fixtures for case tests: the test city, case categories, people with grants."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from pingan.app import create_app
from pingan.cases.categories import ensure_categories
from pingan.kit.db import session_scope
from pingan.kit.security import hash_password
from pingan.org import auth, users
from pingan.org.principal import Principal
from pingan.settings import get_settings
from tests.citykit import TestCity, unit

PASSWORD = "correct horse battery"

# username -> (role, org unit code)
PEOPLE = {
    "chief": ("admin", "C"),
    "west_officer": ("officer", "DW"),
    "east_officer": ("officer", "DE"),
    "w1_worker": ("grid_worker", "W1"),
    "w2_worker": ("grid_worker", "W2"),
    "nobody": (None, None),
}


@lru_cache(maxsize=1)
def _password_hash() -> str:
    # One argon2 hash for every test user: hashing per user dominated setup time.
    return hash_password(PASSWORD)


@pytest.fixture
def people(engine: Engine, city: TestCity) -> dict[str, int]:
    ids = {}
    system = Principal.system("test")
    with session_scope(engine) as session:
        ensure_categories(session)
        for name, (role, code) in PEOPLE.items():
            user = users.create_user(
                session, username=name, password=None, is_service=True, actor=system
            )
            user.password_hash, user.is_service = _password_hash(), False
            if role is not None and code is not None:
                users.grant_role(
                    session, user=user, role_name=role, unit=unit(session, code), actor=system
                )
            ids[name] = user.id
    return ids


def open311_app_key(engine: Engine, username: str = "citizen_app") -> str:
    """An API key for a city's Open311 app: a service account granted at the city."""
    system = Principal.system("test")
    with session_scope(engine) as s:
        user = users.create_user(s, username=username, password="x" * 12, actor=system)
        users.grant_role(s, user=user, role_name="grid_worker", unit=unit(s, "C"), actor=system)
        secret, _ = auth.create_api_key(s, user=user, name="311 app", actor=system)
    return secret


def principal(engine: Engine, name: str) -> Principal:
    with session_scope(engine) as session:
        return users.principal_for(session, users.get_user_by_name(session, name), via="session")


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    app = create_app(get_settings(), engine)
    with TestClient(app) as test_client:
        yield test_client


def login(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
