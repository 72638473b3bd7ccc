"""HTTP routes of complaints and petitions (/api/v1/petitions, /api/v1/public/petitions)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Query, Response, UploadFile
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from pingan.api.deps import CurrentPrincipal, DbSession
from pingan.api.uploads import read_capped
from pingan.cases.attachments import MAX_BYTES
from pingan.cases.calendar import load_calendar
from pingan.cases.categories import list_categories
from pingan.cases.models import Case, CaseCategory
from pingan.cases.service import category_codes
from pingan.cases.workflows.petition import WORKFLOW
from pingan.governance import letters, petitions, petitions_public, petitions_stats
from pingan.governance.petitions_dedupe import Match
from pingan.governance.petitions_models import Petition, PetitionMaterial
from pingan.governance.petitions_schemas import (
    ClockOut,
    LeaderIn,
    LetterOut,
    LookupIn,
    MatchOut,
    MaterialOut,
    ParticipantIn,
    PetitionIn,
    PetitionOut,
    PetitionSummary,
    PublicStatus,
    RatingIn,
    RegisteredOut,
    RepresentativeIn,
    StepIn,
)
from pingan.governance.petitions_steps import take
from pingan.kit.db import utcnow
from pingan.kit.errors import NotFound
from pingan.kit.pagination import Page

router = APIRouter(prefix="/api/v1/petitions", tags=["petitions"])
# A path id beyond 64 bits would overflow the database's integer, not find nothing.
DbId = Annotated[int, Path(ge=1, le=2**62)]
public_router = APIRouter(prefix="/api/v1/public/petitions", tags=["public"])


def _category_code(session: Session, case: Case) -> str:
    category = session.get(CaseCategory, case.category_id)
    return category.code if category is not None else ""


def summary(session: Session, case: Case, petition: Petition) -> PetitionSummary:
    return _summary(case, petition, _category_code(session, case))


def summaries(session: Session, rows: Sequence[tuple[Case, Petition]]) -> list[PetitionSummary]:
    """A page of summaries; the categories of the whole page in one query."""
    codes = category_codes(session, {c.category_id for c, _ in rows})
    return [_summary(c, p, codes.get(c.category_id, "")) for c, p in rows]


def _summary(case: Case, petition: Petition, category: str) -> PetitionSummary:
    return PetitionSummary(
        id=case.id, number=case.number, state=case.state, is_open=case.is_open,
        channel=petition.channel, category=category, unit_id=case.unit_id,
        received_at=petition.received_at, is_group=petition.is_group,
        leader_user_id=petition.leader_user_id, supervision_flag=case.supervision_flag,
    )  # fmt: skip


def detail(
    session: Session, case: Case, petition: Petition, matches: list[Match] | None = None
) -> PetitionOut:
    from pingan.cases.clocks import clocks_of

    now = utcnow()
    zone = load_calendar(session).zone
    same = session.get(Case, petition.same_matter_as_id) if petition.same_matter_as_id else None
    base = summary(session, case, petition).model_dump()
    return PetitionOut(
        **base,
        matter=petition.matter, requests=petition.requests, place=petition.place,
        petitioner_name=petition.petitioner_name, petitioner_phone=petition.petitioner_phone,
        headcount=petition.headcount,
        representatives=[RepresentativeIn(name=r.name, phone=r.phone)
                         for r in petitions.representatives(session, case.id)],
        accused_name=petition.accused_name, joint=petition.joint,
        participants=[ParticipantIn(unit_id=p.unit_id, department=p.department)
                      for p in petitions.participants(session, case.id)],
        same_matter_as=same.number if same is not None else None,
        extension_days=petition.extension_days, extension_reason=petition.extension_reason,
        exhausted=petition.exhausted, rating=petition.rating,
        allowed_transitions=WORKFLOW.allowed_from(case.state),
        clocks=[
            ClockOut(
                name=c.name, basis=c.basis, status=c.status, started_at=c.started_at,
                due_at=c.due_at, stopped_at=c.stopped_at,
                last_day=letters.last_day(c.due_at, zone) if c.due_at else None,
                overdue=c.status == "running" and c.due_at is not None and c.due_at <= now,
            )
            for c in clocks_of(session, case.id)
        ],
        letters=[
            LetterOut(id=x.id, kind=x.kind, subject=x.subject, issued_at=x.issued_at,
                      dates=json.loads(x.dates))
            for x in letters.letters_of(session, case.id)
        ],
        possible_same_matter=[
            MatchOut(number=m.number, score=m.score, text_similarity=m.text,
                     same_person=m.same_person, same_place=m.same_place, exhausted=m.exhausted)
            for m in matches or []
        ],
    )  # fmt: skip


def _material_out(m: PetitionMaterial) -> MaterialOut:
    return MaterialOut(
        id=m.id, filename=m.filename, content_type=m.content_type, size=m.size, sha256=m.sha256,
        accuses=m.accuses, added_at=m.added_at,
    )  # fmt: skip


@router.post("", response_model=RegisteredOut, status_code=201)
def register(body: PetitionIn, principal: CurrentPrincipal, session: DbSession) -> RegisteredOut:
    """Register a matter from any channel; look-alike matters come back with their scores.

    The query code is returned once, for the petitioner; only its hash is kept.
    """
    case, petition, code, matches = petitions.create_petition(
        session, petition_in=body, actor=principal
    )
    out = detail(session, case, petition, matches)
    return RegisteredOut(**out.model_dump(), query_code=code)


@router.post("/import")
def import_petitions(
    principal: CurrentPrincipal,
    session: DbSession,
    file: Annotated[UploadFile, File(description="CSV or JSON lines, see pingan petitions import")],
    format: Annotated[str | None, Form(description="csv | jsonl (default: by file name)")] = None,
) -> dict[str, object]:
    """Register a small batch of petitions; a row report with line numbers comes back.

    Rows are keyed by (channel, external_ref), so a repeated upload adds nothing.
    Larger files go through ``pingan petitions import`` (progress, batches).
    """
    from dataclasses import asdict

    from pingan.governance import petitions_import as bulk

    # A plain function, so the rows' hashing and writes run off the event loop.
    data = read_capped(
        file,
        bulk.MAX_API_BYTES,
        detail=f"at most {bulk.MAX_API_BYTES // 1024} KiB per upload; use the CLI for more",
    )
    report = bulk.import_upload(session, data, file.filename or "", format, actor=principal)
    return {
        "imported": report.imported, "existing": report.existing, "failed": report.failed,
        "rows": [asdict(r) for r in report.rows],
    }  # fmt: skip


@router.get("", response_model=Page[PetitionSummary])
def list_petitions(
    principal: CurrentPrincipal,
    session: DbSession,
    state: str | None = None,
    channel: str | None = None,
    open: bool | None = None,
    overdue: bool = Query(False, description="Only those past a statutory deadline"),
    mine: bool = Query(False, description="Only those I own as the leader"),
    limit: int = Query(100, ge=1, le=1000),
    after_id: int | None = None,
) -> Page[PetitionSummary]:
    found = petitions.list_petitions(
        session, actor=principal, state=state, channel=channel, is_open=open, overdue=overdue,
        led_by_me=mine, limit=limit, after_id=after_id,
    )  # fmt: skip
    items = summaries(session, found)
    return Page(items=items, next_after_id=items[-1].id if len(items) == limit else None)


@router.get("/categories")
def categories(principal: CurrentPrincipal, session: DbSession) -> list[dict[str, str]]:
    petitions.ensure_petition_categories(session)
    return [
        {"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en, "department": c.department}
        for c in list_categories(session, WORKFLOW.key)
    ]


@router.get("/statistics")
def statistics(
    principal: CurrentPrincipal,
    session: DbSession,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> dict[str, object]:
    """Counts by channel, category and state; on-time rate within statutory deadlines by unit."""
    return petitions_stats.statistics(session, actor=principal, since=since, until=until)


@router.get("/{ref}", response_model=PetitionOut)
def get_petition(ref: str, principal: CurrentPrincipal, session: DbSession) -> PetitionOut:
    case, petition = petitions.get_petition(session, ref, actor=principal)
    return detail(session, case, petition)


@router.post("/{ref}/steps", response_model=PetitionOut)
def step(ref: str, body: StepIn, principal: CurrentPrincipal, session: DbSession) -> PetitionOut:
    """forward, decline, object, accept, extend, reply, request_review, review,
    request_rereview, rereview, close, withdraw."""
    case = take(session, case_ref=ref, name=body.transition, fields=body.fields, actor=principal)
    return detail(session, case, petitions.load(session, case.id)[1])


@router.post("/{ref}/leader", response_model=PetitionOut)
def leader(
    ref: str, body: LeaderIn, principal: CurrentPrincipal, session: DbSession
) -> PetitionOut:
    petition = petitions.assign_leader(session, case_ref=ref, user_id=body.user_id, actor=principal)
    return detail(session, petitions.load(session, petition.case_id)[0], petition)


@router.post("/{ref}/participants", response_model=PetitionOut)
def participant(
    ref: str, body: ParticipantIn, principal: CurrentPrincipal, session: DbSession
) -> PetitionOut:
    """Bring a department into the joint reception of the matter."""
    row = petitions.add_participant(
        session, case_ref=ref, unit_id=body.unit_id, department=body.department, actor=principal
    )
    case, petition = petitions.load(session, row.case_id)
    return detail(session, case, petition)


@router.post("/{ref}/materials", response_model=MaterialOut, status_code=201)
def add_material(
    ref: str,
    principal: CurrentPrincipal,
    session: DbSession,
    file: Annotated[UploadFile, File()],
    accuses: Annotated[bool, Form()] = False,
) -> MaterialOut:
    """A JPEG, PNG or PDF (at most 10 MiB); ``accuses`` marks material against someone."""
    data = read_capped(file, MAX_BYTES)
    row = petitions.add_material(
        session, case_ref=ref, filename=file.filename or "file", data=data, accuses=accuses,
        actor=principal,
    )  # fmt: skip
    return _material_out(row)


@router.get("/{ref}/materials", response_model=list[MaterialOut])
def materials(ref: str, principal: CurrentPrincipal, session: DbSession) -> list[MaterialOut]:
    return [
        _material_out(m) for m in petitions.list_materials(session, case_ref=ref, actor=principal)
    ]


@router.get("/{ref}/materials/{material_id}")
def material(
    ref: str, material_id: DbId, principal: CurrentPrincipal, session: DbSession
) -> Response:
    row = petitions.get_material(session, case_ref=ref, material_id=material_id, actor=principal)
    return Response(row.data, media_type=row.content_type)


@router.get("/{ref}/letters/{letter_id}", response_class=HTMLResponse)
def letter(
    ref: str, letter_id: DbId, principal: CurrentPrincipal, session: DbSession
) -> HTMLResponse:
    """A letter as it was sent to the petitioner."""
    case, _petition = petitions.get_petition(session, ref, actor=principal, purpose="read_letter")
    found = next((x for x in letters.letters_of(session, case.id) if x.id == letter_id), None)
    if found is None:
        raise NotFound(f"letter {letter_id} not found")
    return HTMLResponse(found.html)


@public_router.post("/lookup", response_model=PublicStatus)
def lookup(body: LookupIn, session: DbSession) -> PublicStatus:
    """The petitioner follows the matter with its number and query code (no account)."""
    return petitions_public.status(session, number=body.number, code=body.code)


@public_router.post("/rating")
def rate(body: RatingIn, session: DbSession) -> dict[str, object]:
    """The petitioner rates the result, 1 (poor) to 5 (good), once it has a written reply."""
    petitions_public.rate(
        session, number=body.number, code=body.code, rating=body.rating, comment=body.comment
    )
    return {"number": body.number, "rating": body.rating}
