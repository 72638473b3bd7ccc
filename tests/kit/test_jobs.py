"""Jobs run once, record progress and results, and report failures."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from pingan.app import create_app
from pingan.kit import jobs
from pingan.kit.db import session_scope
from pingan.settings import get_settings

calls: list[int] = []


@jobs.register("test.square", "squares a number, slowly")
def _square(engine: Engine, params: dict[str, Any], progress: jobs.Progress) -> dict[str, Any]:
    progress(0.5, "halfway")
    calls.append(int(params["n"]))
    return {"square": int(params["n"]) ** 2}


@jobs.register("test.broken")
def _broken(engine: Engine, params: dict[str, Any], progress: jobs.Progress) -> dict[str, Any]:
    raise ValueError("bandwidth must be positive")


def test_jobs_run_once_even_with_competing_workers(engine: Engine) -> None:
    calls.clear()
    with session_scope(engine) as session:
        ids = [
            jobs.submit(session, kind="test.square", params={"n": n}, created_by="t").id
            for n in range(12)
        ]
    threads = [threading.Thread(target=jobs.run_pending, args=(engine,)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(calls) == list(range(12))
    with session_scope(engine) as session:
        done = [jobs.get(session, i) for i in ids]
        assert {j.status for j in done} == {"succeeded"}
        assert done[3].result_dict() == {"square": 9} and done[3].progress == 1.0


def test_failure_is_recorded_with_reason(engine: Engine) -> None:
    with session_scope(engine) as session:
        job_id = jobs.submit(session, kind="test.broken", params={}, created_by="t").id
    jobs.run_pending(engine)
    with session_scope(engine) as session:
        job = jobs.get(session, job_id)
        assert job.status == "failed"
        assert job.error is not None and job.error.startswith("ValueError: bandwidth")


def test_server_worker_runs_jobs_and_api_reports_them(engine: Engine) -> None:
    from pingan.org.principal import Principal
    from pingan.org.users import create_user

    with session_scope(engine) as session:
        create_user(session, username="ann", password="password-1", actor=Principal.system("t"))
        job_id = jobs.submit(session, kind="test.square", params={"n": 7}, created_by="user:ann").id
    with TestClient(create_app(get_settings(), engine)) as client:
        token = client.post(
            "/api/v1/auth/login", json={"username": "ann", "password": "password-1"}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        body: dict[str, Any] = {}
        for _ in range(100):
            body = client.get(f"/api/v1/jobs/{job_id}", headers=headers).json()
            if body["status"] == "succeeded":
                break
            time.sleep(0.05)
        assert body["status"] == "succeeded" and body["result"] == {"square": 49}
        assert client.get("/api/v1/jobs/999", headers=headers).status_code == 404


def test_schedules_submit_each_period_once_across_processes(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt

    # Only this test's schedule: the app registers its own when a server starts.
    monkeypatch.setattr(jobs, "_schedules", {})
    jobs.schedule("test.square", every_seconds=60, params={"n": 3})
    start = dt.datetime(2026, 11, 29, 12, 0, 5, tzinfo=dt.UTC)
    first = jobs.enqueue_due(engine, now=start)
    # Other workers (threads here) reaching the same minute find it taken.
    results: list[list[int]] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(jobs.enqueue_due(engine, now=start)),
        )
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    later = jobs.enqueue_due(engine, now=start + dt.timedelta(seconds=30))
    next_minute = jobs.enqueue_due(engine, now=start + dt.timedelta(seconds=60))
    assert len(first) == 1 and all(r == [] for r in results) and later == []
    assert len(next_minute) == 1
    with session_scope(engine) as session:
        job = jobs.get(session, next_minute[0])
        assert job.params_dict() == {"n": 3} and job.created_by == "system:scheduler"
