"""HTTP routes of the cases domain (/api/v1/cases)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Response, UploadFile
from sqlalchemy.orm import Session

from pingan.api.deps import CurrentPrincipal, DbSession
from pingan.api.uploads import read_capped
from pingan.cases import actions, attachments, escalation, patrols, service
from pingan.cases.categories import list_categories
from pingan.cases.clocks import clocks_of_many
from pingan.cases.engine import Transition
from pingan.cases.kpis import grid_kpis
from pingan.cases.models import Case, CaseAttachment, CaseClock, PatrolCheckin
from pingan.cases.schemas import (
    AssignIn,
    AttachmentOut,
    CaseDetail,
    CaseIn,
    CaseOut,
    CheckinIn,
    ClockOut,
    CommentIn,
    EventOut,
    TransitionIn,
)
from pingan.cases.workflows import get_workflow
from pingan.kit.db import utcnow
from pingan.kit.errors import NotFound, ValidationFailed
from pingan.kit.pagination import Page
from pingan.org.principal import Principal

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])
# Imported for its side effect: the "cases.escalations" job kind is registered.
_ESCALATION_JOB = escalation.escalations_job


def to_out(session: Session, case: Case, duplicates: list[Case] | None = None) -> CaseOut:
    return to_outs(session, [case], duplicates)[0]


def to_outs(
    session: Session, cases: list[Case], duplicates: list[Case] | None = None
) -> list[CaseOut]:
    """Cases as the API shows them; categories and clocks of the whole list in two queries."""
    codes = service.category_codes(session, {c.category_id for c in cases})
    clocks = clocks_of_many(session, [c.id for c in cases])
    now = utcnow()
    return [_case_out(case, codes, clocks.get(case.id, []), now, duplicates) for case in cases]


def _case_out(
    case: Case,
    codes: dict[int, str],
    clocks_in: list[CaseClock],
    now: dt.datetime,
    duplicates: list[Case] | None,
) -> CaseOut:
    clocks = [
        ClockOut(
            name=c.name,
            basis=c.basis,
            status=c.status,
            started_at=c.started_at,
            due_at=c.due_at,
            warn_at=c.warn_at,
            remaining_s=c.remaining_s,
            total_s=c.total_s,
            overdue=c.status == "running" and c.due_at is not None and c.due_at <= now,
        )
        for c in clocks_in
    ]
    return CaseOut(
        id=case.id,
        number=case.number,
        case_type=case.case_type,
        state=case.state,
        is_open=case.is_open,
        category=codes[case.category_id],
        title=case.title,
        description=case.description,
        address=case.address,
        lon=case.lon,
        lat=case.lat,
        grid_id=case.grid_id,
        unit_id=case.unit_id,
        department=case.department,
        handler_id=case.handler_id,
        supervision_flag=case.supervision_flag,
        rating=case.rating,
        created_at=case.created_at,
        updated_at=case.updated_at,
        closed_at=case.closed_at,
        allowed_transitions=get_workflow(case.case_type).allowed_from(case.state),
        clocks=clocks,
        possible_duplicates=[d.number for d in duplicates or []],
    )


def _attachment_out(a: CaseAttachment) -> AttachmentOut:
    return AttachmentOut(
        id=a.id,
        filename=a.filename,
        content_type=a.content_type,
        size=a.size,
        sha256=a.sha256,
        purpose=a.purpose,
        uploaded_by=a.uploaded_by,
        uploaded_at=a.uploaded_at,
    )


# Case types whose whole life runs through these generic routes. Petitions, tips,
# disputes and risk assessments have routes of their own that apply their own rules
# (confidentiality, parties, the assessment gate); here they do not exist.
GENERIC_CASE_TYPES = ("grid_event",)


def _generic_case(session: Session, case_id: int, principal: Principal) -> Case:
    case = service.get_case(session, case_id, actor=principal)
    if case.case_type not in GENERIC_CASE_TYPES:
        raise NotFound(f"case {case_id} not found")
    return case


@router.post("", response_model=CaseOut, status_code=201)
def create_case(body: CaseIn, principal: CurrentPrincipal, session: DbSession) -> CaseOut:
    """File a case; open cases of the same category within 50 m come back as possible duplicates."""
    if body.case_type not in GENERIC_CASE_TYPES:
        raise ValidationFailed(
            f"{body.case_type!r} cases are filed through their own routes, not /api/v1/cases",
            field="case_type",
        )
    case, duplicates = service.create_case(session, case_in=body, actor=principal)
    return to_out(session, case, duplicates)


@router.get("", response_model=Page[CaseOut])
def list_cases(
    principal: CurrentPrincipal,
    session: DbSession,
    inbox: str = Query("all", description="all | mine | unit | overdue | due_today | flagged"),
    state: str | None = None,
    category: str | None = None,
    open: bool | None = Query(None, description="Only open (true) or closed (false) cases"),
    q: str | None = Query(None, description="Substring of title, description, address, number"),
    limit: int = Query(100, ge=1, le=1000),
    after_id: int | None = None,
) -> Page[CaseOut]:
    """Cases in your scope, by id (keyset pages)."""
    found = service.list_cases(
        session,
        actor=principal,
        inbox=inbox,
        state=state,
        category=category,
        is_open=open,
        q=q,
        limit=limit,
        after_id=after_id,
        case_types=GENERIC_CASE_TYPES,
    )
    items = to_outs(session, found)
    return Page(items=items, next_after_id=found[-1].id if len(found) == limit else None)


@router.get("/categories")
def categories(principal: CurrentPrincipal, session: DbSession) -> list[dict[str, object]]:
    """The configurable categories with their handling deadline and route."""
    return [
        {
            "code": c.code,
            "case_type": c.case_type,
            "kind": c.kind,
            "name_zh": c.name_zh,
            "name_en": c.name_en,
            "department": c.department,
            "handling_level": c.handling_level,
            "deadline": {"amount": c.deadline_amount, "basis": c.deadline_basis},
        }
        for c in list_categories(session)
    ]


@router.get("/workflows/{case_type}")
def workflow(case_type: str, principal: CurrentPrincipal) -> dict[str, object]:
    """A case type's states and transitions, with the fields each transition requires."""
    principal.require("cases:read")
    flow = get_workflow(case_type)
    return {
        "key": flow.key,
        "states": list(flow.states),
        "initial": flow.initial,
        "final": sorted(flow.final),
        "transitions": [_transition_out(t) for t in flow.transitions],
    }


