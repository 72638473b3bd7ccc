"""HTTP routes over background jobs: status, progress and result."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from pingan.api.deps import CurrentPrincipal, DbSession
from pingan.kit import jobs
from pingan.kit.errors import NotFound
from pingan.org.permissions import Perm
from pingan.org.service import holds_city_wide

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])


class JobOut(BaseModel):
    id: int
    kind: str
    status: str
    progress: float
    message: str
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    software_version: str
    created_by: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


def job_out(job: jobs.Job) -> JobOut:
    return JobOut(
        id=job.id,
        kind=job.kind,
        status=job.status,
        progress=job.progress,
        message=job.message,
        params=job.params_dict(),
        result=job.result_dict(),
        # The traceback stays in the server log; callers get the one-line reason.
        error=None if job.error is None else job.error.splitlines()[0],
        software_version=job.software_version,
        created_by=job.created_by,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


@router.get("/{job_id}", response_model=JobOut)
def get_job(job_id: int, principal: CurrentPrincipal, session: DbSession) -> JobOut:
    """A job you started (administrators see every job)."""
    job = jobs.get(session, job_id)
    others = holds_city_wide(session, principal, Perm.USERS_ADMIN)  # every unit's jobs
    if job.created_by != principal.actor and not others:
        raise NotFound(f"job {job_id} not found")
    return job_out(job)
