"""Registering disputes and moving them through mediation, on the case engine.

A dispute is a case of type ``mediation`` plus a ``Dispute`` row; every step
is a case transition (``cases.actions.transition``), so the timeline, clocks,
escalation and audit are the engine's. Reading the parties is personal data
and is audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.cases import actions, routing
from pingan.cases.categories import CategorySpec, add_missing_categories, get_category
from pingan.cases.models import Case
from pingan.cases.schemas import CaseIn
from pingan.cases.service import add_event, create_case, get_case_by_number
from pingan.cases.workflows.mediation import DEFAULT_CATEGORIES, WORKFLOW, dispute_of
from pingan.governance.mediation_models import ChannelMove, Dispute, DisputeParty
from pingan.governance.mediation_schemas import DisputeIn
from pingan.kit import audit
from pingan.kit.db import utcnow
from pingan.kit.errors import Conflict, ValidationFailed
from pingan.org.levels import Level
from pingan.org.models import OrgUnit
from pingan.org.permissions import Perm
from pingan.org.principal import Principal


def ensure_categories(session: Session) -> int:
    """Create the mediation categories that are missing (idempotent)."""
    specs = [
        CategorySpec(code, "event", zh, en, "mediation", level, amount, basis)
        for code, zh, en, level, amount, basis in DEFAULT_CATEGORIES
    ]
    return add_missing_categories(session, WORKFLOW.key, specs)


def register(
    session: Session, *, dispute_in: DisputeIn, actor: Principal, now: dt.datetime | None = None
) -> tuple[Case, Dispute]:
    """Register a dispute where it arose; it goes to the unit at its responsible level."""
    now = now or utcnow()
    ensure_categories(session)  # a fresh installation has them on first use
    category = get_category(session, dispute_in.category)
    if category.case_type != WORKFLOW.key:
        raise ValidationFailed(
            f"category {category.code!r} is not a mediation category", field="category"
        )
    case, _ = create_case(
        session,
        case_in=CaseIn(
            case_type=WORKFLOW.key,
            category=dispute_in.category,
            title=dispute_in.title,
            description=dispute_in.description,
            lon=dispute_in.lon,
            lat=dispute_in.lat,
            address=dispute_in.address,
            idempotency_key=dispute_in.idempotency_key,
        ),
        actor=actor,
        source=dispute_in.source,
        now=now,
    )
    if case.case_type != WORKFLOW.key:
        raise Conflict(
            f"idempotency key already used by case {case.number}", field="idempotency_key"
        )
    existing = session.scalar(select(Dispute).where(Dispute.case_id == case.id))
    if existing is not None:  # a repeated idempotency key
        return case, existing
    level = (dispute_in.level or Level(category.handling_level)).value
    dispute = Dispute(
        case_id=case.id,
        level=level,
        source=dispute_in.source,
        scale=dispute_in.scale,
        people_involved=dispute_in.people_involved,
        risk_level=dispute_in.risk_level,
        channel=None,
    )
    session.add(dispute)
    session.flush()
    for party in dispute_in.parties:
        session.add(DisputeParty(dispute_id=dispute.id, **party.model_dump()))
    grid = session.get(OrgUnit, case.grid_id)
    assert grid is not None
    responsible = routing.unit_at_level(session, grid, level)
    if responsible.id != case.unit_id:
        add_event(
            session, case, kind="transfer", actor=actor.actor, at=now,
            detail={"unit": {"from": case.unit_id, "to": responsible.id},
                    "reason": f"responsible level: {level}"},
        )  # fmt: skip
        case.unit_id, case.unit_path = responsible.id, responsible.path
    case.department = "mediation"
    # A high-risk dispute goes to the supervisors' flagged inbox from the start.
    case.supervision_flag = case.supervision_flag or dispute.risk_level == "high"
    if dispute_in.handler_id is not None:
        actions.assign(session, case=case, actor=actor, handler_id=dispute_in.handler_id, now=now)
    session.flush()
    return case, dispute


def get(session: Session, number: str, *, actor: Principal) -> tuple[Case, Dispute]:
    case = get_case_by_number(session, number, actor=actor)
    if case.case_type != WORKFLOW.key:
        raise ValidationFailed(f"case {number} is not a dispute", field="number")
    return case, dispute_of(session, case)


def parties(
    session: Session, dispute: Dispute, *, case: Case, actor: Principal
) -> list[DisputeParty]:
    """The parties (personal data): the read is written to the audit log."""
    found = list(
        session.scalars(
            select(DisputeParty)
            .where(DisputeParty.dispute_id == dispute.id)
            .order_by(DisputeParty.id)
        )
    )
    audit.record(
        session, actor=actor.actor, action="mediation.parties.read", object_type="case",
        object_id=case.number, detail={"parties": len(found)},
    )  # fmt: skip
    return found


def channel_history(session: Session, dispute: Dispute) -> list[ChannelMove]:
    return list(
        session.scalars(
            select(ChannelMove).where(ChannelMove.dispute_id == dispute.id).order_by(ChannelMove.id)
        )
    )


def step(
    session: Session,
    *,
    number: str,
    transition: str,
    fields: dict[str, Any],
    actor: Principal,
    now: dt.datetime | None = None,
) -> tuple[Case, Dispute]:
    """Accept, refer, agree, partial, fail or withdraw: a transition of the dispute's case."""
    case, dispute = get(session, number, actor=actor)
    actions.transition(session, case=case, name=transition, fields=fields, actor=actor, now=now)
    return case, dispute


def follow_up(
    session: Session,
    *,
    number: str,
    result: str,
    note: str,
    actor: Principal,
    now: dt.datetime | None = None,
) -> Dispute:
    """Record whether an agreement was kept, on or after its follow-up date."""
    now = now or utcnow()
    case, dispute = get(session, number, actor=actor)
    actor.require(Perm.CASES_HANDLE, case.unit_path)
    if dispute.outcome not in ("agreed", "partial"):
        raise Conflict(f"dispute {number} has no agreement to follow up", field="number")
    dispute.follow_up_result, dispute.follow_up_note, dispute.followed_up_at = result, note, now
    add_event(
        session, case, kind="follow_up", actor=actor.actor, at=now,
        detail={"result": result, "note": note},
    )  # fmt: skip
    return dispute