def _transition_out(t: Transition) -> dict[str, object]:
    return {
        "name": t.name,
        "sources": list(t.sources),
        "target": t.target,
        "required": list(t.required),
        "label": t.label,
        "perm": t.perm,
        "allow_reporter": t.allow_reporter,
    }


@router.post("/checkins", status_code=201)
def check_in(body: CheckinIn, principal: CurrentPrincipal, session: DbSession) -> dict[str, object]:
    """A grid worker checks in on patrol at their position."""
    row = patrols.check_in(session, actor=principal, lon=body.lon, lat=body.lat, note=body.note)
    return _checkin_out(row)


@router.get("/checkins")
def list_checkins(
    principal: CurrentPrincipal,
    session: DbSession,
    grid_id: int | None = None,
    since: dt.datetime | None = None,
    limit: int = Query(500, ge=1, le=5000),
) -> list[dict[str, object]]:
    """Patrol check-ins in the grids you supervise (and your own), newest first."""
    rows = patrols.list_checkins(
        session, actor=principal, grid_id=grid_id, since=since, limit=limit
    )
    return [_checkin_out(r) for r in rows]


def _checkin_out(row: PatrolCheckin) -> dict[str, object]:
    return {
        "id": row.id,
        "user_id": row.user_id,
        "grid_id": row.grid_id,
        "at": row.at.isoformat(),
        "lon": row.lon,
        "lat": row.lat,
        "note": row.note,
    }


