"""Incidents over HTTP: org scope enforcement, intake, idempotency, listing."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import login
from tests.citykit import grid_centre

PROBLEM = "application/problem+json"


def incident(grid: str, ext: str | None = None, **over: object) -> dict[str, object]:
    lon, lat = grid_centre(grid)
    body: dict[str, object] = {
        "type": "burglary.residential",
        "occurred_at": "2026-04-02T22:10:00+08:00",
        "lon": lon,
        "lat": lat,
        "source": "call",
    }
    if ext is not None:
        body["external_id"] = ext
    body.update(over)
    return body


@pytest.fixture
def stored(client: TestClient, people: dict[str, int]) -> dict[str, int]:
    """One incident in each grid, recorded by the chief (city admin)."""
    chief = login(client, "chief")
    ids = {}
    for grid in ("W1", "W2", "E1", "E2"):
        response = client.post(
            "/api/v1/incidents", json=incident(grid, f"seed-{grid}"), headers=chief
        )
        assert response.status_code == 201, response.text
        ids[grid] = response.json()["id"]
    return ids


def test_district_officer_sees_only_own_district(
    client: TestClient, stored: dict[str, int]
) -> None:
    officer = login(client, "west_officer")
    listed = client.get("/api/v1/incidents", headers=officer).json()["items"]
    assert sorted(i["id"] for i in listed) == sorted([stored["W1"], stored["W2"]])
    assert client.get(f"/api/v1/incidents/{stored['W1']}", headers=officer).status_code == 200
    # Another district's incident reads exactly like one that does not exist.
    other = client.get(f"/api/v1/incidents/{stored['E1']}", headers=officer)
    missing = client.get("/api/v1/incidents/999999", headers=officer)
    assert other.status_code == missing.status_code == 404
    assert other.json()["detail"].replace(str(stored["E1"]), "N") == missing.json()[
        "detail"
    ].replace("999999", "N")


def test_district_officer_cannot_change_or_create_elsewhere(
    client: TestClient, stored: dict[str, int]
) -> None:
    officer = login(client, "west_officer")
    patch = client.patch(
        f"/api/v1/incidents/{stored['E2']}", json={"status": "closed"}, headers=officer
    )
    assert patch.status_code == 404
    chief = login(client, "chief")
    assert (
        client.get(f"/api/v1/incidents/{stored['E2']}", headers=chief).json()["status"]
        == "reported"
    )
    created = client.post("/api/v1/incidents", json=incident("E1", "west-in-east"), headers=officer)
    assert created.status_code == 403 and created.headers["content-type"] == PROBLEM
    own = client.patch(
        f"/api/v1/incidents/{stored['W2']}", json={"status": "dispatched"}, headers=officer
    )
    assert own.status_code == 200 and own.json()["status"] == "dispatched"


def test_read_only_role_cannot_write(client: TestClient, stored: dict[str, int]) -> None:
    analyst = login(client, "east_analyst")
    assert client.get(f"/api/v1/incidents/{stored['E1']}", headers=analyst).status_code == 200
    patch = client.patch(
        f"/api/v1/incidents/{stored['E1']}", json={"status": "closed"}, headers=analyst
    )
    assert patch.status_code == 403
    assert client.post("/api/v1/incidents", json=incident("E1"), headers=analyst).status_code == 403


def test_user_without_grants_sees_nothing(client: TestClient, stored: dict[str, int]) -> None:
    nobody = login(client, "nobody")
    assert client.get("/api/v1/incidents", headers=nobody).json()["items"] == []
    assert client.get("/api/v1/org/units", headers=nobody).json()["items"] == []
    assert client.get(f"/api/v1/incidents/{stored['W1']}", headers=nobody).status_code == 404


def test_grid_worker_scope_is_their_grid(client: TestClient, stored: dict[str, int]) -> None:
    worker = login(client, "w1_worker")
    assert [i["id"] for i in client.get("/api/v1/incidents", headers=worker).json()["items"]] == [
        stored["W1"]
    ]
    batch = client.post(
        "/api/v1/incidents/batch",
        json=[incident("W1", "gw-1"), incident("W2", "gw-2")],
        headers=worker,
    ).json()
    assert [a["index"] for a in batch["accepted"]] == [0]
    assert batch["rejected"][0]["index"] == 1 and "scope" in batch["rejected"][0]["reason"]


def test_create_is_idempotent_with_409(client: TestClient, stored: dict[str, int]) -> None:
    chief = login(client, "chief")
    again = client.post("/api/v1/incidents", json=incident("W1", "seed-W1"), headers=chief)
    assert again.status_code == 409 and again.json()["existing_id"] == stored["W1"]


def test_batch_json_and_ndjson(client: TestClient, people: dict[str, int]) -> None:
    chief = login(client, "chief")
    rows = [incident("W1", f"b{i}") for i in range(3)] + [incident("W1", "bad", lat=200)]
    first = client.post("/api/v1/incidents/batch", json=rows, headers=chief).json()
    assert [a["index"] for a in first["accepted"]] == [0, 1, 2]
    assert [(r["index"], r["field"]) for r in first["rejected"]] == [(3, "lat")]
    lines = [json.dumps(incident("E1", "b1")), "{not json", json.dumps(incident("E1", "n1"))]
    second = client.post(
        "/api/v1/incidents/batch",
        content="\n".join(lines).encode(),
        headers={**chief, "Content-Type": "application/x-ndjson"},
    ).json()
    # b1 is the same source + external id as before: a duplicate, even in another grid.
    assert [d["index"] for d in second["duplicates"]] == [0]
    assert second["duplicates"][0]["id"] == first["accepted"][1]["id"]
    assert [r["index"] for r in second["rejected"]] == [1]
    assert [a["index"] for a in second["accepted"]] == [2]


def test_batch_rejects_non_array_and_oversize(
    client: TestClient, people: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    chief = login(client, "chief")
    bad = client.post("/api/v1/incidents/batch", json={"type": "fire"}, headers=chief)
    assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM
    monkeypatch.setattr(client.app.state.settings, "max_batch_size", 2)  # type: ignore[attr-defined]
    big = client.post("/api/v1/incidents/batch", json=[incident("W1")] * 3, headers=chief)
    assert big.status_code == 413 and big.headers["content-type"] == PROBLEM


def test_list_filters_and_pages(client: TestClient, people: dict[str, int]) -> None:
    chief = login(client, "chief")
    rows = [incident("W1", f"p{i}", type="theft.bicycle") for i in range(5)]
    rows += [incident("E2", "q1", type="fire", occurred_at="2026-06-01T10:00:00+08:00")]
    client.post("/api/v1/incidents/batch", json=rows, headers=chief)
    page1 = client.get("/api/v1/incidents?limit=4", headers=chief).json()
    page2 = client.get(
        f"/api/v1/incidents?limit=4&after_id={page1['next_after_id']}", headers=chief
    ).json()
    assert len(page1["items"]) == 4 and len(page2["items"]) == 2 and page2["next_after_id"] is None
    theft = client.get("/api/v1/incidents?type=theft", headers=chief).json()["items"]
    assert len(theft) == 5 and {i["type"] for i in theft} == {"theft.bicycle"}
    june = client.get("/api/v1/incidents?since=2026-05-01T00:00:00", headers=chief).json()["items"]
    assert [i["type"] for i in june] == ["fire"]
    units = {
        u["code"]: u["id"] for u in client.get("/api/v1/org/units", headers=chief).json()["items"]
    }
    east = client.get(f"/api/v1/incidents?org_unit_id={units['DE']}", headers=chief).json()["items"]
    assert [i["type"] for i in east] == ["fire"]
    lon, lat = incident("W1")["lon"], incident("W1")["lat"]
    box = f"{float(lon) - 0.001},{float(lat) - 0.001},{float(lon) + 0.001},{float(lat) + 0.001}"  # type: ignore[arg-type]
    assert len(client.get(f"/api/v1/incidents?bbox={box}", headers=chief).json()["items"]) == 5
    assert client.get("/api/v1/incidents?bbox=1,2,3", headers=chief).status_code == 422


def test_org_units_geojson_within_scope(client: TestClient, people: dict[str, int]) -> None:
    officer = login(client, "west_officer")
    grids = client.get("/api/v1/org/units.geojson?level=grid", headers=officer).json()
    assert sorted(f["properties"]["code"] for f in grids["features"]) == ["W1", "W2"]
    assert grids["features"][0]["geometry"]["type"] == "MultiPolygon"
