"""Dispatching responders to incidents, their status, and escalation on silence.

Each assignment fills one slot of the incident's response plan and must be
acknowledged by its deadline. ``run_dispatch_escalations`` times out the
silent ones and sends the next candidate of the same tier, then of the next
tier, and finally notes the slot for the supervisor. Every claim is a
conditional UPDATE (status or availability must still be what was read), so
two runs, or a run racing an acknowledgement, apply each step exactly once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from pingan.dispatch import timeline
from pingan.dispatch.assignment_models import (
    ACTIVE_STATUSES,
    Assignment,
    AssignmentStatus,
    TimelineEntry,
)
from pingan.dispatch.plans import Plan, Slot, ack_seconds, plan_for
from pingan.dispatch.recommend import Filters, recommend
from pingan.dispatch.responder_models import Availability, Responder
from pingan.dispatch.responders import get_responder, unit_path
from pingan.incidents import service as incidents_service
from pingan.incidents.models import Incident, IncidentType
from pingan.incidents.models import Status as IncidentStatus
from pingan.incidents.schemas import IncidentPatch
from pingan.kit.db import session_scope, utcnow
from pingan.kit.errors import Conflict, NotFound, ValidationFailed
from pingan.org.permissions import Perm
from pingan.org.principal import Principal

S = AssignmentStatus
# Allowed moves; skipping ahead (e.g. dispatched -> en_route) stamps the skipped steps too.
NEXT: dict[str, set[str]] = {
    S.DISPATCHED: {S.ACKNOWLEDGED, S.EN_ROUTE, S.ON_SCENE, S.CANCELLED},
    S.ACKNOWLEDGED: {S.EN_ROUTE, S.ON_SCENE, S.CANCELLED},
    S.EN_ROUTE: {S.ON_SCENE, S.CANCELLED},
    S.ON_SCENE: {S.CLEARED},
}
STAMPS = [
    (S.ACKNOWLEDGED, "acknowledged_at"),
    (S.EN_ROUTE, "en_route_at"),
    (S.ON_SCENE, "on_scene_at"),
    (S.CLEARED, "cleared_at"),
]
ESCALATION_ACTOR = Principal.system("dispatch-escalation")


def incident_for_dispatch(
    session: Session, incident_id: int, actor: Principal, perm: str
) -> tuple[Incident, str]:
    incident = incidents_service.get(session, incident_id=incident_id, actor=actor)
    path = unit_path(session, incident.grid_id)
    # Without dispatch rights here the incident's dispatch side reads as missing.
    if not actor.can(Perm.DISPATCH_READ, path):
        raise NotFound(f"incident {incident_id} not found")
    actor.require(perm, path)
    return incident, path


def dispatch_incident(
    session: Session,
    *,
    incident_id: int,
    actor: Principal,
    now: dt.datetime | None = None,
    responder_ids: list[int] | None = None,
) -> list[Assignment]:
    """Send responders: the named ones, or else those the incident's plan asks for."""
    now = now or utcnow()
    incident, _ = incident_for_dispatch(session, incident_id, actor, Perm.DISPATCH_WRITE)
    tried = _tried(session, incident_id)
    if responder_ids is not None:
        return [_send_named(session, incident, rid, actor, now, tried) for rid in responder_ids]
    if _has_active(session, incident_id):
        raise Conflict(
            "the incident already has responders on it: name responders to send more",
            field="responder_ids",
        )
    type_code = session.scalar(select(IncidentType.code).where(IncidentType.id == incident.type_id))
    plan = plan_for(type_code or "", incident.severity)
    timeline.note(
        session, incident_id=incident.id, kind="plan", actor=actor.actor, at=now,
        detail={"plan": plan.name, "slots": [s.__dict__ for s in plan.slots]},
    )  # fmt: skip
    return _fill_plan(session, incident, plan, actor, now, tried)


def _fill_plan(
    session: Session,
    incident: Incident,
    plan: Plan,
    actor: Principal,
    now: dt.datetime,
    tried: set[int],
) -> list[Assignment]:
    made = []
    for index, slot in enumerate(plan.slots):
        for _ in range(slot.count):
            found = fill_slot(session, incident, index, slot, slot.tier, actor, now, tried)
            if found is not None:
                made.append(found)
    return made


