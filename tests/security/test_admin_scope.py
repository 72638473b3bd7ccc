"""Administration stays inside the administrator's scope.

An administrator of the east district may manage the east's accounts, but
must not see the west's, act as a west or city-wide user through a key minted
for them, or read the audit log and jobs that span the whole city.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.security.conftest import World


def _names(client: TestClient, headers: dict[str, str]) -> dict[str, list[str]]:
    response = client.get("/api/v1/users", headers=headers)
    assert response.status_code == 200, response.text
    return {u["username"]: u["grants"] for u in response.json()}


def test_user_list_shows_only_accounts_inside_the_scope(
    app_client: TestClient, world: World
) -> None:
    everyone = _names(app_client, world.headers["city_admin"])
    assert {"city_admin", "east_admin", "west_admin"} <= set(everyone)
    assert everyone["west_admin"] == ["admin@DW"]

    east = _names(app_client, world.headers["east_admin"])
    assert "east_admin" in east
    assert "west_admin" not in east
    # The city admin's grant lies above the east district: not an east account.
    assert "city_admin" not in east


def test_account_without_roles_is_visible_so_it_can_be_granted_one(
    app_client: TestClient, world: World
) -> None:
    created = app_client.post(
        "/api/v1/users",
        json={"username": "new-east-clerk", "password": "a-long-pass-2026"},
        headers=world.headers["east_admin"],
    )
    assert created.status_code == 201, created.text
    assert _names(app_client, world.headers["east_admin"])["new-east-clerk"] == []
    granted = app_client.post(
        f"/api/v1/users/{created.json()['id']}/grants",
        json={"role": "admin", "org_unit_id": world.city.id("DE")},
        headers=world.headers["east_admin"],
    )
    assert granted.status_code == 201, granted.text
    assert granted.json()["grants"] == ["admin@DE"]


def test_keys_are_minted_only_for_accounts_wholly_administered(
    app_client: TestClient, world: World
) -> None:
    east = world.headers["east_admin"]
    for target in ("west_admin", "city_admin"):
        refused = app_client.post(
            "/api/v1/users/api-keys", json={"username": target, "name": "x"}, headers=east
        )
        assert refused.status_code == 403, (target, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")

    # The same call by an administrator who covers the account works.
    allowed = app_client.post(
        "/api/v1/users/api-keys",
        json={"username": "west_admin", "name": "bridge"},
        headers=world.headers["city_admin"],
    )
    assert allowed.status_code == 201, allowed.text
    # And the east admin's own key still works for the east admin.
    own = app_client.post(
        "/api/v1/users/api-keys", json={"username": "east_admin", "name": "mine"}, headers=east
    )
    assert own.status_code == 201, own.text


def test_audit_log_is_for_city_wide_auditors(app_client: TestClient, world: World) -> None:
    for path in ("/api/v1/audit", "/api/v1/audit/verify"):
        assert app_client.get(path, headers=world.headers["east_admin"]).status_code == 403
        response = app_client.get(path, headers=world.headers["city_admin"])
        assert response.status_code == 200, response.text


def test_jobs_of_others_are_for_city_wide_administrators(
    app_client: TestClient, world: World
) -> None:
    submitted = app_client.post(
        "/api/v1/analysis/runs",
        json={"kind": "analysis.hotspots", "params": {"cell_size_m": 500}},
        headers=world.headers["west_admin"],
    )
    assert submitted.status_code == 202, submitted.text
    job_id = submitted.json()["id"]
    path = f"/api/v1/jobs/{job_id}"
    assert app_client.get(path, headers=world.headers["west_admin"]).status_code == 200
    assert app_client.get(path, headers=world.headers["east_admin"]).status_code == 404
    assert app_client.get(path, headers=world.headers["city_admin"]).status_code == 200
