"""Decision risk assessments on the case engine: pool, panel, records, rating, decision.

The risk gate itself is in the workflow (``cases.workflows.assessment``):
``conclude`` only picks the transition the rules allow, and the engine
refuses any other, whoever asks.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.cases import actions
from pingan.cases.categories import CategorySpec, add_missing_categories, get_category
from pingan.cases.models import Case
from pingan.cases.schemas import CaseIn
from pingan.cases.service import add_event, create_case, get_case_by_number, scope_clause
from pingan.cases.workflows.assessment import DEFAULT_CATEGORIES, WORKFLOW, assessment_of
from pingan.governance.assessments_models import (
    Assessment,
    Consultation,
    Expert,
    ExpertInterest,
    Mitigation,
    MonitoringNote,
    PanelSeat,
    Score,
)
from pingan.governance.assessments_rules import DIMENSIONS, Rating, rate
from pingan.governance.assessments_schemas import (
    AssessmentIn,
    ConsultationIn,
    ExpertIn,
    InterestIn,
    MitigationIn,
    MonitoringIn,
    ScoreSheetIn,
)
from pingan.kit import audit
from pingan.kit.db import utcnow
from pingan.kit.errors import Conflict, NotFound, ValidationFailed
from pingan.org.models import OrgUnit
from pingan.org.permissions import Perm
from pingan.org.principal import Principal


def ensure_categories(session: Session) -> int:
    """Create the assessment categories that are missing (idempotent)."""
    specs = [
        CategorySpec(code, "decision", zh, en, "risk_assessment", level, amount, basis)
        for code, zh, en, level, amount, basis in DEFAULT_CATEGORIES
    ]
    return add_missing_categories(session, WORKFLOW.key, specs)


def register(
    session: Session,
    *,
    assessment_in: AssessmentIn,
    actor: Principal,
    now: dt.datetime | None = None,
) -> tuple[Case, Assessment]:
    """Register a decision or project for assessment; the case sits at its category's level."""
    now = now or utcnow()
    ensure_categories(session)  # a fresh installation has them on first use
    category = get_category(session, assessment_in.category)
    if category.case_type != WORKFLOW.key:
        raise ValidationFailed(
            f"category {category.code!r} is not an assessment category", field="category"
        )
    if (
        assessment_in.proposing_unit_id is not None
        and session.get(OrgUnit, assessment_in.proposing_unit_id) is None
    ):
        raise ValidationFailed(
            f"org unit {assessment_in.proposing_unit_id} not found", field="proposing_unit_id"
        )
    case, _ = create_case(
        session,
        case_in=CaseIn(
            case_type=WORKFLOW.key,
            category=assessment_in.category,
            title=assessment_in.project,
            description=assessment_in.description,
            lon=assessment_in.lon,
            lat=assessment_in.lat,
            address=assessment_in.address,
            idempotency_key=assessment_in.idempotency_key,
        ),
        actor=actor,
        now=now,
    )
    if case.case_type != WORKFLOW.key:
        raise Conflict(
            f"idempotency key already used by case {case.number}", field="idempotency_key"
        )
    existing = session.scalar(select(Assessment).where(Assessment.case_id == case.id))
    if existing is not None:
        return case, existing
    from pingan.cases import routing

    grid = session.get(OrgUnit, case.grid_id)
    assert grid is not None
    # The secretariat at the category's level runs the assessment.
    secretariat = routing.unit_at_level(session, grid, category.handling_level)
    actor.require(Perm.CASES_MANAGE, secretariat.path)
    if secretariat.id != case.unit_id:
        add_event(
            session, case, kind="transfer", actor=actor.actor, at=now,
            detail={"unit": {"from": case.unit_id, "to": secretariat.id},
                    "reason": f"assessed at the {category.handling_level} level"},
        )  # fmt: skip
        case.unit_id, case.unit_path = secretariat.id, secretariat.path
    case.department = category.department
    assessment = Assessment(
        case_id=case.id,
        project=assessment_in.project,
        proposing_org=assessment_in.proposing_org,
        proposing_unit_id=assessment_in.proposing_unit_id,
        round=1,
    )
    session.add(assessment)
    session.flush()
    return case, assessment