def fill_slot(
    session: Session,
    incident: Incident,
    index: int,
    slot: Slot,
    start_tier: int,
    actor: Principal,
    now: dt.datetime,
    tried: set[int],
) -> Assignment | None:
    """The best untried candidate from ``start_tier`` down to tier 3; else the supervisor."""
    for tier in range(start_tier, 4):
        filters = Filters(tier=tier, skill=slot.skill, within_m=slot.within_m)
        while True:
            found = recommend(
                session, lon=incident.lon, lat=incident.lat, actor=actor, k=1,
                filters=filters, exclude=tried, now=now,
            )  # fmt: skip
            if not found:
                break
            best = found[0]
            tried.add(best.responder_id)
            if not _claim(session, best.responder_id):
                continue  # taken by someone else since we read it
            assignment = Assignment(
                incident_id=incident.id, responder_id=best.responder_id, slot=index,
                want_tier=slot.tier, want_skill=slot.skill, within_m=slot.within_m,
                ack_seconds=ack_seconds(best.tier), tier=best.tier, eta_s=best.eta_s,
                route=best.route, dispatched_at=now,
                ack_deadline=now + dt.timedelta(seconds=ack_seconds(best.tier)),
                created_by=actor.actor,
            )  # fmt: skip
            session.add(assignment)
            session.flush()
            _advance_incident(session, incident.id, IncidentStatus.DISPATCHED)
            timeline.note(
                session, incident_id=incident.id, kind="dispatched", actor=actor.actor, at=now,
                assignment_id=assignment.id,
                detail={"responder_id": best.responder_id, "tier": best.tier, "slot": index,
                        "eta_s": best.eta_s, "fallback_from_tier": slot.tier
                        if tier != slot.tier else None},
            )  # fmt: skip
            return assignment
    timeline.note(
        session, incident_id=incident.id, kind="supervisor", actor=actor.actor, at=now,
        detail={"slot": index, "tier": slot.tier, "skill": slot.skill,
                "reason": f"no available responder in tiers {start_tier}-3"},
    )  # fmt: skip
    return None


def _send_named(
    session: Session,
    incident: Incident,
    responder_id: int,
    actor: Principal,
    now: dt.datetime,
    tried: set[int],
) -> Assignment:
    responder = get_responder(session, responder_id, actor=actor, perm=Perm.DISPATCH_WRITE)
    if responder_id in tried:
        raise Conflict(f"responder {responder_id} was already sent to this incident")
    if not _claim(session, responder_id):
        raise Conflict(f"responder {responder_id} is not available", field="responder_ids")
    tried.add(responder_id)
    ack = ack_seconds(responder.tier)
    assignment = Assignment(
        incident_id=incident.id, responder_id=responder_id, slot=-1,
        want_tier=responder.tier, ack_seconds=ack, tier=responder.tier, dispatched_at=now,
        ack_deadline=now + dt.timedelta(seconds=ack), created_by=actor.actor,
    )  # fmt: skip
    session.add(assignment)
    session.flush()
    _advance_incident(session, incident.id, IncidentStatus.DISPATCHED)
    timeline.note(
        session, incident_id=incident.id, kind="dispatched", actor=actor.actor, at=now,
        assignment_id=assignment.id,
        detail={"responder_id": responder_id, "tier": responder.tier, "named": True},
    )  # fmt: skip
    return assignment


def _tried(session: Session, incident_id: int) -> set[int]:
    rows = session.scalars(
        select(Assignment.responder_id).where(Assignment.incident_id == incident_id)
    )
    return {int(r) for r in rows}


# The incident's own status follows dispatch forwards only, never back.
_INCIDENT_ORDER = [IncidentStatus.REPORTED, IncidentStatus.DISPATCHED, IncidentStatus.ON_SCENE]
INCIDENT_SYNC_ACTOR = Principal.system("dispatch")


def _advance_incident(session: Session, incident_id: int, to: IncidentStatus) -> None:
    current = session.scalar(select(Incident.status).where(Incident.id == incident_id))
    if current not in _INCIDENT_ORDER or _INCIDENT_ORDER.index(IncidentStatus(current)) >= (
        _INCIDENT_ORDER.index(to)
    ):
        return
    incidents_service.update(
        session, incident_id=incident_id, patch=IncidentPatch(status=to), actor=INCIDENT_SYNC_ACTOR
    )


def _has_active(session: Session, incident_id: int) -> bool:
    found = session.scalar(
        select(Assignment.id)
        .where(Assignment.incident_id == incident_id, Assignment.status.in_(ACTIVE_STATUSES))
        .limit(1)
    )
    return found is not None


