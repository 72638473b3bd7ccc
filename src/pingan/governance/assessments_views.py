"""HTTP routes of decision risk assessments (/api/v1/assessments)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from pingan.api.deps import CurrentPrincipal, DbSession
from pingan.cases.categories import list_categories
from pingan.cases.models import Case
from pingan.cases.schemas import CaseOut
from pingan.cases.views import to_outs
from pingan.governance import assessments_service as service
from pingan.governance.assessments_models import Assessment, Expert
from pingan.governance.assessments_report import report_html, report_pdf
from pingan.governance.assessments_schemas import (
    AssessmentIn,
    AssessmentOut,
    ConsultationIn,
    ConsultationOut,
    ExpertIn,
    ExpertOut,
    InterestIn,
    MitigationIn,
    MitigationOut,
    MonitoringIn,
    MonitoringOut,
    PanelIn,
    RatingOut,
    ScoreOut,
    ScoreSheetIn,
    StepIn,
)

router = APIRouter(prefix="/api/v1/assessments", tags=["assessments"])


def _expert_out(e: Expert) -> ExpertOut:
    return ExpertOut(
        id=e.id,
        name=e.name,
        field=e.field,
        affiliation=e.affiliation,
        affiliation_unit_id=e.affiliation_unit_id,
        active=e.active,
    )


def assessment_out(session: Session, case: Case, a: Assessment) -> AssessmentOut:
    return assessment_outs(session, [(case, a)])[0]


def assessment_outs(
    session: Session, rows: Sequence[tuple[Case, Assessment]]
) -> list[AssessmentOut]:
    """Assessments as the API shows them; each kind of record for the whole list in one query."""
    ids = [a.id for _, a in rows]
    cases = to_outs(session, [c for c, _ in rows])
    panels = service.panels(session, ids)
    records = service.records_of_many(session, ids)
    return [
        _assessment_out(a, case_out, panels[a.id], records[a.id])
        for (_, a), case_out in zip(rows, cases, strict=True)
    ]


def _assessment_out(
    a: Assessment, case_out: CaseOut, panel: list[Expert], records: service.Records
) -> AssessmentOut:
    consultations, scores, mitigations, monitoring = records
    return AssessmentOut(
        case=case_out,
        project=a.project,
        proposing_org=a.proposing_org,
        proposing_unit_id=a.proposing_unit_id,
        round=a.round,
        risk_level=a.risk_level,
        risk_reasons=json.loads(a.risk_reasons),
        decision=a.decision,
        decision_body=a.decision_body,
        decision_ref=a.decision_ref,
        decided_at=a.decided_at,
        panel=[_expert_out(e) for e in panel],
        consultations=[
            ConsultationOut(
                id=c.id,
                kind=c.kind,
                held_on=c.held_on,
                participants=c.participants,
                support=c.support,
                oppose=c.oppose,
                neutral=c.neutral,
                summary=c.summary,
            )
            for c in consultations
        ],
        scores=[
            ScoreOut(
                round=s.round,
                expert_id=s.expert_id,
                dimension=s.dimension,
                score=s.score,
                comment=s.comment,
            )
            for s in scores
        ],
        mitigations=[
            MitigationOut(round=m.round, measure=m.measure, owner=m.owner, due_on=m.due_on)
            for m in mitigations
        ],
        monitoring=[MonitoringOut(at=m.at, status=m.status, note=m.note) for m in monitoring],
    )


def _show(session: Session, number: str, principal: CurrentPrincipal) -> AssessmentOut:
    case, a = service.get(session, number, actor=principal)
    return assessment_out(session, case, a)


@router.get("/categories")
def categories(principal: CurrentPrincipal, session: DbSession) -> list[dict[str, object]]:
    return [
        {"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en, "level": c.handling_level,
         "deadline": {"amount": c.deadline_amount, "basis": c.deadline_basis}}
        for c in list_categories(session, "assessment")
    ]  # fmt: skip


@router.get("/experts", response_model=list[ExpertOut])
def experts(principal: CurrentPrincipal, session: DbSession) -> list[ExpertOut]:
    """The expert pool."""
    return [_expert_out(e) for e in service.list_experts(session, actor=principal)]


@router.post("/experts", response_model=ExpertOut, status_code=201)
def add_expert(body: ExpertIn, principal: CurrentPrincipal, session: DbSession) -> ExpertOut:
    return _expert_out(service.add_expert(session, expert_in=body, actor=principal))


@router.post("/experts/{expert_id}/interests", status_code=201)
def declare_interest(
    expert_id: int, body: InterestIn, principal: CurrentPrincipal, session: DbSession
) -> dict[str, object]:
    """Declare an expert's interest (in one assessment or an organisation)."""
    row = service.declare_interest(session, expert_id=expert_id, interest_in=body, actor=principal)
    return {"id": row.id, "expert_id": row.expert_id, "organisation": row.organisation}


