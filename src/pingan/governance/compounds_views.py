"""HTTP routes of compound remediation (/api/v1/compounds)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy.orm import Session

from pingan.api.deps import CurrentPrincipal, DbSession
from pingan.governance import compounds_service as service
from pingan.governance.compounds_models import Remediation
from pingan.governance.compounds_service import STEPS, RemediationIn, StepDoneIn
from pingan.org.levels import Level
from pingan.places.models import ResidentialCompound

router = APIRouter(prefix="/api/v1/compounds", tags=["compounds"])


class StepOut(BaseModel):
    step: str
    done_on: dt.date
    note: str


class RemediationOut(BaseModel):
    compound: str
    name: str
    households: int
    management: str
    no_property_management: bool
    no_responsible_department: bool
    no_self_governance: bool
    residents: int
    status: str
    progress: float
    started_on: dt.date | None
    completed_on: dt.date | None
    steps: list[StepOut]
    steps_to_do: list[str]


def remediation_out(session: Session, c: ResidentialCompound, r: Remediation) -> RemediationOut:
    done = service.steps(session, r)
    names = {s.step for s in done}
    return RemediationOut(
        compound=c.code,
        name=c.name_zh,
        households=c.households,
        management=c.management,
        no_property_management=r.no_property_management,
        no_responsible_department=r.no_responsible_department,
        no_self_governance=r.no_self_governance,
        residents=r.residents,
        status=r.status,
        progress=len(done) / len(STEPS),
        started_on=r.started_on,
        completed_on=r.completed_on,
        steps=[StepOut(step=s.step, done_on=s.done_on, note=s.note) for s in done],
        steps_to_do=[s for s in STEPS if s not in names],
    )


@router.post("/remediations", response_model=RemediationOut, status_code=201)
def register(
    body: RemediationIn, principal: CurrentPrincipal, session: DbSession
) -> RemediationOut:
    """Start a remediation project for a compound with one or more of the three "no"s."""
    row = service.register(session, remediation_in=body, actor=principal)
    compound, row = service.get(session, body.compound, actor=principal)
    return remediation_out(session, compound, row)


@router.get("/remediations", response_model=list[RemediationOut])
def list_remediations(
    principal: CurrentPrincipal,
    session: DbSession,
    status: str | None = Query(None, description="planned | in_progress | completed"),
    unit_id: int | None = None,
) -> list[RemediationOut]:
    found = service.list_remediations(session, actor=principal, status=status, unit_id=unit_id)
    return [remediation_out(session, c, r) for c, r, _n in found]


@router.get("/remediations/{code}", response_model=RemediationOut)
def show(code: str, principal: CurrentPrincipal, session: DbSession) -> RemediationOut:
    compound, row = service.get(session, code, actor=principal)
    return remediation_out(session, compound, row)


@router.post("/remediations/{code}/steps", response_model=RemediationOut)
def step_done(
    code: str, body: StepDoneIn, principal: CurrentPrincipal, session: DbSession
) -> RemediationOut:
    """Mark a step done: self_governance, access_control, gatekeeping, quasi_property."""
    service.record_step(session, code=code, step_in=body, actor=principal)
    compound, row = service.get(session, code, actor=principal)
    return remediation_out(session, compound, row)


@router.get("/totals")
def totals(
    principal: CurrentPrincipal, session: DbSession, area_level: Level = Level.DISTRICT
) -> list[dict[str, object]]:
    """Per area: projects, flags, progress, compounds remediated and residents benefiting."""
    return [asdict(t) for t in service.totals(session, actor=principal, area_level=area_level)]
