"""A job runner for the exactly-once test.

    python -m tests.ops.worker_proc URL START SECONDS


It registers a job kind whose every run leaves one audit entry (with this
process's pid), schedules it every second, waits until the wall-clock START so
that competing processes begin together, and runs a real ``jobs.Worker``.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from typing import Any

from sqlalchemy import Engine

from pingan.kit import audit, jobs
from pingan.kit.db import engine_for, session_scope, utcnow

KIND = "test.tick"


@jobs.register(KIND, "A job whose every run is counted")
def tick(engine: Engine, params: dict[str, Any], progress: jobs.Progress) -> dict[str, Any]:
    with session_scope(engine) as session:
        audit.record(
            session, actor="system:test", action=KIND, object_type="job",
            detail={"pid": os.getpid()},
        )  # fmt: skip
    return {"pid": os.getpid()}


# (job id, period) of every job this process submitted. A job's created_at can fall in
# the next second after a lock wait, so the period is taken from the scheduler's clock.
SUBMITTED: list[tuple[int, int]] = []
_enqueue_due = jobs.enqueue_due


def _recording_enqueue(engine: Engine, now: Any = None) -> list[int]:
    now = now or utcnow()
    ids = _enqueue_due(engine, now)
    SUBMITTED.extend((job_id, int(now.timestamp())) for job_id in ids)
    return ids


class _JitteryWorker(jobs.Worker):
    """Polls at a random 10-90 ms each time, as real servers drift: with a fixed
    cadence two processes started together keep one phase, and the same one
    would be first after every period boundary and win them all."""

    @property  # type: ignore[override]
    def poll_seconds(self) -> float:
        return random.uniform(0.01, 0.09)

    @poll_seconds.setter
    def poll_seconds(self, value: float) -> None:
        pass


def main() -> None:
    url, start, seconds = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    engine = engine_for(url)
    jobs.enqueue_due = _recording_enqueue  # type: ignore[assignment]
    jobs._schedules.clear()
    jobs.schedule(KIND, every_seconds=1)
    time.sleep(max(0.0, start - time.time()))
    worker = _JitteryWorker(engine, poll_seconds=0.05)
    worker.start()
    time.sleep(seconds)
    worker.stop()
    print(json.dumps({"submitted": SUBMITTED}), flush=True)
    print("stopped", flush=True)


if __name__ == "__main__":
    main()
