"""Analyses as stored runs: job kinds, submission within scope, and CLI run records.

A run is a job row (``kit.jobs``) whose params hold the complete, validated
parameters (defaults filled in, the time window fixed at submission) and who
asked for it; its result holds the answer and its data window; the row keeps
the software version. So a figure in a briefing can be reproduced from its run.
The job runs with the requester's current grants, never more.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from pingan.incidents.analysis import emerging, heat, hotspots, rates
from pingan.incidents.analysis.params import (
    EmergingParams,
    Filters,
    HeatParams,
    HotspotParams,
    RatesParams,
    parse,
)
from pingan.incidents.analysis.progress import Progress
from pingan.kit import jobs
from pingan.kit.db import session_scope, utcnow
from pingan.kit.errors import Forbidden, ValidationFailed
from pingan.org.principal import Principal
from pingan.org.users import get_user_by_name, principal_for

Runner = Callable[[Session, Any, Principal, Progress], dict[str, Any]]


def _heat(
    session: Session, params: HeatParams, actor: Principal, progress: Progress
) -> dict[str, Any]:
    surface = heat.heat_map(session, params, actor=actor, progress=progress)
    return {**surface.summary(), "contours": surface.contours()}


def _hotspots(
    session: Session, params: HotspotParams, actor: Principal, progress: Progress
) -> dict[str, Any]:
    return hotspots.hotspots(session, params, actor=actor, progress=progress)


def _emerging(
    session: Session, params: EmergingParams, actor: Principal, progress: Progress
) -> dict[str, Any]:
    return emerging.emerging(session, params, actor=actor, progress=progress)


def _rates(
    session: Session, params: RatesParams, actor: Principal, progress: Progress
) -> dict[str, Any]:
    return rates.rates(session, params, actor=actor, progress=progress)


@dataclass(frozen=True)
class Kind:
    name: str
    params: type[Filters]
    run: Runner
    description: str


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("analysis.heat", HeatParams, _heat, "Kernel density heat map"),
        Kind("analysis.hotspots", HotspotParams, _hotspots, "Hotspots (Gi*, Gi, local Moran)"),
        Kind("analysis.emerging", EmergingParams, _emerging, "Emerging hotspots"),
        Kind("analysis.rates", RatesParams, _rates, "Rates per org unit and change"),
    )
}


def kind_of(name: str) -> Kind:
    if name not in KINDS:
        raise ValidationFailed(
            f"unknown analysis {name!r} (known: {', '.join(KINDS)})", field="kind"
        )
    return KINDS[name]


def fixed_params(
    session: Session, kind: Kind, raw: dict[str, Any], actor: Principal, *, prefix: str = "params."
) -> Filters:
    """Validate the parameters and fix the data window, so the stored run can be repeated.

    Every check that needs no incidents runs here (unknown type, org unit out of
    scope, too many cells, too few time steps), so a bad run is refused at once.
    """
    params = parse(kind.params, raw, prefix=prefix)
    if isinstance(params, HeatParams):
        # The raster size is checked before any incident is read.
        heat.prepare(session, params, actor=actor)
        return _until_now(params)
    if isinstance(params, HotspotParams):
        hotspots.prepare(session, params, actor=actor)
        return _until_now(params)
    if isinstance(params, EmergingParams):
        steps = emerging.prepare(session, params, actor=actor).steps
        return params.model_copy(update={"since": steps.since, "until": steps.until})
    if isinstance(params, RatesParams):
        window = rates.prepare(session, params, actor=actor).periods
        return params.model_copy(update={"since": window.since, "until": window.until})
    raise AssertionError(f"no preparation for {kind.name}")


def _until_now(params: HeatParams | HotspotParams) -> Filters:
    # "Everything so far" means everything up to the time of the run.
    return params if params.until is not None else params.model_copy(update={"until": utcnow()})


def requested_by(actor: Principal) -> dict[str, Any]:
    return {"username": actor.username, "system": actor.is_system, "api_key_id": actor.api_key_id}


def run_params(params: BaseModel, actor: Principal) -> dict[str, Any]:
    return {"params": params.model_dump(mode="json"), "requested_by": requested_by(actor)}


def submit_run(
    session: Session, *, kind: str, params: dict[str, Any], actor: Principal
) -> jobs.Job:
    """Queue an analysis run for the caller; bad parameters are refused before queueing."""
    spec = kind_of(kind)
    fixed = fixed_params(session, spec, params, actor)
    return jobs.submit(
        session, kind=spec.name, params=run_params(fixed, actor), created_by=actor.actor
    )


def _principal(session: Session, requested: dict[str, Any]) -> Principal:
    """The requester as they stand now: a revoked grant no longer counts."""
    if requested.get("system"):
        return Principal.system(str(requested["username"]))
    user = get_user_by_name(session, str(requested["username"]))
    if not user.is_active:
        raise Forbidden(f"user {user.username!r} is no longer active")
    return principal_for(session, user, via="job", api_key_id=requested.get("api_key_id"))


def _job_function(spec: Kind) -> jobs.JobFunction:
    def run(engine: Engine, stored: dict[str, Any], progress: Progress) -> dict[str, Any]:
        with session_scope(engine) as session:
            actor = _principal(session, stored["requested_by"])
            params = parse(spec.params, stored["params"], prefix="params.")
            return spec.run(session, params, actor, progress)

    return run


for _spec in KINDS.values():
    jobs.register(_spec.name, _spec.description)(_job_function(_spec))


@dataclass
class RunRecord:
    """A run executed in this process (the CLI), recorded as a job row as it goes."""

    engine: Engine
    job_id: int
    on_progress: Progress
    result: dict[str, Any] | None = field(default=None)

    def progress(self, fraction: float, message: str = "") -> None:
        self.on_progress(fraction, message)
        with session_scope(self.engine) as session:
            session.execute(
                update(jobs.Job)
                .where(jobs.Job.id == self.job_id)
                .values(progress=max(0.0, min(1.0, fraction)), message=message[:300])
            )


@contextmanager
def recorded_run(
    engine: Engine, kind: str, params: BaseModel, actor: Principal, on_progress: Progress
) -> Iterator[RunRecord]:
    """Record a run done here: running now, then succeeded with ``record.result`` or failed."""
    with session_scope(engine) as session:
        job = jobs.Job(
            kind=kind,
            params=json.dumps(run_params(params, actor)),
            created_by=actor.actor,
            status=jobs.JobStatus.RUNNING,
            started_at=utcnow(),
        )
        session.add(job)
        session.flush()
        job_id = job.id
    record = RunRecord(engine, job_id, on_progress)
    try:
        yield record
    except BaseException as exc:
        _finish(engine, job_id, status=jobs.JobStatus.FAILED, error=f"{type(exc).__name__}: {exc}")
        raise
    _finish(engine, job_id, status=jobs.JobStatus.SUCCEEDED, result=record.result or {})


def _finish(
    engine: Engine,
    job_id: int,
    *,
    status: jobs.JobStatus,
    result: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    values: dict[str, Any] = {"status": status, "finished_at": utcnow()}
    if result is not None:
        values.update(progress=1.0, result=json.dumps(result, default=str))
    if error is not None:
        values["error"] = error[:2000]
    with session_scope(engine) as session:
        session.execute(update(jobs.Job).where(jobs.Job.id == job_id).values(**values))
