"""A job runner for the lease test.

    python -m tests.ops.lease_worker_proc URL HOLD_SECONDS RUN_SECONDS

It registers a job kind that reports progress, then works for HOLD_SECONDS
and leaves one audit entry (with this process's pid) when it finishes, and
runs a real ``jobs.Worker`` for RUN_SECONDS. The lease length comes from
``PINGAN_JOB_LEASE_SECONDS`` as in production.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from sqlalchemy import Engine

from pingan.kit import audit, jobs
from pingan.kit.db import engine_for, session_scope

KIND = "test.lease"
HOLD = {"seconds": 0.0}


@jobs.register(KIND, "A job that works a while and counts its completions")
def slow(engine: Engine, params: dict[str, Any], progress: jobs.Progress) -> dict[str, Any]:
    progress(0.1, f"started by {os.getpid()}")
    time.sleep(HOLD["seconds"])
    with session_scope(engine) as session:
        audit.record(
            session, actor="system:test", action=KIND, object_type="job",
            detail={"pid": os.getpid()},
        )  # fmt: skip
    return {"pid": os.getpid()}


def main() -> None:
    url, HOLD["seconds"], seconds = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    jobs._schedules.clear()
    worker = jobs.Worker(engine_for(url), poll_seconds=0.1, scheduling=False)
    worker.start()
    print("started", flush=True)
    time.sleep(seconds)
    worker.stop()
    print("stopped", flush=True)


if __name__ == "__main__":
    main()
