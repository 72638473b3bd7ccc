"""HTTP routes of dispute mediation (/api/v1/mediation)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from pingan.api.deps import CurrentPrincipal, DbSession
from pingan.cases.categories import list_categories
from pingan.cases.models import Case
from pingan.cases.views import to_out
from pingan.governance import mediation_service as service
from pingan.governance.mediation_models import Dispute
from pingan.governance.mediation_schemas import (
    ChannelMoveOut,
    DisputeIn,
    DisputeOut,
    FollowUpIn,
    LedgerRow,
    MediationStats,
    PartyOut,
    StepIn,
)
from pingan.governance.mediation_stats import ledger, mediation_stats
from pingan.org.levels import Level
from pingan.org.principal import Principal

router = APIRouter(prefix="/api/v1/mediation", tags=["mediation"])


def dispute_out(session: Session, case: Case, dispute: Dispute, actor: Principal) -> DisputeOut:
    return DisputeOut(
        case=to_out(session, case),
        level=dispute.level,
        source=dispute.source,
        scale=dispute.scale,
        people_involved=dispute.people_involved,
        risk_level=dispute.risk_level,
        channel=dispute.channel,
        mediator_body=dispute.mediator_body,
        outcome=dispute.outcome,
        outcome_at=dispute.outcome_at,
        terms=dispute.terms,
        follow_up_on=dispute.follow_up_on,
        referred_to=dispute.referred_to,
        follow_up_result=dispute.follow_up_result,
        parties=[
            PartyOut(role=p.role, kind=p.kind, name=p.name, phone=p.phone)
            for p in service.parties(session, dispute, case=case, actor=actor)
        ],
        channels=[
            ChannelMoveOut(
                at=m.at,
                from_channel=m.from_channel,
                to_channel=m.to_channel,
                body=m.body,
                reason=m.reason,
            )
            for m in service.channel_history(session, dispute)
        ],
    )


@router.get("/categories")
def categories(principal: CurrentPrincipal, session: DbSession) -> list[dict[str, object]]:
    """Dispute categories with their default responsible level and mediation period."""
    return [
        {
            "code": c.code,
            "name_zh": c.name_zh,
            "name_en": c.name_en,
            "level": c.handling_level,
            "deadline": {"amount": c.deadline_amount, "basis": c.deadline_basis},
        }
        for c in list_categories(session, "mediation")
    ]


@router.post("/disputes", response_model=DisputeOut, status_code=201)
def register(body: DisputeIn, principal: CurrentPrincipal, session: DbSession) -> DisputeOut:
    """Register a dispute found by screening or brought by the people."""
    case, dispute = service.register(session, dispute_in=body, actor=principal)
    return dispute_out(session, case, dispute, principal)


@router.get("/disputes/{number}", response_model=DisputeOut)
def show(number: str, principal: CurrentPrincipal, session: DbSession) -> DisputeOut:
    case, dispute = service.get(session, number, actor=principal)
    return dispute_out(session, case, dispute, principal)


@router.post("/disputes/{number}/transitions", response_model=DisputeOut)
def take(number: str, body: StepIn, principal: CurrentPrincipal, session: DbSession) -> DisputeOut:
    """accept (channel), refer (channel, reason), agree (terms, follow_up_on),
    partial (terms, unresolved), fail (referred_to, reason), withdraw (reason)."""
    case, dispute = service.step(
        session, number=number, transition=body.transition, fields=body.fields, actor=principal
    )
    return dispute_out(session, case, dispute, principal)


@router.post("/disputes/{number}/follow-up", response_model=DisputeOut)
def follow_up(
    number: str, body: FollowUpIn, principal: CurrentPrincipal, session: DbSession
) -> DisputeOut:
    """Record whether the agreement was kept."""
    service.follow_up(session, number=number, result=body.result, note=body.note, actor=principal)
    case, dispute = service.get(session, number, actor=principal)
    return dispute_out(session, case, dispute, principal)


@router.get("/ledger", response_model=list[LedgerRow])
def get_ledger(
    principal: CurrentPrincipal,
    session: DbSession,
    level: Level | None = Query(None, description="Responsible level"),
    unit_id: int | None = Query(None, description="Only disputes held under this unit"),
) -> list[LedgerRow]:
    """Open disputes with the responsible person and deadline."""
    return ledger(session, actor=principal, level=level, unit_id=unit_id)


@router.get("/statistics", response_model=MediationStats)
def get_statistics(
    principal: CurrentPrincipal,
    session: DbSession,
    start: dt.date,
    end: dt.date,
    area_level: Level = Level.DISTRICT,
    unit_id: int | None = None,
) -> MediationStats:
    """Mediated, success rate, time to resolution by category and area, monthly trend."""
    return mediation_stats(
        session, actor=principal, start=start, end=end, area_level=area_level, unit_id=unit_id
    )
