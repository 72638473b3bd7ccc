"""The alerts API: scope, lifecycle over HTTP, problem+json errors, daily runs as jobs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from pingan.kit import jobs
from tests.alerts.conftest import DAY


def _rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    if geometry["type"] == "Polygon":
        return list(geometry["coordinates"])
    return [ring for polygon in geometry["coordinates"] for ring in polygon]


RUN = {"params": {"day": DAY.isoformat(), "replications": 99, "seed": 1}}


def _run_daily(api: TestClient, engine: Engine, headers: dict[str, str]) -> dict[str, object]:
    response = api.post("/api/v1/alerts/runs", json=RUN, headers=headers)
    assert response.status_code == 202, response.text
    assert jobs.run_pending(engine) == 1
    status = api.get(response.json()["status_url"], headers=headers)
    assert status.status_code == 200
    return dict(status.json())


def test_run_list_and_handle_within_scope(
    api: TestClient, engine: Engine, keys: dict[str, dict[str, str]], outbreak: dict[str, int]
) -> None:
    job = _run_daily(api, engine, keys["chief"])
    assert job["status"] == "succeeded", job
    assert job["result"]["created"] >= 1
    west = api.get("/api/v1/alerts", params={"method": "scan.space_time_permutation"},
                   headers=keys["west_officer"])  # fmt: skip
    assert west.status_code == 200
    [alert] = west.json()
    assert alert["area"]["grid_ids"] == [outbreak["W2"]] and alert["status"] == "new"
    # The area is grid W2: lon 120.01-120.02, lat 30.00-30.02.
    assert alert["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    lons = [pt[0] for ring in _rings(alert["geometry"]) for pt in ring]
    assert min(lons) == pytest.approx(120.01) and max(lons) == pytest.approx(120.02)

    east = api.get("/api/v1/alerts", headers=keys["east_analyst"])
    assert all(a["id"] != alert["id"] for a in east.json())
    hidden = api.get(f"/api/v1/alerts/{alert['id']}", headers=keys["east_analyst"])
    assert hidden.status_code == 404
    assert hidden.headers["content-type"].startswith("application/problem+json")

    ack = api.post(f"/api/v1/alerts/{alert['id']}/acknowledge", headers=keys["west_officer"])
    assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"
    no_reason = api.post(f"/api/v1/alerts/{alert['id']}/dismiss", json={"reason": ""},
                         headers=keys["west_officer"])  # fmt: skip
    assert no_reason.status_code == 422
    done = api.post(f"/api/v1/alerts/{alert['id']}/resolve", json={"reason": "patrols added"},
                    headers=keys["west_officer"])  # fmt: skip
    assert done.status_code == 200 and done.json()["status"] == "resolved"
    again = api.post(f"/api/v1/alerts/{alert['id']}/resolve", headers=keys["west_officer"])
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    resolved = api.get("/api/v1/alerts", params={"status": "resolved"}, headers=keys["chief"])
    assert [a["id"] for a in resolved.json()] == [alert["id"]]


def test_bad_run_parameters_and_no_rights(
    api: TestClient, keys: dict[str, dict[str, str]], outbreak: dict[str, int]
) -> None:
    bad = api.post("/api/v1/alerts/runs", json={"params": {"day": "31/03/2026"}},
                   headers=keys["chief"])  # fmt: skip
    assert bad.status_code == 422 and bad.json()["field"] == "day"
    unknown = api.post("/api/v1/alerts/runs", json={"params": {"colour": 1}}, headers=keys["chief"])
    assert unknown.status_code == 422
    analyst = api.post("/api/v1/alerts/runs", json=RUN, headers=keys["east_analyst"])
    assert analyst.status_code == 403
    nobody = api.get("/api/v1/alerts", headers=keys["nobody"])
    assert nobody.status_code == 403
    missing = api.get("/api/v1/alerts/999999", headers=keys["chief"])
    assert missing.status_code == 404


def _stream_ids(api: TestClient, headers: dict[str, str], **extra: str) -> tuple[list[int], str]:
    params = {"since": "2000-01-01T00:00:00+00:00", "max_seconds": "0"}
    response = api.get("/api/v1/alerts/stream", params=params, headers={**headers, **extra})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    ids, last = [], ""
    for block in response.text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if lines.get("event") == "alert":
            ids.append(json.loads(lines["data"])["id"])
            last = lines["id"]
    return ids, last


def test_event_stream_respects_scope_and_resumes(
    api: TestClient, engine: Engine, keys: dict[str, dict[str, str]], outbreak: dict[str, int]
) -> None:
    _run_daily(api, engine, keys["chief"])
    west_ids, last = _stream_ids(api, keys["west_officer"])
    scan = api.get(
        "/api/v1/alerts", params={"method": "scan.space_time_permutation"}, headers=keys["chief"]
    ).json()
    assert scan[0]["id"] in west_ids
    east_ids, _ = _stream_ids(api, keys["east_analyst"])
    assert scan[0]["id"] not in east_ids
    # Resuming after the last event sends nothing until something changes.
    resumed, _ = _stream_ids(api, keys["west_officer"], **{"Last-Event-ID": last})
    assert resumed == []
    api.post(f"/api/v1/alerts/{scan[0]['id']}/acknowledge", headers=keys["west_officer"])
    after_ack, _ = _stream_ids(api, keys["west_officer"], **{"Last-Event-ID": last})
    assert after_ack == [scan[0]["id"]]