@router.get("/kpis")
def kpis(
    principal: CurrentPrincipal,
    session: DbSession,
    group: str = Query("worker", description="worker (the reporter) or grid"),
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[dict[str, object]]:
    """Reports filed, verified and on-time handling rate, per grid worker or per grid."""
    rows = grid_kpis(session, actor=principal, group=group, since=since, until=until)
    return [
        {
            "group": group,
            "id": r.key,
            "filed": r.filed,
            "verified": r.verified,
            "handled": r.handled,
            "on_time": r.on_time,
            "on_time_rate": r.on_time_rate,
        }
        for r in rows
    ]


@router.get("/{case_id}", response_model=CaseDetail)
def get_case(case_id: int, principal: CurrentPrincipal, session: DbSession) -> CaseDetail:
    case = _generic_case(session, case_id, principal)
    timeline = [
        EventOut(
            id=e.id,
            at=e.at,
            actor=e.actor,
            kind=e.kind,
            from_state=e.from_state,
            to_state=e.to_state,
            detail=json.loads(e.detail),
        )
        for e in service.timeline(session, case.id)
    ]
    files = [_attachment_out(a) for a in attachments.list_attachments(session, case.id)]
    return CaseDetail(**to_out(session, case).model_dump(), timeline=timeline, attachments=files)


@router.post("/{case_id}/transitions", response_model=CaseOut)
def take_transition(
    case_id: int, body: TransitionIn, principal: CurrentPrincipal, session: DbSession
) -> CaseOut:
    """Move the case; 409 if the transition is not allowed from its state."""
    case = _generic_case(session, case_id, principal)
    actions.transition(
        session,
        case=case,
        name=body.transition,
        fields=body.fields,
        actor=principal,
        unit_id=body.unit_id,
        department=body.department,
    )
    return to_out(session, case)


@router.post("/{case_id}/comments", status_code=201)
def add_comment(
    case_id: int, body: CommentIn, principal: CurrentPrincipal, session: DbSession
) -> dict[str, str]:
    case = _generic_case(session, case_id, principal)
    actions.comment(session, case=case, text=body.text, actor=principal)
    return {"status": "added"}


@router.post("/{case_id}/assignment", response_model=CaseOut)
def assign(
    case_id: int, body: AssignIn, principal: CurrentPrincipal, session: DbSession
) -> CaseOut:
    """Assign a handler and/or transfer to another unit or department (history kept)."""
    case = _generic_case(session, case_id, principal)
    actions.assign(
        session,
        case=case,
        actor=principal,
        handler_id=body.handler_id,
        unit_id=body.unit_id,
        department=body.department,
        reason=body.reason,
    )
    return to_out(session, case)


@router.post("/{case_id}/attachments", response_model=AttachmentOut, status_code=201)
def upload(
    case_id: int,
    principal: CurrentPrincipal,
    session: DbSession,
    file: Annotated[UploadFile, File()],
    purpose: Annotated[str, Form()] = "evidence",
    keep_exif: Annotated[bool, Form()] = False,
) -> AttachmentOut:
    """Attach a JPEG, PNG or PDF (at most 10 MiB); photo EXIF is removed unless kept."""
    case = _generic_case(session, case_id, principal)
    data = read_capped(file, attachments.MAX_BYTES)
    found = attachments.add_attachment(
        session,
        case=case,
        filename=file.filename or "file",
        data=data,
        actor=principal,
        purpose=purpose,
        keep_exif=keep_exif,
    )
    return _attachment_out(found)


@router.get("/{case_id}/attachments/{attachment_id}")
def download(
    case_id: int, attachment_id: int, principal: CurrentPrincipal, session: DbSession
) -> Response:
    case = _generic_case(session, case_id, principal)
    found = attachments.get_attachment(session, case, attachment_id)
    return Response(found.data, media_type=found.content_type)
