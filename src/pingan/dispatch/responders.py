"""Responders and units: registration, scope, availability.

A responder's scope is their home org unit: a dispatcher whose role covers
that unit's subtree may read or change them. The responder themself (the
user linked to the record) may always set their own availability.
"""

from __future__ import annotations

from sqlalchemy import delete, false, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from pingan.dispatch.assignment_models import ACTIVE_STATUSES, Assignment
from pingan.dispatch.responder_models import (
    TIER_OF_KIND,
    Availability,
    Responder,
    ResponderPosition,
    ResponseUnit,
    TrailPoint,
)
from pingan.dispatch.schemas import ResponderIn, ResponderPatch, UnitIn
from pingan.kit import audit
from pingan.kit.db import utcnow
from pingan.kit.errors import Conflict, NotFound, ValidationFailed
from pingan.org.models import OrgUnit
from pingan.org.permissions import Perm
from pingan.org.principal import Principal


def unit_path(session: Session, org_unit_id: int) -> str:
    path = session.scalar(select(OrgUnit.path).where(OrgUnit.id == org_unit_id))
    if path is None:
        raise ValidationFailed(f"org unit {org_unit_id} does not exist", field="org_unit_id")
    return path


def scope_condition(principal: Principal, perm: str) -> ColumnElement[bool]:
    """SQL condition on ``OrgUnit.path`` (joined to the responder) for ``perm``."""
    if principal.is_system:
        return OrgUnit.id.is_not(None)
    grants = principal.grants_with(perm)
    if not grants:
        return false()
    return or_(*[OrgUnit.path.startswith(g.path) for g in grants])


def create_unit(session: Session, *, unit_in: UnitIn, actor: Principal) -> ResponseUnit:
    actor.require(Perm.DISPATCH_WRITE, unit_path(session, unit_in.org_unit_id))
    if session.scalar(select(ResponseUnit.id).where(ResponseUnit.code == unit_in.code)):
        raise Conflict(f"unit code {unit_in.code!r} is taken", field="code")
    unit = ResponseUnit(**unit_in.model_dump(mode="json"))
    session.add(unit)
    session.flush()
    audit.record(
        session, actor=actor.actor, action="dispatch.unit.create", object_type="dispatch_unit",
        object_id=unit.id, detail={"code": unit.code, "kind": unit.kind},
    )  # fmt: skip
    return unit


def get_unit(session: Session, unit_id: int, *, actor: Principal, perm: str) -> ResponseUnit:
    row = session.execute(
        select(ResponseUnit, OrgUnit.path)
        .join(OrgUnit, OrgUnit.id == ResponseUnit.org_unit_id)
        .where(ResponseUnit.id == unit_id)
    ).first()
    if row is None or not actor.can(perm, row[1]):
        raise NotFound(f"dispatch unit {unit_id} not found")
    return row[0]


def list_units(session: Session, *, actor: Principal) -> list[ResponseUnit]:
    stmt = (
        select(ResponseUnit)
        .join(OrgUnit, OrgUnit.id == ResponseUnit.org_unit_id)
        .where(scope_condition(actor, Perm.DISPATCH_READ))
        .order_by(ResponseUnit.id)
    )
    return list(session.scalars(stmt))


def unit_members(session: Session, unit_ids: list[int]) -> dict[int, list[int]]:
    rows = session.execute(
        select(Responder.unit_id, Responder.id)
        .where(Responder.unit_id.in_(unit_ids))
        .order_by(Responder.id)
    ).all()
    members: dict[int, list[int]] = {u: [] for u in unit_ids}
    for unit_id, rid in rows:
        if unit_id is not None:
            members[int(unit_id)].append(int(rid))
    return members


def create_responder(session: Session, *, responder_in: ResponderIn, actor: Principal) -> Responder:
    actor.require(Perm.DISPATCH_WRITE, unit_path(session, responder_in.org_unit_id))
    if responder_in.unit_id is not None:
        get_unit(session, responder_in.unit_id, actor=actor, perm=Perm.DISPATCH_WRITE)
    data = responder_in.model_dump(mode="json")
    responder = Responder(**data, tier=int(TIER_OF_KIND[responder_in.kind]), updated_at=utcnow())
    session.add(responder)
    session.flush()
    audit.record(
        session, actor=actor.actor, action="dispatch.responder.create", object_type="responder",
        object_id=responder.id,
        detail={"kind": responder.kind, "org_unit_id": responder.org_unit_id},
    )  # fmt: skip
    return responder


