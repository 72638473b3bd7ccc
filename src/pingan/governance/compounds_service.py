"""Remediating residential compounds with the three "no"s (三无小区).

The compounds themselves are the places domain's; a remediation project
records which "no"s a compound has (no property management, no responsible
department, no residents' self-governance), its residents, and the four
steps as they are done. All four done makes it remediated.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pingan.governance.compounds_models import Remediation, RemediationStep
from pingan.kit import audit
from pingan.kit.db import utcnow
from pingan.kit.errors import Conflict, NotFound, ValidationFailed
from pingan.org.levels import LEVEL_ORDER, Level
from pingan.org.models import OrgUnit
from pingan.org.permissions import Perm
from pingan.org.principal import Principal
from pingan.places.models import ResidentialCompound

STEPS = ("self_governance", "access_control", "gatekeeping", "quasi_property")
PLANNED, IN_PROGRESS, COMPLETED = "planned", "in_progress", "completed"


class RemediationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    compound: str = Field(..., description="Compound code (places domain)")
    no_property_management: bool
    no_responsible_department: bool
    no_self_governance: bool
    residents: int = Field(..., ge=1, description="Residents who benefit")

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
    note: str = Field("", max_length=2000)


def _compound(session: Session, code: str) -> ResidentialCompound:
    found = session.scalar(select(ResidentialCompound).where(ResidentialCompound.code == code))
    if found is None:
        raise ValidationFailed(f"compound {code!r} not found", field="compound")
    return found


def _grid_path(session: Session, compound: ResidentialCompound) -> str:
    if compound.grid_id is not None:
        grid = session.get(OrgUnit, compound.grid_id)
        if grid is not None:
            return grid.path
    from pingan.cases.routing import locate_grid

    centre = compound.geom.representative_point()
    return locate_grid(session, centre.x, centre.y).path


def register(
    session: Session,
    *,
    remediation_in: RemediationIn,
    actor: Principal,
    now: dt.datetime | None = None,
) -> Remediation:
    now = now or utcnow()
    compound = _compound(session, remediation_in.compound)
    path = _grid_path(session, compound)
    actor.require(Perm.PLACES_WRITE, path)
    if session.scalar(select(Remediation.id).where(Remediation.compound_id == compound.id)):
        raise Conflict(
            f"compound {compound.code} already has a remediation project", field="compound"
        )
    data = remediation_in.model_dump(exclude={"compound"})
    row = Remediation(compound_id=compound.id, grid_path=path, status=PLANNED, created_at=now,
                      updated_at=now, **data)  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(
        session, actor=actor.actor, action="compounds.remediation.register",
        object_type="compound", object_id=compound.code, detail=data,
    )  # fmt: skip
    return row


def get(
    session: Session, code: str, *, actor: Principal
) -> tuple[ResidentialCompound, Remediation]:
    compound = _compound(session, code)
    row = session.scalar(select(Remediation).where(Remediation.compound_id == compound.id))
    if row is None or not actor.can(Perm.PLACES_READ, row.grid_path):
        raise NotFound(f"compound {code} has no remediation project")
    return compound, row


def steps(session: Session, row: Remediation) -> list[RemediationStep]:
    return list(
        session.scalars(
            select(RemediationStep)
            .where(RemediationStep.remediation_id == row.id)
            .order_by(RemediationStep.done_on, RemediationStep.id)
        )
    )


def record_step(
    session: Session,
    *,
    code: str,
    step_in: StepDoneIn,
    actor: Principal,
    now: dt.datetime | None = None,
) -> Remediation:
    """Mark a step done; the fourth completes the project."""
    now = now or utcnow()
    if step_in.step not in STEPS:
        raise ValidationFailed(f"step must be one of {', '.join(STEPS)}", field="step")
    compound, row = get(session, code, actor=actor)
    actor.require(Perm.PLACES_WRITE, row.grid_path)
    done = {s.step for s in steps(session, row)}
    if step_in.step in done:
        raise Conflict(f"step {step_in.step!r} is already done", field="step")
    session.add(
        RemediationStep(remediation_id=row.id, step=step_in.step, done_on=step_in.done_on,
                        note=step_in.note, recorded_by=actor.actor)
    )  # fmt: skip
    session.flush()
    all_steps = steps(session, row)
    row.started_on = min(s.done_on for s in all_steps)
    if len(all_steps) == len(STEPS):
        row.status, row.completed_on = COMPLETED, max(s.done_on for s in all_steps)
    else:
        row.status = IN_PROGRESS
    row.updated_at = now
    audit.record(
        session, actor=actor.actor, action="compounds.remediation.step", object_type="compound",
        object_id=compound.code, detail={"step": step_in.step, "done_on": step_in.done_on},
    )  # fmt: skip
    return row


def list_remediations(
    session: Session, *, actor: Principal, status: str | None = None, unit_id: int | None = None
) -> list[tuple[ResidentialCompound, Remediation, int]]:
    """Projects in scope with the number of steps done."""
    stmt = (
        select(ResidentialCompound, Remediation, func.count(RemediationStep.id))
        .join(Remediation, Remediation.compound_id == ResidentialCompound.id)
        .outerjoin(RemediationStep, RemediationStep.remediation_id == Remediation.id)
        .group_by(ResidentialCompound.id, Remediation.id)
        .order_by(ResidentialCompound.code)
    )
    if status is not None:
        stmt = stmt.where(Remediation.status == status)
    if unit_id is not None:
        unit = session.get(OrgUnit, unit_id)
        if unit is None:
            raise NotFound(f"org unit {unit_id} not found")
        stmt = stmt.where(Remediation.grid_path.startswith(unit.path))
    return [
        (c, r, int(n))
        for c, r, n in session.execute(stmt)
        if actor.can(Perm.PLACES_READ, r.grid_path)
    ]


@dataclass
class AreaTotals:
    unit_id: int
    name: str
    compounds: int = 0
    no_property_management: int = 0
    no_responsible_department: int = 0
    no_self_governance: int = 0
    planned: int = 0
    in_progress: int = 0
    remediated: int = 0
    residents_benefiting: int = 0
    steps_done: int = 0


def totals(
    session: Session, *, actor: Principal, area_level: Level = Level.DISTRICT
) -> list[AreaTotals]:
    """Per area: compounds with a project, flags, progress, and residents of remediated ones."""
    depth = LEVEL_ORDER.index(area_level)
    by_area: dict[int, AreaTotals] = {}
    names: dict[int, str] = {}
    for _c, r, n in list_remediations(session, actor=actor):
        ids = [int(p) for p in r.grid_path.strip("/").split("/") if p]
        if len(ids) <= depth:
            continue
        key = ids[depth]
        if key not in names:
            unit = session.get(OrgUnit, key)
            names[key] = unit.name_zh if unit is not None else str(key)
        t = by_area.setdefault(key, AreaTotals(key, names[key]))
        t.compounds += 1
        t.no_property_management += r.no_property_management
        t.no_responsible_department += r.no_responsible_department
        t.no_self_governance += r.no_self_governance
        t.planned += r.status == PLANNED
        t.in_progress += r.status == IN_PROGRESS
        if r.status == COMPLETED:
            t.remediated += 1
            t.residents_benefiting += r.residents
        t.steps_done += n
    return [by_area[k] for k in sorted(by_area)]
