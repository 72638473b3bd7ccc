"""Remediating residential compounds with the three "no"s (三无小区), on the case engine.

A project is a case of type ``compound_remediation`` (see its workflow) led by
the subdistrict where the compound lies; every step is a case transition, so
the timeline, clocks, escalation and audit are the engine's. The compound's
record (``Remediation``) keeps its three "no" flags and residents. The
register (list by compound, steps, totals) is a view over these cases.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pingan.cases import actions, clocks, routing
from pingan.cases.calendar import load_calendar
from pingan.cases.categories import CategorySpec, add_missing_categories
from pingan.cases.models import Case
from pingan.cases.schemas import CaseIn
from pingan.cases.service import add_event, create_case, get_case_by_number, scope_clause
from pingan.cases.workflows.compound_remediation import (
    DEFAULT_CATEGORIES,
    DEPARTMENT,
    HANDLING_LEVEL,
    STEPS,
    WORKFLOW,
    category_for,
    remediation_of,
    steps_done,
)
from pingan.governance.compounds_models import Remediation, RemediationStep
from pingan.kit import audit
from pingan.kit.db import utcnow
from pingan.kit.errors import Conflict, NotFound, ValidationFailed
from pingan.org.models import OrgUnit
from pingan.org.permissions import Perm
from pingan.org.principal import Principal
from pingan.places.models import ResidentialCompound

__all__ = ["STEPS", "RemediationIn", "StepDoneIn"]

# The register's statuses, as views of the case states.
PLANNED, IN_PROGRESS, COMPLETED, CANCELLED = "planned", "in_progress", "completed", "cancelled"
STATUS_OF_STATE = {
    "registered": PLANNED, "surveyed": PLANNED, "in_progress": IN_PROGRESS,
    "acceptance": IN_PROGRESS, "suspended": IN_PROGRESS, "remediated": COMPLETED,
    "cancelled": CANCELLED,
}  # fmt: skip


class RemediationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    compound: str = Field(..., description="Compound code (places domain)")
    no_property_management: bool
    no_responsible_department: bool
    no_self_governance: bool
    residents: int = Field(..., ge=1, description="Residents who benefit")
    description: str = Field("", max_length=5000)

    @model_validator(mode="after")
    def _at_least_one(self) -> RemediationIn:
        if not (
            self.no_property_management or self.no_responsible_department or self.no_self_governance
        ):
            raise ValueError("a compound needs at least one of the three 'no' flags")
        return self


class StepDoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    step: str = Field(..., description=" | ".join(STEPS))
    done_on: dt.date
    note: str = Field("", max_length=2000, description="The evidence that the step is done")
    attachment_id: int | None = Field(None, ge=1, description="A file of the case as evidence")


def ensure_categories(session: Session) -> int:
    """Create the remediation categories that are missing (idempotent)."""
    specs = [
        CategorySpec(code, "project", zh, en, DEPARTMENT, HANDLING_LEVEL, days, "calendar_days")
        for code, zh, en, _most, days in DEFAULT_CATEGORIES
    ]
    return add_missing_categories(session, WORKFLOW.key, specs)


def _compound(session: Session, code: str) -> ResidentialCompound:
    found = session.scalar(select(ResidentialCompound).where(ResidentialCompound.code == code))
    if found is None:
        raise ValidationFailed(f"compound {code!r} not found", field="compound")
    return found


def _grid(session: Session, compound: ResidentialCompound) -> OrgUnit:
    """The compound's own grid, or the grid it lies in."""
    if compound.grid_id is not None:
        grid = session.get(OrgUnit, compound.grid_id)
        if grid is not None:
            return grid
    centre = compound.geom.representative_point()
    return routing.locate_grid(session, centre.x, centre.y)


def register(
    session: Session,
    *,
    remediation_in: RemediationIn,
    actor: Principal,
    now: dt.datetime | None = None,
) -> tuple[Case, Remediation]:
    """Open a remediation project (a case) for a compound, led by its subdistrict."""
    now = now or utcnow()
    compound = _compound(session, remediation_in.compound)
    grid = _grid(session, compound)
    lead = routing.unit_at_level(session, grid, HANDLING_LEVEL)
    actor.require(Perm.CASES_MANAGE, lead.path)
    record = session.scalar(select(Remediation).where(Remediation.compound_id == compound.id))
    current = session.get(Case, record.case_id) if record and record.case_id else None
    if current is not None and current.state != "cancelled":
        raise Conflict(
            f"compound {compound.code} already has a remediation project ({current.number})",
            field="compound",
        )
    ensure_categories(session)
    centre = compound.geom.representative_point()
    case, _ = create_case(
        session,
        case_in=CaseIn(
            case_type=WORKFLOW.key, category=category_for(compound.households),
            title=f"{compound.name_zh} 三无小区整治", description=remediation_in.description,
            lon=centre.x, lat=centre.y, address=compound.name_zh,
        ),
        actor=actor, source="register", now=now,
    )  # fmt: skip
    case.grid_id, case.grid_path = grid.id, grid.path
    add_event(
        session, case, kind="transfer", actor=actor.actor, at=now,
        detail={"unit": {"from": case.unit_id, "to": lead.id},
                "reason": f"responsible level: {HANDLING_LEVEL}"},
    )  # fmt: skip
    case.unit_id, case.unit_path, case.department = lead.id, lead.path, DEPARTMENT
    flags = remediation_in.model_dump(exclude={"compound", "description"})
    if record is None:
        record = Remediation(compound_id=compound.id, created_at=now, **flags)
        session.add(record)
    else:
        for name, value in flags.items():
            setattr(record, name, value)
    record.case_id, record.grid_path, record.updated_at = case.id, grid.path, now
    session.flush()
    audit.record(
        session, actor=actor.actor, action="compounds.remediation.register",
        object_type="compound", object_id=compound.code, detail={**flags, "case": case.number},
    )  # fmt: skip
    return case, record


