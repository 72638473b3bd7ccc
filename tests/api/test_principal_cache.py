"""Whom a token or key stands for is remembered, and forgotten the moment it changes.

Each test first shows the answer is cached (the second request runs fewer
statements), then changes it and expects the very next request to see the
change, with a cache lifetime of an hour: only the invalidation can explain it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from pingan.app import create_app
from pingan.kit.db import session_scope
from pingan.org import auth, users
from pingan.org.models import User
from pingan.org.principal import Principal
from pingan.settings import get_settings
from tests.api.conftest import login
from tests.api.statements import statements_of
from tests.citykit import unit

SYSTEM = Principal.system("test")
ROOT = Path(__file__).resolve().parents[2]


def _client(engine: Engine, monkeypatch: pytest.MonkeyPatch, seconds: str) -> Iterator[TestClient]:
    monkeypatch.setenv("PINGAN_AUTH_CACHE_SECONDS", seconds)
    get_settings.cache_clear()
    with TestClient(create_app(get_settings(), engine)) as client:
        cache = client.app.state.principal_cache  # type: ignore[attr-defined]
        if cache is not None:
            # On PostgreSQL it answers once its event bus listens (a moment after start).
            deadline = time.monotonic() + 10
            while not cache.enabled and time.monotonic() < deadline:
                time.sleep(0.02)
            assert cache.enabled
        yield client


@pytest.fixture
def cached(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    yield from _client(engine, monkeypatch, "3600")


@pytest.fixture
def uncached(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    yield from _client(engine, monkeypatch, "0")


def _key(engine: Engine, username: str = "bridge") -> tuple[str, int]:
    with session_scope(engine) as s:
        user = users.create_user(s, username=username, password=None, is_service=True, actor=SYSTEM)
        users.grant_role(s, user=user, role_name="officer", unit=unit(s, "C"), actor=SYSTEM)
        secret, key = auth.create_api_key(s, user=user, name="cad", actor=SYSTEM)
        return secret, key.id


def _seen_as_cached(client: TestClient, headers: dict[str, str]) -> None:
    first = statements_of(client, "/api/v1/auth/me", headers)
    second = statements_of(client, "/api/v1/auth/me", headers)
    assert second < first, (first, second)


def test_an_answer_is_cached_and_zero_seconds_turns_it_off(
    uncached: TestClient, people: dict[str, int]
) -> None:
    officer = login(uncached, "west_officer")
    first = statements_of(uncached, "/api/v1/auth/me", officer)
    assert statements_of(uncached, "/api/v1/auth/me", officer) == first


def test_logout_is_refused_at_once(cached: TestClient, people: dict[str, int]) -> None:
    officer = login(cached, "west_officer")
    _seen_as_cached(cached, officer)
    assert cached.post("/api/v1/auth/logout", headers=officer).status_code == 204
    assert cached.get("/api/v1/auth/me", headers=officer).status_code == 401


def _grants(client: TestClient, headers: dict[str, str]) -> list[str]:
    me = client.get("/api/v1/auth/me", headers=headers)
    assert me.status_code == 200, me.text
    return [g["role"] for g in me.json()["grants"]]


def test_a_new_grant_counts_at_once(cached: TestClient, people: dict[str, int]) -> None:
    nobody, chief = login(cached, "nobody"), login(cached, "chief")
    _seen_as_cached(cached, nobody)
    assert _grants(cached, nobody) == []
    with session_scope(cached.app.state.engine) as s:  # type: ignore[attr-defined]
        unit_id = unit(s, "DW").id
    body = {"role": "officer", "org_unit_id": unit_id}
    granted = cached.post(f"/api/v1/users/{people['nobody']}/grants", json=body, headers=chief)
    assert granted.status_code == 201, granted.text
    assert _grants(cached, nobody) == ["officer"]


def test_a_key_revoked_elsewhere_in_the_process_is_refused_at_once(
    cached: TestClient, engine: Engine, people: dict[str, int]
) -> None:
    secret, key_id = _key(engine)
    key = {"X-API-Key": secret}
    _seen_as_cached(cached, key)
    with session_scope(engine) as s:
        auth.revoke_api_key(s, key_id=key_id, actor=SYSTEM)
    assert cached.get("/api/v1/auth/me", headers=key).status_code == 401


def test_recording_a_keys_use_keeps_the_cache(
    cached: TestClient, engine: Engine, people: dict[str, int]
) -> None:
    secret, _ = _key(engine)
    key = {"X-API-Key": secret}
    _seen_as_cached(cached, key)  # the first request recorded the use
    cache = cached.app.state.principal_cache  # type: ignore[attr-defined]
    assert len(cache) >= 1


def test_a_key_revoked_by_another_process_is_refused_within_moments(
    cached: TestClient, engine: Engine, db_url: str, people: dict[str, int]
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("other processes' changes are announced over PostgreSQL NOTIFY")
    secret, key_id = _key(engine)
    key = {"X-API-Key": secret}
    _seen_as_cached(cached, key)
    script = textwrap.dedent(
        f"""
        from pingan.kit.db import engine_for, session_scope
        from pingan.org import auth
        from pingan.org.principal import Principal
        with session_scope(engine_for({db_url!r})) as s:
            auth.revoke_api_key(s, key_id={key_id}, actor=Principal.system("other"))
        """
    )
    env = {**os.environ, "PINGAN_DATABASE_URL": db_url}
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True, timeout=120)
    deadline = time.monotonic() + 10
    status = 200
    while time.monotonic() < deadline:
        status = cached.get("/api/v1/auth/me", headers=key).status_code
        if status == 401:
            break
        time.sleep(0.05)
    assert status == 401


def test_a_login_keeps_the_others_cached_and_deactivation_counts_at_once(
    cached: TestClient, engine: Engine, people: dict[str, int]
) -> None:
    officer = login(cached, "west_officer")
    _seen_as_cached(cached, officer)
    cached_cost = statements_of(cached, "/api/v1/auth/me", officer)
    login(cached, "east_analyst")  # resets that user's failure count: no principal changes
    assert statements_of(cached, "/api/v1/auth/me", officer) == cached_cost
    with session_scope(engine) as s:
        user = users.get_user_by_name(s, "west_officer")
        user.is_active = False
    assert cached.get("/api/v1/auth/me", headers=officer).status_code == 401


def test_a_bulk_update_counts_at_once(
    cached: TestClient, engine: Engine, people: dict[str, int]
) -> None:
    officer = login(cached, "west_officer")
    _seen_as_cached(cached, officer)
    with session_scope(engine) as s:
        s.execute(update(User).where(User.username == "west_officer").values(is_active=False))
    assert cached.get("/api/v1/auth/me", headers=officer).status_code == 401
