"""Bad parameters are refused before any work, as 422 problem+json naming the field."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.incidents.analysis.conftest import Planted

PROBLEM = "application/problem+json"


def _problem(response: Any, field: str) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    doc: dict[str, Any] = response.json()
    assert doc["field"] == field, doc
    assert doc["detail"]
    return doc


# (endpoint, query, the field the problem must name)
BAD_QUERIES: list[tuple[str, dict[str, Any], str]] = [
    ("heat/legend", {"bandwidth_m": -5}, "bandwidth_m"),
    ("heat/legend", {"bandwidth_m": 0}, "bandwidth_m"),
    ("heat/legend", {"kernel": "box"}, "kernel"),
    ("heat/legend", {"since": "2026-03-02", "until": "2026-03-01"}, "until"),
    ("heat/legend", {"since": "2026-03-01T00:00", "until": "2026-03-01T00:00"}, "until"),
    ("heat/legend", {"types": "no.such.type"}, "types"),
    ("heat/legend", {"cell_size_m": 1, "bandwidth_m": 20000}, "cell_size_m"),
    ("heat/legend", {"bandwith_m": 100}, "bandwith_m"),
    ("heat/contours", {"levels": [5, 1]}, "levels"),
    ("hotspots", {"permutations": 5000}, "permutations"),
    ("hotspots", {"permutations": -1}, "permutations"),
    ("hotspots", {"weights": "knn", "k": 0}, "k"),
    ("hotspots", {"weights": "knn", "k": 60, "cell_size_m": 1000}, "k"),
    ("hotspots", {"cell_size_m": 5}, "cell_size_m"),
    ("hotspots", {"cell_size_m": 5000}, "cell_size_m"),
    ("hotspots", {"org_unit_id": 9999}, "org_unit_id"),
    ("hotspots", {"place_id": 9999}, "place_id"),
    ("emerging", {"since": "2026-03-01", "until": "2026-03-10"}, "since"),
    ("emerging", {"steps": 4, "time_window": 4}, "time_window"),
    ("emerging", {"step": "month"}, "step"),
    ("rates", {"level": "galaxy"}, "level"),
    ("rates", {"format": "xml"}, "format"),
]


def test_bad_query_parameters(api: TestClient, keys: dict[str, dict[str, str]]) -> None:
    # One client for every case: logging in dominates the time of a case.
    headers = keys["chief"]
    for path, query, field in BAD_QUERIES:
        response = api.get(f"/api/v1/analysis/{path}", params=query, headers=headers)
        assert response.status_code == 422, (path, query, response.text[:300])
        assert response.json()["field"] == field, (path, query, response.json())
        _problem(response, field)


def test_too_many_cells_names_the_size(api: TestClient, keys: dict[str, dict[str, str]]) -> None:
    headers = keys["chief"]
    query = {"cell_size_m": 1, "bandwidth_m": 20000}
    response = api.get("/api/v1/analysis/heat/legend", params=query, headers=headers)
    assert "exceeds the limit" in _problem(response, "cell_size_m")["detail"]


def test_out_of_scope_org_unit_reads_as_missing(
    api: TestClient, keys: dict[str, dict[str, str]], planted: Planted
) -> None:
    from tests.citykit import unit

    with api.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        west = unit(session, "DW").id
    headers = keys["east_analyst"]
    response = api.get("/api/v1/analysis/hotspots", params={"org_unit_id": west}, headers=headers)
    assert _problem(response, "org_unit_id")["detail"] == f"org unit {west} not found"


def test_run_parameters_are_checked_before_queueing(
    api: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    headers = keys["chief"]
    bad = {"kind": "analysis.heat", "params": {"bandwidth_m": -1}}
    _problem(api.post("/api/v1/analysis/runs", json=bad, headers=headers), "params.bandwidth_m")
    unknown = {"kind": "analysis.teleport", "params": {}}
    _problem(api.post("/api/v1/analysis/runs", json=unknown, headers=headers), "kind")
    typo = {"kind": "analysis.rates", "params": {"types": ["theft", "unicorns"]}}
    _problem(api.post("/api/v1/analysis/runs", json=typo, headers=headers), "types")
    runs = api.get("/api/v1/analysis/runs", headers=headers).json()
    assert runs == []


def test_analysis_needs_login_and_incident_reading(
    api: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    assert api.get("/api/v1/analysis/heat/legend").status_code == 401
    headers = keys["nobody"]
    assert api.get("/api/v1/analysis/heat/legend", headers=headers).status_code == 403