def get(session: Session, number: str, *, actor: Principal) -> tuple[Case, Assessment]:
    case = get_case_by_number(session, number, actor=actor)
    if case.case_type != WORKFLOW.key:
        raise ValidationFailed(f"case {number} is not a risk assessment", field="number")
    return case, assessment_of(session, case)


def list_assessments(
    session: Session, *, actor: Principal, state: str | None = None, limit: int = 200
) -> list[tuple[Case, Assessment]]:
    """Assessments in the reader's scope, newest first."""
    stmt = (
        select(Case, Assessment)
        .join(Assessment, Assessment.case_id == Case.id)
        .where(scope_clause(actor))
        .order_by(Case.id.desc())
        .limit(limit)
    )
    if state is not None:
        stmt = stmt.where(Case.state == state)
    return [(c, a) for c, a in session.execute(stmt)]


def _managed(
    session: Session, number: str, actor: Principal, *states: str
) -> tuple[Case, Assessment]:
    case, assessment = get(session, number, actor=actor)
    actor.require(Perm.CASES_MANAGE, case.unit_path)
    if states and case.state not in states:
        raise Conflict(
            f"assessment {number} is {case.state!r}; this needs {' or '.join(states)}",
            field="state",
            state=case.state,
        )
    return case, assessment


# --- the expert pool -----------------------------------------------------------


def add_expert(session: Session, *, expert_in: ExpertIn, actor: Principal) -> Expert:
    actor.require(Perm.CASES_MANAGE)
    if (
        expert_in.affiliation_unit_id is not None
        and session.get(OrgUnit, expert_in.affiliation_unit_id) is None
    ):
        raise ValidationFailed(
            f"org unit {expert_in.affiliation_unit_id} not found", field="affiliation_unit_id"
        )
    expert = Expert(**expert_in.model_dump(), active=True)
    session.add(expert)
    session.flush()
    audit.record(
        session, actor=actor.actor, action="assessments.expert.add", object_type="expert",
        object_id=expert.id, detail={"field": expert.field},
    )  # fmt: skip
    return expert


def list_experts(session: Session, *, actor: Principal) -> list[Expert]:
    actor.require(Perm.CASES_READ)
    return list(session.scalars(select(Expert).order_by(Expert.id)))


def get_expert(session: Session, expert_id: int) -> Expert:
    expert = session.get(Expert, expert_id)
    if expert is None:
        raise NotFound(f"expert {expert_id} not found")
    return expert


def declare_interest(
    session: Session, *, expert_id: int, interest_in: InterestIn, actor: Principal
) -> ExpertInterest:
    actor.require(Perm.CASES_MANAGE)
    expert = get_expert(session, expert_id)
    assessment_id = None
    if interest_in.assessment:
        assessment_id = get(session, interest_in.assessment, actor=actor)[1].id
    row = ExpertInterest(
        expert_id=expert.id,
        assessment_id=assessment_id,
        organisation=interest_in.organisation.strip(),
        note=interest_in.note,
    )
    session.add(row)
    session.flush()
    audit.record(
        session, actor=actor.actor, action="assessments.expert.interest", object_type="expert",
        object_id=expert.id, detail={"assessment": interest_in.assessment},
    )  # fmt: skip
    return row


