"""Logging in, sessions, bearer tokens, API keys and problem documents."""

from __future__ import annotations

from fastapi.testclient import TestClient

from pingan.kit.migrate import head_revision
from tests.api.conftest import PASSWORD, login

PROBLEM = "application/problem+json"


def test_anonymous_caller_gets_401_problem_and_no_data(
    client: TestClient, people: dict[str, int]
) -> None:
    for path in ("/api/v1/incidents", "/api/v1/org/units", "/api/v1/auth/me", "/api/v1/users"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.headers["content-type"] == PROBLEM
        body = response.json()
        assert body["type"].endswith("/unauthenticated") and "items" not in body


def test_wrong_password_is_401_and_audited(client: TestClient, people: dict[str, int]) -> None:
    response = client.post(
        "/api/v1/auth/login", json={"username": "chief", "password": "nope-nope"}
    )
    assert response.status_code == 401
    unknown = client.post("/api/v1/auth/login", json={"username": "ghost", "password": "nope-nope"})
    assert unknown.status_code == 401
    assert response.json()["detail"] == unknown.json()["detail"]  # no hint which one was wrong
    headers = login(client, "chief")
    actions = [e["action"] for e in client.get("/api/v1/audit", headers=headers).json()]
    assert "auth.login_failed" in actions and "auth.login" in actions


def test_login_sets_cookie_that_authenticates(client: TestClient, people: dict[str, int]) -> None:
    response = client.post("/api/v1/auth/login", json={"username": "chief", "password": PASSWORD})
    cookie = response.headers["set-cookie"]
    assert "pingan_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    me = client.get("/api/v1/auth/me")  # the client sends the cookie
    assert me.status_code == 200 and me.json()["username"] == "chief"
    client.post("/api/v1/auth/logout")
    assert client.get("/api/v1/auth/me").status_code == 401


def test_oauth2_token_endpoint_for_docs(client: TestClient, people: dict[str, int]) -> None:
    response = client.post(
        "/api/v1/auth/token", data={"username": "w1_worker", "password": PASSWORD}
    )
    assert response.status_code == 200
    token = response.json()["access_token"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["grants"][0]["role"] == "grid_worker"


def test_logout_revokes_bearer_token(client: TestClient, people: dict[str, int]) -> None:
    headers = login(client, "chief")
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
    assert (
        client.get("/api/v1/auth/me", headers={"Authorization": "Bearer pgs_made-up"}).status_code
        == 401
    )


def test_api_key_acts_as_its_user(client: TestClient, people: dict[str, int]) -> None:
    admin = login(client, "chief")
    created = client.post(
        "/api/v1/users", json={"username": "cad-bridge", "is_service": True}, headers=admin
    )
    assert created.status_code == 201
    unit_ids = {
        u["code"]: u["id"] for u in client.get("/api/v1/org/units", headers=admin).json()["items"]
    }
    granted = client.post(
        f"/api/v1/users/{created.json()['id']}/grants",
        json={"role": "officer", "org_unit_id": unit_ids["DE"]},
        headers=admin,
    )
    assert granted.json()["grants"] == ["officer@DE"]
    key = client.post(
        "/api/v1/users/api-keys", json={"username": "cad-bridge", "name": "cad"}, headers=admin
    )
    secret = key.json()["key"]
    me = client.get("/api/v1/auth/me", headers={"X-API-Key": secret})
    assert me.status_code == 200 and me.json()["via"] == "api_key"
    assert (
        client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 200
    )
    assert client.get("/api/v1/auth/me", headers={"X-API-Key": secret + "x"}).status_code == 401
    # A service account has no password to log in with.
    assert (
        client.post(
            "/api/v1/auth/login", json={"username": "cad-bridge", "password": "whatever1"}
        ).status_code
        == 401
    )


def test_only_admins_manage_users(client: TestClient, people: dict[str, int]) -> None:
    officer = login(client, "west_officer")
    response = client.post(
        "/api/v1/users", json={"username": "x", "password": "12345678"}, headers=officer
    )
    assert response.status_code == 403 and response.headers["content-type"] == PROBLEM
    assert client.get("/api/v1/users", headers=officer).status_code == 403


def test_validation_errors_are_problems_with_field(
    client: TestClient, people: dict[str, int]
) -> None:
    admin = login(client, "chief")
    response = client.post(
        "/api/v1/users", json={"username": "short", "password": "123"}, headers=admin
    )
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    assert response.json()["field"] == "password"
    missing = client.get("/api/v1/no/such/route")
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM


def test_health_ready_and_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["schema"] == head_revision()
    metrics = client.get("/metrics").text
    assert "pingan_http_requests_total" in metrics and 'route="/healthz"' in metrics
    assert client.get("/openapi.json").json()["info"]["title"] == "Pingan API"


def test_docs_pages_use_only_local_assets(client: TestClient) -> None:
    import re

    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
        urls += re.findall(r"""url:\s*'([^']+)'""", html)
        assert urls, page
        for url in urls:
            assert not url.startswith(("http://", "https://", "//")), (page, url)
            if url.startswith("/docs-assets/"):
                assert client.get(url).status_code == 200, url
    assert "oauth2RedirectUrl" in client.get("/docs").text
