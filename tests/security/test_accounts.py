"""Local accounts: lockout, password policy, argon2id, cookie flags, API key scopes."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from pingan.kit.db import session_scope
from pingan.kit.errors import ValidationFailed
from pingan.org import auth, users
from pingan.org.models import User
from pingan.org.principal import Principal
from tests.security.conftest import PASSWORD, PRODUCTION_HASHER, World

SYSTEM = Principal.system("security-test")


def _login(client: TestClient, username: str, password: str) -> int:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    client.cookies.clear()
    return response.status_code


def test_lockout_after_repeated_failures_then_unlocks(
    app_client: TestClient, world: World, engine: Engine
) -> None:
    # Default PINGAN_LOGIN_MAX_FAILURES is 5.
    for _ in range(4):
        assert _login(app_client, "west_admin", "wrong-password!") == 401
    assert _login(app_client, "west_admin", PASSWORD) == 200  # a success resets the count
    wrong = [app_client.post(
        "/api/v1/auth/login", json={"username": "west_admin", "password": "wrong-password!"}
    ) for _ in range(5)]  # fmt: skip
    assert {r.status_code for r in wrong} == {401}
    # Locked: even the right password is refused, with the same answer as a wrong one.
    locked = app_client.post(
        "/api/v1/auth/login", json={"username": "west_admin", "password": PASSWORD}
    )
    assert locked.status_code == 401
    assert locked.json()["detail"] == wrong[0].json()["detail"]
    token_form = app_client.post(
        "/api/v1/auth/token", data={"username": "west_admin", "password": PASSWORD}
    )
    assert token_form.status_code == 401
    # Other accounts are untouched.
    assert _login(app_client, "east_admin", PASSWORD) == 200
    with session_scope(engine) as session:
        user = session.scalar(select(User).where(User.username == "west_admin"))
        assert user is not None and user.locked_until is not None
        left = user.locked_until - dt.datetime.now(dt.UTC)
        assert dt.timedelta(minutes=14) < left <= dt.timedelta(minutes=15)
        # The lock period passes.
        session.execute(
            update(User)
            .where(User.id == user.id)
            .values(locked_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    assert _login(app_client, "west_admin", PASSWORD) == 200
    actions = [
        e["action"]
        for e in app_client.get(
            "/api/v1/audit", params={"limit": 500}, headers=world.headers["city_admin"]
        ).json()
    ]
    assert "auth.lockout" in actions and "auth.login_locked" in actions


def test_lockout_is_configurable(
    engine: Engine, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pingan.app import create_app
    from pingan.settings import Settings

    settings = Settings(login_max_failures=2, login_lockout_minutes=1)
    with TestClient(create_app(settings, engine)) as client:
        assert _login(client, "east_admin", "wrong-password!") == 401
        assert _login(client, "east_admin", "wrong-password!") == 401
        assert _login(client, "east_admin", PASSWORD) == 401
    with session_scope(engine) as session:
        user = session.scalar(select(User).where(User.username == "east_admin"))
        assert user is not None and user.locked_until is not None
        left = user.locked_until - dt.datetime.now(dt.UTC)
        assert dt.timedelta(seconds=50) < left <= dt.timedelta(minutes=1)


@pytest.mark.parametrize(
    ("username", "password", "reason"),
    [
        ("alice", "short7!", "at least 8"),
        ("alice", "x" * 1025, "at most 1024"),
        ("alice.wang", "Alice.Wang", "not be the username"),
        ("alice", "password123", "most common"),
        ("alice", "Woaini1314", "most common"),
        ("alice", "12345678", "most common"),
    ],
)
def test_password_policy_refuses(
    engine: Engine, city: object, username: str, password: str, reason: str
) -> None:
    with session_scope(engine) as session, pytest.raises(ValidationFailed) as refused:
        users.create_user(session, username=username, password=password, actor=SYSTEM)
    assert reason in refused.value.detail and refused.value.field == "password"


def test_password_policy_accepts_and_stores_argon2id(
    engine: Engine, city: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from argon2 import Type

    from pingan.kit import security

    # The production hasher, not the test suite's cheap one.
    monkeypatch.setattr(security, "_hasher", PRODUCTION_HASHER)
    assert security._hasher.type is Type.ID
    assert security._hasher.memory_cost >= 19 * 1024  # OWASP's floor for argon2id
    with session_scope(engine) as session:
        user = users.create_user(
            session, username="alice", password="a long passphrase", actor=SYSTEM
        )
        assert user.password_hash is not None and user.password_hash.startswith("$argon2id$")


def test_password_policy_over_http_is_422_and_stores_nothing(
    app_client: TestClient, world: World
) -> None:
    admin = world.headers["city_admin"]
    response = app_client.post(
        "/api/v1/users", json={"username": "bob", "password": "qwerty123"}, headers=admin
    )
    assert response.status_code == 422 and response.json()["field"] == "password"
    names = [u["username"] for u in app_client.get("/api/v1/users", headers=admin).json()]
    assert "bob" not in names


def test_minimum_length_is_configurable(
    engine: Engine, city: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pingan.settings import get_settings

    monkeypatch.setenv("PINGAN_PASSWORD_MIN_LENGTH", "14")
    get_settings.cache_clear()
    try:
        with session_scope(engine) as session, pytest.raises(ValidationFailed):
            users.create_user(session, username="carol", password="thirteen-char", actor=SYSTEM)
        with session_scope(engine) as session:
            users.create_user(session, username="carol", password="fourteen-chars", actor=SYSTEM)
    finally:
        monkeypatch.delenv("PINGAN_PASSWORD_MIN_LENGTH")
        get_settings.cache_clear()


def test_session_cookie_flags(app_client: TestClient, world: World) -> None:
    response = app_client.post(
        "/api/v1/auth/login", json={"username": "east_admin", "password": PASSWORD}
    )
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    app_client.cookies.clear()


def test_session_cookie_secure_when_configured(engine: Engine, world: World) -> None:
    from pingan.app import create_app
    from pingan.settings import Settings

    with TestClient(create_app(Settings(cookie_secure=True), engine)) as client:
        response = client.post(
            "/api/v1/auth/login", json={"username": "east_admin", "password": PASSWORD}
        )
        assert "Secure" in response.headers["set-cookie"]
        assert response.headers["strict-transport-security"].startswith("max-age=")


def _key(client: TestClient, admin: dict[str, str], scopes: list[str] | None) -> str:
    response = client.post(
        "/api/v1/users/api-keys",
        json={"username": "west_admin", "name": "integration", "scopes": scopes},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    assert response.json()["scopes"] == (None if scopes is None else sorted(scopes))
    return str(response.json()["key"])


INCIDENT = {
    "type": "theft.bicycle",
    "occurred_at": "2026-11-02T10:00:00+08:00",
    "lon": 120.005,
    "lat": 30.01,
}


def test_read_only_key_reads_but_cannot_write(app_client: TestClient, world: World) -> None:
    key = {"X-API-Key": _key(app_client, world.headers["city_admin"], ["read"])}
    assert app_client.get("/api/v1/incidents", headers=key).status_code == 200
    refused = app_client.post("/api/v1/incidents", json=INCIDENT, headers=key)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    # Nor may it mint itself a stronger key.
    escalate = app_client.post(
        "/api/v1/users/api-keys",
        json={"username": "west_admin", "name": "more"},
        headers=key,
    )
    assert escalate.status_code == 403


def test_intake_key_records_but_cannot_read_or_administer(
    app_client: TestClient, world: World
) -> None:
    key = {"X-API-Key": _key(app_client, world.headers["city_admin"], ["intake"])}
    assert app_client.post("/api/v1/incidents", json=INCIDENT, headers=key).status_code == 201
    listed = app_client.get("/api/v1/incidents", headers=key)  # refused, or nothing in it
    assert listed.status_code == 403 or listed.json()["items"] == []
    assert app_client.get("/api/v1/users", headers=key).status_code == 403


def test_unscoped_key_keeps_its_users_rights_and_scopes_are_checked(
    app_client: TestClient, world: World
) -> None:
    admin = world.headers["city_admin"]
    key = {"Authorization": f"Bearer {_key(app_client, admin, None)}"}
    assert app_client.post("/api/v1/incidents", json=INCIDENT, headers=key).status_code == 201
    assert app_client.get("/api/v1/users", headers=key).status_code == 200
    bad = app_client.post(
        "/api/v1/users/api-keys",
        json={"username": "west_admin", "name": "x", "scopes": ["root"]},
        headers=admin,
    )
    assert bad.status_code == 422 and bad.json()["field"] == "scopes"


def test_key_scope_narrows_permissions_in_service_layer(engine: Engine, world: World) -> None:
    with session_scope(engine) as session:
        user = users.get_user_by_name(session, "west_admin")
        secret, _ = auth.create_api_key(
            session, user=user, name="bridge", actor=SYSTEM, scopes=["dispatch", "read"]
        )
    with session_scope(engine) as session:
        principal = auth.principal_from_api_key(session, secret)
    assert principal.can("dispatch:write") and principal.can("incidents:read")
    assert not principal.can("incidents:write") and not principal.can("users:admin")


def test_cli_issues_scoped_keys_and_refuses_unknown_scopes(engine: Engine, world: World) -> None:
    from typer.testing import CliRunner

    from pingan.cli import app

    runner = CliRunner()
    made = runner.invoke(app, ["users", "api-key", "west_admin", "--name", "bi", "--scope", "read"])
    assert made.exit_code == 0, made.output
    secret = next(w for w in made.output.split() if w.startswith("pgk_"))
    with session_scope(engine) as session:
        principal = auth.principal_from_api_key(session, secret)
    assert principal.can("incidents:read") and not principal.can("incidents:write")
    bad = runner.invoke(app, ["users", "api-key", "west_admin", "--name", "x", "--scope", "root"])
    assert bad.exit_code == 1 and "unknown or no scopes ['root']" in bad.output