def _same_org(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def conflicts(session: Session, assessment: Assessment, expert: Expert) -> list[str]:
    """Why this expert may not sit on this panel (empty if they may)."""
    found: list[str] = []
    if not expert.active:
        found.append("is no longer in the pool")
    if _same_org(expert.affiliation, assessment.proposing_org) or (
        expert.affiliation_unit_id is not None
        and expert.affiliation_unit_id == assessment.proposing_unit_id
    ):
        found.append("works for the proposing unit")
    interests = session.scalars(select(ExpertInterest).where(ExpertInterest.expert_id == expert.id))
    for interest in interests:
        if interest.assessment_id == assessment.id:
            found.append(f"declared an interest in this decision ({interest.note or 'no note'})")
        elif interest.organisation and _same_org(interest.organisation, assessment.proposing_org):
            found.append(f"declared an interest in {interest.organisation}")
    return found


def assign_panel(
    session: Session,
    *,
    number: str,
    expert_ids: list[int],
    actor: Principal,
    now: dt.datetime | None = None,
) -> list[PanelSeat]:
    """Seat experts; refused as a whole (nothing seated) if any of them has a conflict."""
    now = now or utcnow()
    case, assessment = _managed(session, number, actor, "registered", "postponed")
    seated = set(
        session.scalars(select(PanelSeat.expert_id).where(PanelSeat.assessment_id == assessment.id))
    )
    refusals: dict[str, list[str]] = {}
    experts: list[Expert] = []
    for expert_id in dict.fromkeys(expert_ids):
        expert = session.get(Expert, expert_id)
        if expert is None:
            raise ValidationFailed(f"expert {expert_id} not found", field="expert_ids")
        if expert.id in seated:
            refusals[f"{expert.id}"] = ["already sits on this panel"]
        elif reasons := conflicts(session, assessment, expert):
            refusals[f"{expert.id}"] = reasons
        experts.append(expert)
    if refusals:
        text = "; ".join(f"expert {k} {', '.join(v)}" for k, v in refusals.items())
        raise Conflict(f"conflict of interest: {text}", field="expert_ids", refusals=refusals)
    seats = [
        PanelSeat(assessment_id=assessment.id, expert_id=e.id, assigned_by=actor.actor,
                  assigned_at=now)
        for e in experts
    ]  # fmt: skip
    session.add_all(seats)
    add_event(
        session, case, kind="panel", actor=actor.actor, at=now,
        detail={"seated": [e.id for e in experts]},
    )  # fmt: skip
    session.flush()
    return seats


def panel(session: Session, assessment: Assessment) -> list[Expert]:
    return list(
        session.scalars(
            select(Expert)
            .join(PanelSeat, PanelSeat.expert_id == Expert.id)
            .where(PanelSeat.assessment_id == assessment.id)
            .order_by(PanelSeat.id)
        )
    )


def panels(session: Session, assessment_ids: list[int]) -> dict[int, list[Expert]]:
    """``panel`` of many assessments in one query."""
    found: dict[int, list[Expert]] = {i: [] for i in assessment_ids}
    if assessment_ids:
        stmt = (
            select(PanelSeat.assessment_id, Expert)
            .join(PanelSeat, PanelSeat.expert_id == Expert.id)
            .where(PanelSeat.assessment_id.in_(assessment_ids))
            .order_by(PanelSeat.id)
        )
        for assessment_id, expert in session.execute(stmt):
            found[assessment_id].append(expert)
    return found


# --- records ---------------------------------------------------------------------


def add_consultation(
    session: Session,
    *,
    number: str,
    consultation_in: ConsultationIn,
    actor: Principal,
    now: dt.datetime | None = None,
) -> Consultation:
    """A survey or hearing held for this decision, as counts."""
    case, assessment = _managed(session, number, actor, "registered", "assessing", "postponed")
    row = Consultation(
        assessment_id=assessment.id, recorded_by=actor.actor, **consultation_in.model_dump()
    )
    session.add(row)
    add_event(
        session, case, kind="consultation", actor=actor.actor, at=now or utcnow(),
        detail={"kind": row.kind, "held_on": row.held_on, "participants": row.participants},
    )  # fmt: skip
    session.flush()
    return row


def record_scores(
    session: Session,
    *,
    number: str,
    sheet: ScoreSheetIn,
    actor: Principal,
    now: dt.datetime | None = None,
) -> list[Score]:
    """An expert's four scores with comments for the current round (a resubmission replaces)."""
    case, assessment = _managed(session, number, actor, "assessing")
    on_panel = session.scalar(
        select(PanelSeat.id).where(
            PanelSeat.assessment_id == assessment.id, PanelSeat.expert_id == sheet.expert_id
        )
    )
    if on_panel is None:
        raise ValidationFailed(
            f"expert {sheet.expert_id} does not sit on this panel", field="expert_id"
        )
    rows = []
    for dimension in DIMENSIONS:
        given = getattr(sheet, dimension)
        row = session.scalar(
            select(Score).where(
                Score.assessment_id == assessment.id,
                Score.round == assessment.round,
                Score.expert_id == sheet.expert_id,
                Score.dimension == dimension,
            )
        )
        if row is None:
            row = Score(
                assessment_id=assessment.id, round=assessment.round,
                expert_id=sheet.expert_id, dimension=dimension,
            )  # fmt: skip
            session.add(row)
        row.score, row.comment = given.score, given.comment
        rows.append(row)
    add_event(
        session, case, kind="scores", actor=actor.actor, at=now or utcnow(),
        detail={"expert_id": sheet.expert_id, "round": assessment.round,
                "scores": {d: getattr(sheet, d).score for d in DIMENSIONS}},
    )  # fmt: skip
    session.flush()
    return rows


def current_rating(session: Session, *, number: str, actor: Principal) -> Rating:
    """What the rules say of the current round (409 while scores are missing)."""
    _case, assessment = get(session, number, actor=actor)
    return rate(session, assessment)


def conclude(
    session: Session, *, number: str, actor: Principal, now: dt.datetime | None = None
) -> tuple[Case, Assessment]:
    """Rate the round by the rules and take the gate's transition for that level."""
    case, assessment = _managed(session, number, actor, "assessing")
    rating = rate(session, assessment)
    actions.transition(
        session, case=case, name=f"rate_{rating.level}", fields={}, actor=actor, now=now
    )
    return case, assessment


def add_mitigation(
    session: Session,
    *,
    number: str,
    mitigation_in: MitigationIn,
    actor: Principal,
    now: dt.datetime | None = None,
) -> Mitigation:
    """A mitigation against this round's findings (needed before a reassessment)."""
    now = now or utcnow()
    case, assessment = _managed(session, number, actor, "postponed", "cleared", "implementing")
    row = Mitigation(
        assessment_id=assessment.id, round=assessment.round, recorded_by=actor.actor,
        recorded_at=now, **mitigation_in.model_dump(),
    )  # fmt: skip
    session.add(row)
    add_event(
        session, case, kind="mitigation", actor=actor.actor, at=now,
        detail={"round": assessment.round, "measure": row.measure, "owner": row.owner},
    )  # fmt: skip
    session.flush()
    return row


def add_monitoring(
    session: Session,
    *,
    number: str,
    monitoring_in: MonitoringIn,
    actor: Principal,
    now: dt.datetime | None = None,
) -> MonitoringNote:
    now = now or utcnow()
    case, assessment = _managed(session, number, actor, "implementing")
    row = MonitoringNote(
        assessment_id=assessment.id, at=now, recorded_by=actor.actor,
        **monitoring_in.model_dump(),
    )  # fmt: skip
    session.add(row)
    add_event(
        session, case, kind="monitoring", actor=actor.actor, at=now,
        detail={"status": row.status, "note": row.note},
    )  # fmt: skip
    session.flush()
    return row


def step(
    session: Session,
    *,
    number: str,
    transition: str,
    fields: dict[str, Any],
    actor: Principal,
    now: dt.datetime | None = None,
) -> tuple[Case, Assessment]:
    case, assessment = get(session, number, actor=actor)
    actions.transition(session, case=case, name=transition, fields=fields, actor=actor, now=now)
    return case, assessment


Records = tuple[list[Consultation], list[Score], list[Mitigation], list[MonitoringNote]]


def records(session: Session, assessment: Assessment) -> Records:
    return records_of_many(session, [assessment.id])[assessment.id]


def records_of_many(session: Session, assessment_ids: list[int]) -> dict[int, Records]:
    """Consultations, scores, mitigations and monitoring of many assessments: 4 queries."""

    def rows(model: Any) -> dict[int, list[Any]]:
        by_assessment: dict[int, list[Any]] = {i: [] for i in assessment_ids}
        if assessment_ids:
            stmt = select(model).where(model.assessment_id.in_(assessment_ids))
            for row in session.scalars(stmt.order_by(model.id)):
                by_assessment[row.assessment_id].append(row)
        return by_assessment

    consultations, scores = rows(Consultation), rows(Score)
    mitigations, monitoring = rows(Mitigation), rows(MonitoringNote)
    return {i: (consultations[i], scores[i], mitigations[i], monitoring[i]) for i in assessment_ids}
