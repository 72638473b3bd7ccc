"""Faults: a server killed mid-batch loses nothing it acknowledged and stores nothing twice;
periodic jobs run once per period across competing processes.

Real processes on the test database: uvicorn as a subprocess, SIGKILL, restart.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from pingan.incidents.models import Incident
from pingan.kit import audit, jobs
from pingan.kit.db import session_scope
from pingan.org import auth, users
from tests.citykit import TestCity, grid_centre, unit
from tests.ops.conftest import SYSTEM
from tests.ops.procs import ROOT, ServerProcess

BATCH = 4_000


@pytest.fixture
def key(engine: Engine, city: TestCity) -> str:
    with session_scope(engine) as session:
        bridge = users.create_user(session, username="cad-bridge", password=None,
                                   is_service=True, actor=SYSTEM)  # fmt: skip
        users.grant_role(session, user=bridge, role_name="officer", unit=unit(session, "C"),
                         actor=SYSTEM)  # fmt: skip
        secret, _ = auth.create_api_key(session, user=bridge, name="cad", actor=SYSTEM)
    return secret


@pytest.fixture
def server(db_url: str, engine: Engine, key: str) -> Iterator[ServerProcess]:
    proc = ServerProcess(db_url)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def _batch(prefix: str, n: int) -> bytes:
    lon, lat = grid_centre("E2")
    start = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    lines = [
        json.dumps({
            "type": "traffic.collision", "source": "call", "external_id": f"{prefix}-{i}",
            "occurred_at": (start + dt.timedelta(seconds=i)).isoformat(),
            "lon": lon + (i % 100) * 1e-5, "lat": lat + (i // 100 % 100) * 1e-5,
        })
        for i in range(n)
    ]  # fmt: skip
    return ("\n".join(lines) + "\n").encode()


def _post(server: ServerProcess, key: str, body: bytes, timeout: float = 300) -> httpx.Response:
    return httpx.post(
        f"{server.url}/api/v1/incidents/batch",
        content=body,
        headers={"X-API-Key": key, "Content-Type": "application/x-ndjson"},
        timeout=timeout,
    )


def _stored(engine: Engine, prefix: str, expect: int | None = None) -> tuple[int, int]:
    """Rows stored with the prefix, and distinct keys among them.

    With ``expect``, waits up to 10 s for that many: the request's transaction is
    committed by a FastAPI yield dependency, which (by default) runs *after* the
    response is sent, so an answered batch can become visible a moment later.
    Reported to the lead: ``Depends(db_session, scope="function")`` in
    ``pingan.api.deps`` would commit before answering.
    """
    deadline = time.monotonic() + 10
    while True:
        found = _count(engine, prefix)
        if expect is None or found[0] >= expect or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def _count(engine: Engine, prefix: str) -> tuple[int, int]:
    with session_scope(engine) as session:
        mine = Incident.external_id.like(f"{prefix}-%")
        rows = session.scalar(select(func.count(Incident.id)).where(mine))
        distinct = session.scalar(
            select(func.count(func.distinct(Incident.external_id))).where(mine)
        )
    return int(rows or 0), int(distinct or 0)


def test_kill_mid_batch_then_retry_stores_every_row_once(
    engine: Engine, server: ServerProcess, key: str
) -> None:
    # How long a batch takes here (after a first small request warms the server up), so
    # that the kill lands about a third of the way into a batch three times as big.
    assert _post(server, key, _batch("warm0", 500)).status_code == 200
    t0 = time.monotonic()
    warm = _post(server, key, _batch("warm", BATCH))
    took = time.monotonic() - t0
    assert warm.status_code == 200 and len(warm.json()["accepted"]) == BATCH

    body = _batch("b", 3 * BATCH)
    outcome: dict[str, Any] = {}

    def send() -> None:
        try:
            outcome["response"] = _post(server, key, body)
        except httpx.TransportError as exc:
            outcome["error"] = exc

    sender = threading.Thread(target=send)
    sender.start()
    time.sleep(took)
    server.kill()
    sender.join(timeout=30)
    assert "error" in outcome, "the batch finished before the kill; the test proves nothing"
    # Nothing was acknowledged, and nothing of the batch is half-stored.
    assert _stored(engine, "b") == (0, 0)

    server.start()
    retry = _post(server, key, body)
    assert retry.status_code == 200, retry.text
    answer = retry.json()
    assert not answer["rejected"]
    assert len(answer["accepted"]) + len(answer["duplicates"]) == 3 * BATCH
    assert _stored(engine, "b", expect=3 * BATCH) == (3 * BATCH, 3 * BATCH)
    # A second retry (the client never saw the first answer, say) stores nothing new.
    again = _post(server, key, body).json()
    assert len(again["duplicates"]) == 3 * BATCH and not again["accepted"]
    assert _stored(engine, "b", expect=3 * BATCH) == (3 * BATCH, 3 * BATCH)
    assert _stored(engine, "warm", expect=BATCH) == (BATCH, BATCH)
    with session_scope(engine) as session:
        assert audit.verify_chain(session).ok


def test_scheduled_job_runs_once_per_period_across_processes_and_restarts(
    db_url: str, engine: Engine
) -> None:
    start = time.time() + 4.0  # the processes import first, then begin together
    seconds = 10.0  # ten contested periods: one process winning all is ~0.2 % by chance
    # Two runners compete for `seconds`; then a third, started as they stop, stands in for
    # a restarted runner (it imports meanwhile, so only its 3 s of work add to the test).
    plan = [(start, seconds), (start, seconds), (start + seconds + 0.5, 3.0)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.ops.worker_proc", db_url, str(begin), str(length)],
            cwd=ROOT,
            env={**os.environ, "PINGAN_LOG_LEVEL": "WARNING"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for begin, length in plan
    ]
    submitted: list[tuple[int, int]] = []  # (job id, period) from every process
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()[-2000:]
        for line in out.decode().splitlines():
            if line.startswith("{"):
                submitted += [tuple(pair) for pair in json.loads(line)["submitted"]]
    with session_scope(engine) as session:
        ticks = session.scalars(select(jobs.Job).where(jobs.Job.kind == "test.tick")).all()
        runs = session.scalars(
            select(audit.AuditEntry).where(audit.AuditEntry.action == "test.tick")
        ).all()
        assert audit.verify_chain(session).ok
    # About one period per second of running, each submitted once and run once.
    assert seconds + 3 - 2 <= len(ticks) <= seconds + 3 + 3
    # Every job was submitted by some process, for a period no other job has.
    assert sorted(job_id for job_id, _ in submitted) == sorted(job.id for job in ticks)
    slots = {period for _, period in submitted}
    assert len(slots) == len(ticks), "a period was submitted twice"
    assert all(job.status == jobs.JobStatus.SUCCEEDED for job in ticks)
    assert len(runs) == len(ticks), "a job ran twice (or not at all)"
    by_pid = Counter(json.loads(r.detail)["pid"] for r in runs)
    first, second, restarted = (p.pid for p in procs)
    assert by_pid[first] and by_pid[second], "both competing processes should win some periods"
    # The restarted runner picks up the next periods; none it ran had run before (slots above).
    assert by_pid[restarted], "the restarted runner ran no period"
