"""Security headers, CSRF check on cookie writes, body size limit and rate limits."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from pingan.app import create_app
from pingan.incidents.models import Incident
from pingan.kit.db import session_scope
from pingan.settings import Settings
from tests.security.conftest import PASSWORD, World

PROBLEM = "application/problem+json"
INCIDENT = {
    "type": "theft.bicycle",
    "occurred_at": "2026-11-02T10:00:00+08:00",
    "lon": 120.005,
    "lat": 30.01,
}


def _incidents(engine: Engine) -> int:
    with session_scope(engine) as session:
        return int(session.scalar(select(func.count()).select_from(Incident)) or 0)


def test_security_headers_on_api_and_errors(app_client: TestClient, world: World) -> None:
    for response in (
        app_client.get("/healthz"),
        app_client.get("/api/v1/incidents"),  # a 401 problem
        app_client.get("/api/v1/auth/me", headers=world.headers["east_admin"]),
    ):
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["x-frame-options"] == "DENY"
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp
        script_src = re.search(r"script-src ([^;]*)", csp)
        assert script_src is not None and script_src.group(1).strip() == "'self'"
        assert "unsafe-eval" not in csp
        assert "'unsafe-inline'" not in csp.replace("style-src-attr 'unsafe-inline'", "")


def test_docs_allow_their_own_inline_scripts_by_hash_only(app_client: TestClient) -> None:
    response = app_client.get("/docs")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    script_src = re.search(r"script-src ([^;]*)", csp)
    assert script_src is not None and "unsafe-inline" not in script_src.group(1)
    inline = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    assert inline, "Swagger UI page has its start-up script inline"
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in script_src.group(1)


def _cookie_client(engine: Engine, settings: Settings | None = None) -> Iterator[TestClient]:
    with TestClient(create_app(settings or Settings(), engine)) as client:
        response = client.post(
            "/api/v1/auth/login", json={"username": "west_admin", "password": PASSWORD}
        )
        assert response.status_code == 200 and "pingan_session" in client.cookies
        yield client


@pytest.fixture
def cookie_client(engine: Engine, world: World) -> Iterator[TestClient]:
    yield from _cookie_client(engine)


def test_cookie_write_from_another_site_is_refused(
    cookie_client: TestClient, engine: Engine
) -> None:
    before = _incidents(engine)
    for headers in (
        {"Origin": "https://evil.example"},
        {"Referer": "https://evil.example/page"},
        {"Origin": "null"},
        {},  # no Origin, no Referer: not from our pages
    ):
        response = cookie_client.post("/api/v1/incidents", json=INCIDENT, headers=headers)
        assert response.status_code == 403, headers
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["type"].endswith("/csrf")
    assert _incidents(engine) == before


def test_cookie_write_from_own_origin_and_reads_pass(
    cookie_client: TestClient, engine: Engine
) -> None:
    assert cookie_client.get("/api/v1/incidents").status_code == 200  # reads need no check
    same = cookie_client.post(
        "/api/v1/incidents", json=INCIDENT, headers={"Origin": "http://testserver"}
    )
    assert same.status_code == 201, same.text
    by_referer = cookie_client.post(
        "/api/v1/incidents",
        json={**INCIDENT, "external_id": "r-1", "source": "patrol"},
        headers={"Referer": "http://testserver/console/"},
    )
    assert by_referer.status_code == 201, by_referer.text


def test_trusted_origin_setting(engine: Engine, world: World) -> None:
    settings = Settings(trusted_origins="https://console.city.example")
    for client in _cookie_client(engine, settings):
        ok = client.post(
            "/api/v1/incidents", json=INCIDENT, headers={"Origin": "https://console.city.example"}
        )
        assert ok.status_code == 201, ok.text


def test_bearer_and_api_key_writes_need_no_origin(app_client: TestClient, world: World) -> None:
    # Bearer tokens are never sent by a browser on its own, so CSRF cannot ride them.
    app_client.cookies.set("pingan_session", "stale")
    response = app_client.post(
        "/api/v1/incidents", json=INCIDENT, headers=world.headers["west_admin"]
    )
    assert response.status_code == 201, response.text
    app_client.cookies.clear()


def test_body_over_the_limit_is_413_problem_and_stores_nothing(
    engine: Engine, world: World
) -> None:
    settings = Settings(max_body_bytes=2000)
    with TestClient(create_app(settings, engine)) as client:
        token = client.post(
            "/api/v1/auth/login", json={"username": "west_admin", "password": PASSWORD}
        ).json()["access_token"]
        client.cookies.clear()
        headers = {"Authorization": f"Bearer {token}", "content-type": "application/x-ndjson"}
        before = _incidents(engine)
        row = (
            '{"type":"theft.bicycle","occurred_at":"2026-11-02T10:00:00+08:00",'
            '"lon":120.005,"lat":30.01}\n'
        )
        big = row * 40  # about 3.6 kB
        response = client.post("/api/v1/incidents/batch", content=big, headers=headers)
        assert response.status_code == 413
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["type"].endswith("/payload-too-large")

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            for _ in range(40):
                yield row.encode()

        streamed = client.post("/api/v1/incidents/batch", content=chunks(), headers=headers)
        assert streamed.status_code == 413
        assert _incidents(engine) == before
        small = client.post("/api/v1/incidents/batch", content=row * 3, headers=headers)
        assert small.status_code < 300, small.text
        assert _incidents(engine) == before + 3


def test_public_posts_are_rate_limited_per_ip_with_retry_after(
    engine: Engine, world: World
) -> None:
    settings = Settings(rate_limit_public_per_minute=3)
    with TestClient(create_app(settings, engine)) as client:
        answers = [
            client.post("/open311/v2/requests.json", data={"service_code": "x"}) for _ in range(4)
        ]
        assert all(a.status_code != 429 for a in answers[:3])
        limited = answers[3]
        assert limited.status_code == 429
        assert limited.headers["content-type"] == PROBLEM
        assert 1 <= int(limited.headers["retry-after"]) <= 20
        # Reads and authenticated routes are not limited per IP.
        assert client.get("/open311/v2/services.json").status_code == 200
        # Logging in counts against the same per-IP budget.
        login = client.post("/api/v1/auth/login", json={"username": "x", "password": "y"})
        assert login.status_code == 429


def test_api_keys_are_rate_limited_per_key(engine: Engine, world: World) -> None:
    settings = Settings(rate_limit_api_key_per_minute=2)
    with TestClient(create_app(settings, engine)) as client:
        admin = {
            "Authorization": "Bearer "
            + client.post(
                "/api/v1/auth/login", json={"username": "city_admin", "password": PASSWORD}
            ).json()["access_token"]
        }
        client.cookies.clear()
        keys = []
        for name in ("a", "b"):
            made = client.post(
                "/api/v1/users/api-keys",
                json={"username": "west_admin", "name": name, "scopes": ["read"]},
                headers=admin,
            )
            keys.append({"X-API-Key": made.json()["key"]})
        first = [client.get("/api/v1/auth/me", headers=keys[0]).status_code for _ in range(3)]
        assert first == [200, 200, 429]
        assert client.get("/api/v1/auth/me", headers=keys[1]).status_code == 200  # own bucket
        assert client.get("/api/v1/auth/me", headers=admin).status_code == 200  # sessions not
