"""HTTP routes of compound remediation (/api/v1/compounds).

``/remediations`` is the register by compound code; ``/cases/{number}`` is the
project as a case: its clocks, timeline, allowed transitions, evidence files.
Both read the same cases, in the caller's case scope.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Query, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from pingan.api.deps import CurrentPrincipal, DbSession
from pingan.api.uploads import read_capped
from pingan.cases import attachments
from pingan.cases.calendar import load_calendar
from pingan.cases.clocks import clocks_of_many
from pingan.cases.models import CaseAttachment, CaseClock
from pingan.cases.schemas import AttachmentOut, CaseDetail, EventOut
from pingan.cases.service import timeline
from pingan.cases.views import to_out
from pingan.cases.workflows import get_workflow
from pingan.governance import compounds_service as service
from pingan.governance import compounds_totals
from pingan.governance.compounds_models import RemediationStep
from pingan.governance.compounds_service import STEPS, Project, RemediationIn, StepDoneIn
from pingan.governance.letters import last_day
from pingan.org.levels import Level

router = APIRouter(prefix="/api/v1/compounds", tags=["compounds"])


class StepOut(BaseModel):
    step: str
    done_on: dt.date
    note: str
    attachment_id: int | None
    recorded_by: str


class RemediationOut(BaseModel):
    compound: str
    name: str
    households: int
    management: str
    no_property_management: bool
    no_responsible_department: bool
    no_self_governance: bool
    residents: int
    number: str
    state: str
    status: str
    unit_id: int
    supervision_flag: bool
    progress: float
    started_on: dt.date | None
    completed_on: dt.date | None
    target_on: dt.date | None = Field(None, description="Last day of the target clock")
    steps: list[StepOut]
    steps_to_do: list[str]
    allowed_transitions: list[str]


class ProjectOut(RemediationOut):
    case: CaseDetail


class StepIn(BaseModel):
    transition: str = Field(..., description="survey | record_step | accept | postpone | ...")
    fields: dict[str, Any] = Field(default_factory=dict)


def remediation_out(session: Session, project: Project) -> RemediationOut:
    return remediation_outs(session, [project])[0]


def remediation_outs(session: Session, projects: list[Project]) -> list[RemediationOut]:
    """The register's rows; steps and clocks of the whole list in one query each."""
    case_ids = [p.case.id for p in projects]
    steps = service.steps_of_many(session, case_ids)
    clocks = clocks_of_many(session, case_ids)
    zone = load_calendar(session).zone
    return [
        _remediation_out(p, steps[p.case.id], clocks.get(p.case.id, []), zone) for p in projects
    ]


def _remediation_out(
    project: Project, done: list[RemediationStep], clocks: list[CaseClock], zone: ZoneInfo
) -> RemediationOut:
    c, r, case = project.compound, project.record, project.case
    names = {s.step for s in done}
    target = next((k for k in reversed(clocks) if k.name == "remediate"), None)
    return RemediationOut(
        compound=c.code, name=c.name_zh, households=c.households, management=c.management,
        no_property_management=r.no_property_management,
        no_responsible_department=r.no_responsible_department,
        no_self_governance=r.no_self_governance, residents=r.residents, number=case.number,
        state=case.state, status=project.status, unit_id=case.unit_id,
        supervision_flag=case.supervision_flag, progress=len(done) / len(STEPS),
        started_on=min((s.done_on for s in done), default=None),
        completed_on=case.closed_at.astimezone(zone).date()
        if case.closed_at and case.state == "remediated" else None,
        target_on=last_day(target.due_at, zone) if target and target.due_at else None,
        steps=[StepOut(step=s.step, done_on=s.done_on, note=s.note,
                       attachment_id=s.attachment_id, recorded_by=s.recorded_by) for s in done],
        steps_to_do=[s for s in STEPS if s not in names],
        allowed_transitions=get_workflow(case.case_type).allowed_from(case.state),
    )  # fmt: skip


def _attachment_out(a: CaseAttachment) -> AttachmentOut:
    return AttachmentOut(
        id=a.id, filename=a.filename, content_type=a.content_type, size=a.size, sha256=a.sha256,
        purpose=a.purpose, uploaded_by=a.uploaded_by, uploaded_at=a.uploaded_at,
    )  # fmt: skip