@router.post("", response_model=AssessmentOut, status_code=201)
def register(body: AssessmentIn, principal: CurrentPrincipal, session: DbSession) -> AssessmentOut:
    """Register a major decision or project for assessment."""
    case, a = service.register(session, assessment_in=body, actor=principal)
    return assessment_out(session, case, a)


@router.get("", response_model=list[AssessmentOut])
def list_assessments(
    principal: CurrentPrincipal, session: DbSession, state: str | None = None
) -> list[AssessmentOut]:
    """Assessments in your scope, newest first (the 200 latest)."""
    found = service.list_assessments(session, actor=principal, state=state)
    return assessment_outs(session, found)


@router.get("/{number}", response_model=AssessmentOut)
def show(number: str, principal: CurrentPrincipal, session: DbSession) -> AssessmentOut:
    return _show(session, number, principal)


@router.post("/{number}/panel", response_model=AssessmentOut)
def seat_panel(
    number: str, body: PanelIn, principal: CurrentPrincipal, session: DbSession
) -> AssessmentOut:
    """Seat experts; 409 with the reasons if any has a conflict of interest."""
    service.assign_panel(session, number=number, expert_ids=body.expert_ids, actor=principal)
    return _show(session, number, principal)


@router.post("/{number}/consultations", response_model=AssessmentOut, status_code=201)
def add_consultation(
    number: str, body: ConsultationIn, principal: CurrentPrincipal, session: DbSession
) -> AssessmentOut:
    service.add_consultation(session, number=number, consultation_in=body, actor=principal)
    return _show(session, number, principal)


@router.post("/{number}/scores", response_model=AssessmentOut)
def record_scores(
    number: str, body: ScoreSheetIn, principal: CurrentPrincipal, session: DbSession
) -> AssessmentOut:
    """One expert's scores and comments on the four dimensions, current round."""
    service.record_scores(session, number=number, sheet=body, actor=principal)
    return _show(session, number, principal)


@router.get("/{number}/rating", response_model=RatingOut)
def rating(number: str, principal: CurrentPrincipal, session: DbSession) -> RatingOut:
    """What the stated rules make of the current round (409 while incomplete)."""
    r = service.current_rating(session, number=number, actor=principal)
    return RatingOut(level=r.level, means=r.means, opposition=r.opposition, reasons=r.reasons)


@router.post("/{number}/conclude", response_model=AssessmentOut)
def conclude(number: str, principal: CurrentPrincipal, session: DbSession) -> AssessmentOut:
    """Rate the round and pass the gate: high -> rejected, medium -> postponed, low -> cleared."""
    case, a = service.conclude(session, number=number, actor=principal)
    return assessment_out(session, case, a)


@router.post("/{number}/mitigations", response_model=AssessmentOut, status_code=201)
def add_mitigation(
    number: str, body: MitigationIn, principal: CurrentPrincipal, session: DbSession
) -> AssessmentOut:
    service.add_mitigation(session, number=number, mitigation_in=body, actor=principal)
    return _show(session, number, principal)


@router.post("/{number}/monitoring", response_model=AssessmentOut, status_code=201)
def add_monitoring(
    number: str, body: MonitoringIn, principal: CurrentPrincipal, session: DbSession
) -> AssessmentOut:
    service.add_monitoring(session, number=number, monitoring_in=body, actor=principal)
    return _show(session, number, principal)


@router.post("/{number}/transitions", response_model=AssessmentOut)
def take(
    number: str, body: StepIn, principal: CurrentPrincipal, session: DbSession
) -> AssessmentOut:
    """start, reassess, implement (decision_body, decision_ref), decline (decision_body,
    reason), complete (result), withdraw (reason)."""
    case, a = service.step(
        session, number=number, transition=body.transition, fields=body.fields, actor=principal
    )
    return assessment_out(session, case, a)


@router.get("/{number}/report.html", response_class=HTMLResponse)
def report_as_html(number: str, principal: CurrentPrincipal, session: DbSession) -> HTMLResponse:
    return HTMLResponse(report_html(session, number=number, actor=principal))


@router.get("/{number}/report.pdf")
def report_as_pdf(number: str, principal: CurrentPrincipal, session: DbSession) -> Response:
    pdf = report_pdf(session, number=number, actor=principal)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{number}.pdf"'},
    )
