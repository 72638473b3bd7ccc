"""Job leases in one process: expiry, re-queue, the attempt limit, and stale runners."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from sqlalchemy import Engine, update

from pingan.kit import jobs
from pingan.kit.db import session_scope, utcnow

gate = threading.Event()


@jobs.register("test.lease.double", "doubles a number")
def _double(engine: Engine, params: dict[str, Any], progress: jobs.Progress) -> dict[str, Any]:
    return {"double": 2 * int(params["n"])}


@jobs.register("test.lease.waits", "reports progress until the gate opens")
def _waits(engine: Engine, params: dict[str, Any], progress: jobs.Progress) -> dict[str, Any]:
    while not gate.wait(0.05):
        progress(0.5, "waiting")
    return {"done": True}


def _submit(engine: Engine, kind: str, **params: Any) -> int:
    with session_scope(engine) as session:
        return jobs.submit(session, kind=kind, params=params, created_by="t").id


def _job(engine: Engine, job_id: int) -> jobs.Job:
    with session_scope(engine) as session:
        return jobs.get(session, job_id)


def _later(seconds: float) -> dt.datetime:
    return utcnow() + dt.timedelta(seconds=seconds)


def test_runner_that_lost_its_lease_cannot_overwrite_the_new_runners_result(
    engine: Engine,
) -> None:
    job_id = _submit(engine, "test.lease.double", n=4)
    stale = jobs.claim(engine, lease_seconds=30)
    assert stale is not None and stale.job_id == job_id
    # Its process stalls past the lease: another worker takes the job back and runs it.
    assert jobs.requeue_expired(engine, now=_later(31)) == [job_id]
    queued = _job(engine, job_id)
    assert queued.status == "queued" and queued.runner is None and "re-queued" in queued.message
    fresh = jobs.claim(engine, lease_seconds=30)
    assert fresh is not None and fresh.runner != stale.runner
    jobs.run_job(engine, fresh.job_id, fresh.runner)
    first_outcome = _job(engine, job_id)
    assert first_outcome.status == "succeeded" and first_outcome.result_dict() == {"double": 8}
    # The stalled runner wakes up and finishes: nothing it writes lands.
    assert not jobs.renew(engine, stale)
    with session_scope(engine) as session:  # a marker its finish (progress 1.0) would erase
        session.execute(update(jobs.Job).where(jobs.Job.id == job_id).values(progress=0.25))
    jobs.run_job(engine, stale.job_id, stale.runner)
    done = _job(engine, job_id)
    assert done.finished_at == first_outcome.finished_at, "the stale runner's finish landed"
    assert done.progress == 0.25, "the stale runner's finish landed"
    assert done.status == "succeeded" and done.attempts == 2 and done.runner == fresh.runner
    assert done.lease_expires_at is None


def test_stale_runner_is_stopped_at_its_next_progress_call(engine: Engine) -> None:
    gate.clear()
    job_id = _submit(engine, "test.lease.waits")
    taken = jobs.claim(engine, lease_seconds=30)
    assert taken is not None
    runner = threading.Thread(target=jobs.run_job, args=(engine, job_id, taken.runner))
    runner.start()
    try:
        assert jobs.requeue_expired(engine, now=_later(31)) == [job_id]
        runner.join(timeout=10)
        assert not runner.is_alive(), "the runner kept working after losing its lease"
    finally:
        gate.set()
        runner.join(timeout=10)
    left = _job(engine, job_id)
    assert left.status == "queued" and left.error is None and left.finished_at is None


def test_lease_is_renewed_while_the_job_works(engine: Engine) -> None:
    gate.clear()
    job_id = _submit(engine, "test.lease.waits")
    worker = threading.Thread(
        target=jobs.run_pending, args=(engine,), kwargs={"lease_seconds": 0.6}
    )
    worker.start()
    try:
        taken_back: list[int] = []
        deadline = utcnow() + dt.timedelta(seconds=2.5)  # about four lease lengths
        while utcnow() < deadline:
            taken_back += jobs.requeue_expired(engine)
        assert taken_back == []
    finally:
        gate.set()
        worker.join(timeout=10)
    done = _job(engine, job_id)
    assert done.status == "succeeded" and done.attempts == 1


@pytest.mark.parametrize("limit", [1, 3])
def test_job_fails_with_a_clear_error_after_the_attempt_limit(engine: Engine, limit: int) -> None:
    job_id = _submit(engine, "test.lease.double", n=1)
    for attempt in range(1, limit + 1):
        assert jobs.claim(engine, lease_seconds=5) is not None
        assert jobs.requeue_expired(engine, max_attempts=limit, now=_later(6)) == [job_id]
        expected = "failed" if attempt == limit else "queued"
        assert _job(engine, job_id).status == expected
    failed = _job(engine, job_id)
    assert failed.error is not None and failed.error.startswith("LeaseExpired:")
    assert f"attempt {limit} of {limit}" in failed.error and failed.finished_at is not None
    assert jobs.claim(engine) is None


def test_runs_without_a_lease_are_never_taken_over(engine: Engine) -> None:
    # A run recorded by its own foreground caller (e.g. an analysis run from the CLI).
    with session_scope(engine) as session:
        job = jobs.Job(kind="cli.run", created_by="t", status=jobs.JobStatus.RUNNING)
        session.add(job)
        session.flush()
        job_id = job.id
    assert jobs.requeue_expired(engine, now=_later(10**6)) == []
    assert _job(engine, job_id).status == "running"