def case_detail(session: Session, project: Project) -> CaseDetail:
    case = project.case
    events = [
        EventOut(id=e.id, at=e.at, actor=e.actor, kind=e.kind, from_state=e.from_state,
                 to_state=e.to_state, detail=json.loads(e.detail))
        for e in timeline(session, case.id)
    ]  # fmt: skip
    files = [_attachment_out(a) for a in attachments.list_attachments(session, case.id)]
    return CaseDetail(**to_out(session, case).model_dump(), timeline=events, attachments=files)


def project_out(session: Session, project: Project) -> ProjectOut:
    return ProjectOut(
        **remediation_out(session, project).model_dump(),
        case=case_detail(session, project),
    )


@router.post("/remediations", response_model=ProjectOut, status_code=201)
def register(body: RemediationIn, principal: CurrentPrincipal, session: DbSession) -> ProjectOut:
    """Open a remediation project (a case) for a compound with one or more of the three "no"s."""
    case, _record = service.register(session, remediation_in=body, actor=principal)
    return project_out(session, service.get_by_number(session, case.number, actor=principal))


@router.get("/remediations", response_model=list[RemediationOut])
def list_remediations(
    principal: CurrentPrincipal,
    session: DbSession,
    status: str | None = Query(
        None, description="planned | in_progress | completed | cancelled, or a case state"
    ),
    unit_id: int | None = None,
) -> list[RemediationOut]:
    found = service.list_projects(session, actor=principal, status=status, unit_id=unit_id)
    return remediation_outs(session, [p for p, _n in found])


@router.get("/remediations/{code}", response_model=ProjectOut)
def show(code: str, principal: CurrentPrincipal, session: DbSession) -> ProjectOut:
    return project_out(session, service.get(session, code, actor=principal))


@router.post("/remediations/{code}/steps", response_model=ProjectOut)
def step_done(
    code: str, body: StepDoneIn, principal: CurrentPrincipal, session: DbSession
) -> ProjectOut:
    """Record a step done with its evidence: self_governance, access_control, gatekeeping,
    quasi_property. The fourth asks for acceptance."""
    return project_out(session, service.record_step(session, code=code, step_in=body,
                                                    actor=principal))  # fmt: skip


@router.get("/cases/{number}", response_model=ProjectOut)
def show_case(number: str, principal: CurrentPrincipal, session: DbSession) -> ProjectOut:
    """The project as a case: clocks, timeline, evidence files, allowed transitions."""
    return project_out(session, service.get_by_number(session, number, actor=principal))


@router.post("/cases/{number}/transitions", response_model=ProjectOut)
def take_transition(
    number: str, body: StepIn, principal: CurrentPrincipal, session: DbSession
) -> ProjectOut:
    """Move the project; 409 if the transition is not allowed from its state."""
    project = service.take(
        session, number=number, transition=body.transition, fields=body.fields, actor=principal
    )
    return project_out(session, project)


@router.post("/cases/{number}/attachments", response_model=AttachmentOut, status_code=201)
def upload_evidence(
    number: str,
    principal: CurrentPrincipal,
    session: DbSession,
    file: Annotated[UploadFile, File()],
) -> AttachmentOut:
    """Attach evidence (JPEG, PNG or PDF, at most 10 MiB; photo EXIF removed)."""
    project = service.get_by_number(session, number, actor=principal)
    data = read_capped(file, attachments.MAX_BYTES)
    found = attachments.add_attachment(
        session, case=project.case, filename=file.filename or "file", data=data,
        actor=principal, purpose="evidence",
    )  # fmt: skip
    return _attachment_out(found)


@router.get("/totals")
def totals(
    principal: CurrentPrincipal, session: DbSession, area_level: Level = Level.DISTRICT
) -> list[dict[str, object]]:
    """Per area: projects, flags, progress, compounds remediated and residents benefiting."""
    found = compounds_totals.totals(session, actor=principal, area_level=area_level)
    return [asdict(t) for t in found]
