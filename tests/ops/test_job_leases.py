"""Job leases: a job whose runner is killed is run again by another runner, exactly once.

Real processes on the test database: a worker process is SIGKILLed in the middle
of a job; a second one, started afterwards, takes the job back when its lease
runs out and finishes it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from sqlalchemy import Engine, select

from pingan.kit import audit, jobs
from pingan.kit.db import session_scope
from tests.ops.lease_worker_proc import KIND
from tests.ops.procs import ROOT

LEASE_S = 1.5


def _worker(db_url: str, hold_s: float, run_s: float) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PINGAN_LOG_LEVEL": "WARNING", "PINGAN_JOB_LEASE_SECONDS": str(LEASE_S)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.ops.lease_worker_proc", db_url, str(hold_s), str(run_s)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def _job(engine: Engine, job_id: int) -> jobs.Job:
    with session_scope(engine) as session:
        return jobs.get(session, job_id)


def _wait_for(engine: Engine, job_id: int, done: str, timeout: float = 90) -> jobs.Job:
    deadline = time.monotonic() + timeout
    while True:
        job = _job(engine, job_id)
        if done == "started" and job.status == "running" and job.progress > 0:
            return job
        if done == "finished" and job.status in ("succeeded", "failed"):
            return job
        assert time.monotonic() < deadline, f"job {job_id} not {done}: {job.status}"
        time.sleep(0.05)


def test_killed_runner_job_is_rerun_after_its_lease_exactly_once(
    db_url: str, engine: Engine
) -> None:
    with session_scope(engine) as session:
        job_id = jobs.submit(session, kind=KIND, params={}, created_by="t").id
    first = _worker(db_url, hold_s=600, run_s=600)  # would work for 10 minutes
    try:
        running = _wait_for(engine, job_id, "started")
        assert running.runner is not None and f":{first.pid}#" in running.runner
        assert running.attempts == 1 and running.lease_expires_at is not None
        # The lease is renewed while the job works: it outlives several lease lengths.
        time.sleep(3 * LEASE_S)
        assert _job(engine, job_id).lease_expires_at > running.lease_expires_at  # type: ignore[operator]
        assert not jobs.requeue_expired(engine), "a live runner's job was taken back"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        first.kill()
    # Dead runner: nobody renews, and nothing finished.
    assert _job(engine, job_id).status == "running"
    second = _worker(db_url, hold_s=0, run_s=60)
    try:
        finished = _wait_for(engine, job_id, "finished")
    finally:
        second.terminate()
        second.communicate(timeout=30)
    assert finished.status == "succeeded", finished.error
    assert finished.attempts == 2
    assert finished.runner is not None and f":{second.pid}#" in finished.runner
    assert finished.result_dict() == {"pid": second.pid}
    with session_scope(engine) as session:
        runs = session.scalars(
            select(audit.AuditEntry).where(audit.AuditEntry.action == KIND)
        ).all()
        assert audit.verify_chain(session).ok
    assert [json.loads(r.detail)["pid"] for r in runs] == [second.pid], "one success, by the second"