def _claim(session: Session, responder_id: int) -> bool:
    """available -> busy, only if still available."""
    result = session.execute(
        update(Responder)
        .where(Responder.id == responder_id, Responder.availability == Availability.AVAILABLE)
        .values(availability=Availability.BUSY, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _release(session: Session, responder_id: int) -> None:
    """busy -> available once the responder holds no other active assignment."""
    active = session.scalar(
        select(Assignment.id)
        .where(Assignment.responder_id == responder_id, Assignment.status.in_(ACTIVE_STATUSES))
        .limit(1)
    )
    if active is None:
        session.execute(
            update(Responder)
            .where(Responder.id == responder_id, Responder.availability == Availability.BUSY)
            .values(availability=Availability.AVAILABLE, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )


def get_assignment(
    session: Session, assignment_id: int, *, actor: Principal, perm: str
) -> Assignment:
    assignment = session.get(Assignment, assignment_id)
    if assignment is None:
        raise NotFound(f"assignment {assignment_id} not found")
    responder = session.get(Responder, assignment.responder_id)
    if actor.user_id is not None and responder is not None and responder.user_id == actor.user_id:
        return assignment  # responders act on their own assignments
    try:
        incident_for_dispatch(session, assignment.incident_id, actor, perm)
    except NotFound:
        raise NotFound(f"assignment {assignment_id} not found") from None
    return assignment


def set_status(
    session: Session,
    *,
    assignment_id: int,
    status: AssignmentStatus,
    actor: Principal,
    now: dt.datetime | None = None,
) -> Assignment:
    now = now or utcnow()
    assignment = get_assignment(session, assignment_id, actor=actor, perm=Perm.DISPATCH_WRITE)
    current = assignment.status
    if status not in NEXT.get(current, set()):
        raise Conflict(f"an assignment that is {current} cannot become {status}", field="status")
    values: dict[str, object] = {"status": status.value}
    if status != S.CANCELLED:
        for step, column in STAMPS:
            if getattr(assignment, column) is None:
                values[column] = now
            if step == status:
                break
    # Conditional on the status read, so an escalation run cannot interleave.
    result = session.execute(
        update(Assignment)
        .where(Assignment.id == assignment_id, Assignment.status == current)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("the assignment changed meanwhile; read it again", field="status")
    session.refresh(assignment)
    if status in (S.CLEARED, S.CANCELLED):
        _release(session, assignment.responder_id)
    if status == S.ON_SCENE:
        _advance_incident(session, assignment.incident_id, IncidentStatus.ON_SCENE)
    timeline.note(
        session, incident_id=assignment.incident_id, kind=status.value, actor=actor.actor,
        at=now, assignment_id=assignment.id,
        detail={"responder_id": assignment.responder_id, "from": current},
    )  # fmt: skip
    return assignment


@dataclass
class EscalationReport:
    timed_out: int = 0
    replaced: int = 0
    to_supervisor: int = 0


def run_dispatch_escalations(engine: Engine, *, now: dt.datetime | None = None) -> EscalationReport:
    """Time out every assignment past its acknowledgement deadline, once, and replace it."""
    now = now or utcnow()
    report = EscalationReport()
    with session_scope(engine) as session:
        due = session.scalars(
            select(Assignment.id)
            .where(Assignment.status == S.DISPATCHED, Assignment.ack_deadline <= now)
            .order_by(Assignment.ack_deadline, Assignment.id)
        ).all()
    for assignment_id in due:
        # One transaction per assignment: a failure leaves the others' steps intact.
        with session_scope(engine) as session:
            _escalate_one(session, int(assignment_id), now, report)
    return report


def _escalate_one(
    session: Session, assignment_id: int, now: dt.datetime, report: EscalationReport
) -> None:
    result = session.execute(
        update(Assignment)
        .where(Assignment.id == assignment_id, Assignment.status == S.DISPATCHED)
        .values(status=S.TIMED_OUT.value, timed_out_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return  # acknowledged or escalated by someone else meanwhile
    assignment = session.get(Assignment, assignment_id)
    assert assignment is not None
    report.timed_out += 1
    _release(session, assignment.responder_id)
    actor = ESCALATION_ACTOR
    timeline.note(
        session, incident_id=assignment.incident_id, kind="ack_timeout", actor=actor.actor,
        at=now, assignment_id=assignment.id,
        detail={"responder_id": assignment.responder_id, "deadline": assignment.ack_deadline},
    )  # fmt: skip
    incident = session.get(Incident, assignment.incident_id)
    if incident is None:
        raise ValidationFailed(f"incident {assignment.incident_id} vanished")
    slot = Slot(assignment.want_tier, 1, assignment.want_skill, assignment.within_m)
    replacement = fill_slot(
        session, incident, assignment.slot, slot, assignment.tier, actor, now,
        _tried(session, incident.id),
    )  # fmt: skip
    if replacement is None:
        report.to_supervisor += 1
    else:
        report.replaced += 1


def list_assignments(session: Session, *, incident_id: int, actor: Principal) -> list[Assignment]:
    incident_for_dispatch(session, incident_id, actor, Perm.DISPATCH_READ)
    return list(
        session.scalars(
            select(Assignment).where(Assignment.incident_id == incident_id).order_by(Assignment.id)
        )
    )


def incident_timeline(
    session: Session, *, incident_id: int, actor: Principal
) -> list[TimelineEntry]:
    incident_for_dispatch(session, incident_id, actor, Perm.DISPATCH_READ)
    return timeline.entries(session, incident_id)


def my_assignments(session: Session, *, actor: Principal) -> list[Assignment]:
    """The active assignments of the responder records linked to the acting user."""
    if actor.user_id is None:
        return []
    mine = select(Responder.id).where(Responder.user_id == actor.user_id)
    return list(
        session.scalars(
            select(Assignment)
            .where(Assignment.responder_id.in_(mine), Assignment.status.in_(ACTIVE_STATUSES))
            .order_by(Assignment.id)
        )
    )