def get_responder(
    session: Session, responder_id: int, *, actor: Principal, perm: str = Perm.DISPATCH_READ
) -> Responder:
    row = session.execute(
        select(Responder, OrgUnit.path)
        .join(OrgUnit, OrgUnit.id == Responder.org_unit_id)
        .where(Responder.id == responder_id)
    ).first()
    # Out of scope reads the same as missing; a responder may always see themself.
    if row is None:
        raise NotFound(f"responder {responder_id} not found")
    responder, path = row
    is_self = actor.user_id is not None and responder.user_id == actor.user_id
    if not (is_self or actor.can(perm, path)):
        if actor.can(Perm.DISPATCH_READ, path):
            actor.require(perm, path)  # visible but not writable: 403
        raise NotFound(f"responder {responder_id} not found")
    return responder


def list_responders(
    session: Session,
    *,
    actor: Principal,
    tier: int | None = None,
    availability: str | None = None,
    limit: int = 100,
    after_id: int | None = None,
) -> list[Responder]:
    stmt = (
        select(Responder)
        .join(OrgUnit, OrgUnit.id == Responder.org_unit_id)
        .where(scope_condition(actor, Perm.DISPATCH_READ))
        .order_by(Responder.id)
        .limit(limit)
    )
    if tier is not None:
        stmt = stmt.where(Responder.tier == tier)
    if availability is not None:
        stmt = stmt.where(Responder.availability == availability)
    if after_id is not None:
        stmt = stmt.where(Responder.id > after_id)
    return list(session.scalars(stmt))


def update_responder(
    session: Session, *, responder_id: int, patch: ResponderPatch, actor: Principal
) -> Responder:
    responder = get_responder(session, responder_id, actor=actor, perm=Perm.DISPATCH_WRITE)
    actor.require(Perm.DISPATCH_WRITE, unit_path(session, responder.org_unit_id))
    changes = patch.model_dump(exclude_unset=True)
    if changes.get("unit_id") is not None:
        get_unit(session, changes["unit_id"], actor=actor, perm=Perm.DISPATCH_WRITE)
    for key, value in changes.items():
        setattr(responder, key, value)
    responder.updated_at = utcnow()
    session.flush()
    audit.record(
        session, actor=actor.actor, action="dispatch.responder.update", object_type="responder",
        object_id=responder.id, detail={"fields": sorted(changes)},
    )  # fmt: skip
    return responder


def has_active_assignment(session: Session, responder_id: int) -> bool:
    found = session.scalar(
        select(Assignment.id)
        .where(Assignment.responder_id == responder_id, Assignment.status.in_(ACTIVE_STATUSES))
        .limit(1)
    )
    return found is not None


def set_availability(
    session: Session, *, responder_id: int, availability: Availability, actor: Principal
) -> Responder:
    """Set by the responder (or a dispatcher in scope). Off duty forgets where they were."""
    responder = get_responder(session, responder_id, actor=actor, perm=Perm.DISPATCH_WRITE)
    if availability != Availability.BUSY and has_active_assignment(session, responder_id):
        raise Conflict(
            "the responder holds an active assignment: clear or cancel it first",
            field="availability",
        )
    before = responder.availability
    responder.availability = availability.value
    responder.updated_at = utcnow()
    if availability == Availability.OFF_DUTY:
        forget_position(session, responder_id)
    session.flush()
    audit.record(
        session, actor=actor.actor, action="dispatch.responder.availability",
        object_type="responder", object_id=responder.id,
        detail={"before": before, "after": availability.value},
    )  # fmt: skip
    return responder


def forget_position(session: Session, responder_id: int) -> None:
    session.execute(delete(ResponderPosition).where(ResponderPosition.responder_id == responder_id))
    session.execute(delete(TrailPoint).where(TrailPoint.responder_id == responder_id))
