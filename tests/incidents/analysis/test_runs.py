"""Analyses as stored runs: submitted over HTTP, run by the job runner, reproducible."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from pingan import __version__
from pingan.kit import jobs
from tests.incidents.analysis.conftest import Planted


def test_run_stores_params_window_version_and_result(
    api: TestClient, engine: Engine, keys: dict[str, dict[str, str]], planted: Planted
) -> None:
    headers = keys["east_analyst"]
    body = {"kind": "analysis.hotspots", "params": {"cell_size_m": 250, "permutations": 99}}
    response = api.post("/api/v1/analysis/runs", json=body, headers=headers)
    assert response.status_code == 202, response.text
    run = response.json()
    assert response.headers["location"] == run["status_url"] == f"/api/v1/jobs/{run['id']}"
    assert run["status"] == "queued" and run["software_version"] == __version__
    stored = run["params"]
    assert stored["params"]["permutations"] == 99 and stored["params"]["seed"] == 12345
    assert stored["params"]["until"] is not None  # "everything so far" is fixed at submission
    requested = stored["requested_by"]
    assert requested["username"] == "east_analyst" and requested["system"] is False
    assert requested["api_key_id"] is not None

    assert jobs.run_pending(engine) == 1
    job = api.get(run["status_url"], headers=headers).json()
    assert job["status"] == "succeeded" and job["progress"] == 1.0, job
    assert job["software_version"] == __version__
    summary = job["result"]["summary"]
    # The job ran with the analyst's scope: only the east district's incidents.
    assert summary["n_events"] == planted.east
    assert summary["selection"]["until"] == stored["params"]["until"].replace("Z", "+00:00")
    assert job["result"]["type"] == "FeatureCollection"
    # Someone else cannot read the run.
    assert api.get(run["status_url"], headers=keys["west_officer"]).status_code == 404


def test_every_kind_runs_and_is_listed(
    api: TestClient, engine: Engine, keys: dict[str, dict[str, str]], planted: Planted
) -> None:
    headers = keys["chief"]
    bodies = [
        {"kind": "analysis.heat", "params": {"bandwidth_m": 200, "cell_size_m": 50}},
        {"kind": "analysis.emerging", "params": {"until": "2026-04-01T00:00:00Z", "step": "day",
                                                 "steps": 31, "cell_size_m": 500}},
        {"kind": "analysis.rates", "params": {"level": "grid", "since": "2026-03-01T00:00:00Z",
                                              "until": "2026-04-01T00:00:00Z"}},
    ]  # fmt: skip
    ids = []
    for body in bodies:
        response = api.post("/api/v1/analysis/runs", json=body, headers=headers)
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])
    assert jobs.run_pending(engine) == 3
    results = {}
    for job_id in ids:
        job = api.get(f"/api/v1/jobs/{job_id}", headers=headers).json()
        assert job["status"] == "succeeded", job["error"]
        results[job["kind"]] = job
    heat = results["analysis.heat"]["result"]
    assert heat["n_events"] == planted.total and heat["contours"]["features"]
    assert heat["legend"]["vmax"] > 0 and heat["raster"]["epsg"] == 32651
    emerging = results["analysis.emerging"]
    assert emerging["params"]["params"]["since"] == "2026-03-01T00:00:00Z"
    assert emerging["result"]["summary"]["steps"]["count"] == 31
    rates = results["analysis.rates"]["result"]
    assert sum(r["current"] for r in rates["rows"]) == planted.total
    listed = api.get("/api/v1/analysis/runs", headers=headers).json()
    assert [r["id"] for r in listed] == sorted(ids, reverse=True)
    only_heat = api.get("/api/v1/analysis/runs", params={"kind": "analysis.heat"}, headers=headers)
    assert [r["id"] for r in only_heat.json()] == [ids[0]]