@dataclass(frozen=True)
class Project:
    """One row of the register: the compound, its record and its current case."""

    compound: ResidentialCompound
    record: Remediation
    case: Case

    @property
    def status(self) -> str:
        return STATUS_OF_STATE[self.case.state]


def get(session: Session, code: str, *, actor: Principal) -> Project:
    """The compound's current project, if the actor may see its case."""
    compound = _compound(session, code)
    record = session.scalar(select(Remediation).where(Remediation.compound_id == compound.id))
    if record is None or record.case_id is None:
        raise NotFound(f"compound {code} has no remediation project")
    try:
        case = get_case_by_number(session, _number(session, record.case_id), actor=actor)
    except NotFound:
        raise NotFound(f"compound {code} has no remediation project") from None
    return Project(compound, record, case)


def _number(session: Session, case_id: int) -> str:
    return str(session.scalar(select(Case.number).where(Case.id == case_id)))


def get_by_number(session: Session, number: str, *, actor: Principal) -> Project:
    case = get_case_by_number(session, number, actor=actor)
    if case.case_type != WORKFLOW.key:
        raise NotFound(f"case {number} not found")
    record = remediation_of(session, case)
    compound = session.get(ResidentialCompound, record.compound_id)
    assert compound is not None
    return Project(compound, record, case)


def steps(session: Session, case: Case) -> list[RemediationStep]:
    return steps_done(session, case.id)


def steps_of_many(session: Session, case_ids: list[int]) -> dict[int, list[RemediationStep]]:
    """``steps`` of many cases in one query, each in the same order."""
    found: dict[int, list[RemediationStep]] = {i: [] for i in case_ids}
    if case_ids:
        stmt = (
            select(RemediationStep)
            .where(RemediationStep.case_id.in_(case_ids))
            .order_by(RemediationStep.done_on, RemediationStep.id)
        )
        for step in session.scalars(stmt):
            found[step.case_id].append(step)
    return found


def take(
    session: Session,
    *,
    number: str,
    transition: str,
    fields: dict[str, Any],
    actor: Principal,
    now: dt.datetime | None = None,
) -> Project:
    """A step of the project; the fourth step recorded asks for acceptance at once."""
    now = now or utcnow()
    project = get_by_number(session, number, actor=actor)
    case = project.case
    actions.transition(session, case=case, name=transition, fields=fields, actor=actor, now=now)
    if transition == "postpone":
        extended = clocks.extend(
            session, case=case, name="remediate", amount=int(fields["days"]),
            cal=load_calendar(session), near_fraction=WORKFLOW.near_fraction,
        )  # fmt: skip
        add_event(
            session, case, kind="clock", actor=actor.actor, at=now,
            detail={"changes": [f"remediate:extended:{fields['days']}d"],
                    "due_at": extended.due_at, "reason": fields["reason"]},
        )  # fmt: skip
    if transition == "record_step" and len(steps(session, case)) == len(STEPS):
        actions.transition(
            session, case=case, name="request_acceptance", fields={}, actor=actor, now=now
        )
    project.record.updated_at = now
    session.flush()
    return project


def record_step(
    session: Session,
    *,
    code: str,
    step_in: StepDoneIn,
    actor: Principal,
    now: dt.datetime | None = None,
) -> Project:
    """The register's "mark a step done": the ``record_step`` transition of the case."""
    project = get(session, code, actor=actor)
    fields: dict[str, Any] = {
        "step": step_in.step, "done_on": step_in.done_on.isoformat(), "evidence": step_in.note,
    }  # fmt: skip
    if step_in.attachment_id is not None:
        fields["attachment_id"] = step_in.attachment_id
    return take(
        session, number=project.case.number, transition="record_step", fields=fields,
        actor=actor, now=now,
    )  # fmt: skip


def list_projects(
    session: Session, *, actor: Principal, status: str | None = None, unit_id: int | None = None
) -> list[tuple[Project, int]]:
    """Current projects in scope with the number of steps done, by compound code."""
    done = (
        select(RemediationStep.case_id, func.count(RemediationStep.id).label("n"))
        .group_by(RemediationStep.case_id)
        .subquery()
    )
    stmt = (
        select(ResidentialCompound, Remediation, Case, func.coalesce(done.c.n, 0))
        .join(Remediation, Remediation.compound_id == ResidentialCompound.id)
        .join(Case, Case.id == Remediation.case_id)
        .outerjoin(done, done.c.case_id == Case.id)
        .where(scope_clause(actor))
        .order_by(ResidentialCompound.code)
    )
    if status is not None:
        states = [s for s, v in STATUS_OF_STATE.items() if v == status] or [status]
        if not set(states) <= set(STATUS_OF_STATE):
            known = ", ".join(sorted({*STATUS_OF_STATE.values(), *STATUS_OF_STATE}))
            raise ValidationFailed(f"unknown status {status!r} (known: {known})", field="status")
        stmt = stmt.where(Case.state.in_(states))
    if unit_id is not None:
        unit = session.get(OrgUnit, unit_id)
        if unit is None:
            raise NotFound(f"org unit {unit_id} not found")
        stmt = stmt.where(Remediation.grid_path.startswith(unit.path))
    return [(Project(c, r, k), int(n)) for c, r, k, n in session.execute(stmt)]
