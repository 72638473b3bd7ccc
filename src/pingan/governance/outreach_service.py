"""The legal outreach register: activities by area and date, with attendance.

Recording needs ``cases:manage`` at the unit where the activity was held;
counts need ``cases:read`` and cover only the units in the reader's scope.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session

from pingan.governance.outreach_models import OutreachActivity
from pingan.kit import audit
from pingan.kit.errors import ValidationFailed
from pingan.org.levels import LEVEL_ORDER, Level
from pingan.org.models import OrgUnit
from pingan.org.permissions import Perm
from pingan.org.principal import Principal

Kind = Literal["law_lecture", "mobile_court", "circuit_court", "pro_bono_hours", "legal_clinic"]
KINDS: tuple[str, ...] = get_args(Kind)


class ActivityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Kind
    title: str = Field(..., min_length=1, max_length=200)
    held_on: dt.date
    unit: str = Field(..., min_length=1, description="Org unit code where it was held")
    attendance: int = Field(..., ge=0, le=1_000_000)
    hours: float | None = Field(None, gt=0, le=10_000, description="Lawyers' hours (pro bono)")
    organiser: str = Field("", max_length=200)
    note: str = Field("", max_length=2000)


def _unit(session: Session, code: str) -> OrgUnit:
    found = session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if found is None:
        raise ValidationFailed(f"org unit {code!r} not found", field="unit")
    return found


def record(session: Session, *, activity_in: ActivityIn, actor: Principal) -> OutreachActivity:
    unit = _unit(session, activity_in.unit)
    actor.require(Perm.CASES_MANAGE, unit.path)
    if activity_in.kind == "pro_bono_hours" and activity_in.hours is None:
        raise ValidationFailed("pro bono hours need hours", field="hours")
    row = OutreachActivity(
        **activity_in.model_dump(exclude={"unit"}),
        unit_id=unit.id,
        unit_path=unit.path,
        recorded_by=actor.actor,
    )
    session.add(row)
    session.flush()
    audit.record(
        session, actor=actor.actor, action="outreach.record", object_type="outreach",
        object_id=row.id, detail={"kind": row.kind, "unit": unit.code},
    )  # fmt: skip
    return row


@dataclass
class ImportReport:
    added: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def import_csv(session: Session, *, text: str, actor: Principal) -> ImportReport:
    """Rows of kind,title,held_on,unit,attendance[,hours,organiser,note]; every good row is kept
    and every bad one reported with its line number."""
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(text))
    missing = {"kind", "title", "held_on", "unit", "attendance"} - set(reader.fieldnames or [])
    if missing:
        raise ValidationFailed(f"line 1: missing columns {', '.join(sorted(missing))}")
    for row in reader:
        line = reader.line_num
        data = {k: v for k, v in row.items() if k and v not in (None, "")}
        try:
            with session.begin_nested():
                record(session, activity_in=ActivityIn.model_validate(data), actor=actor)
            report.added += 1
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            report.rejected.append((line, f"{where}: {first['msg']}"))
        except ValidationFailed as exc:
            report.rejected.append((line, exc.detail))
    return report


def _scope(actor: Principal) -> ColumnElement[bool]:
    if actor.is_system:
        return OutreachActivity.id.is_not(None)
    grants = actor.grants_with(Perm.CASES_READ)
    parts = [OutreachActivity.unit_path.startswith(g.path) for g in grants]
    return or_(*parts) if parts else false()


def list_activities(
    session: Session, *, actor: Principal, start: dt.date, end: dt.date, limit: int = 500
) -> list[OutreachActivity]:
    return list(
        session.scalars(
            select(OutreachActivity)
            .where(_scope(actor), OutreachActivity.held_on >= start, OutreachActivity.held_on < end)
            .order_by(OutreachActivity.held_on, OutreachActivity.id)
            .limit(limit)
        )
    )


@dataclass
class CountRow:
    area_id: int
    area: str
    period: str
    kind: str
    activities: int = 0
    attendance: int = 0
    hours: float = 0.0


def counts(
    session: Session,
    *,
    actor: Principal,
    start: dt.date,
    end: dt.date,
    area_level: Level = Level.DISTRICT,
    by: Literal["day", "month", "all"] = "month",
) -> list[CountRow]:
    """Activities, attendance and lawyers' hours per area, period and kind, in [start, end).

    An activity held at a unit above ``area_level`` counts under that unit itself.
    """
    if end <= start:
        raise ValidationFailed("end must be after start", field="end")
    depth = LEVEL_ORDER.index(area_level)
    rows: dict[tuple[int, str, str], CountRow] = {}
    names: dict[int, str] = {}
    for a in session.scalars(
        select(OutreachActivity).where(
            _scope(actor), OutreachActivity.held_on >= start, OutreachActivity.held_on < end
        )
    ):
        ids = [int(p) for p in a.unit_path.strip("/").split("/") if p]
        area = ids[min(depth, len(ids) - 1)]
        if area not in names:
            unit = session.get(OrgUnit, area)
            names[area] = unit.name_zh if unit is not None else str(area)
        period = {"day": a.held_on.isoformat(), "month": f"{a.held_on:%Y-%m}", "all": "all"}[by]
        key = (area, period, a.kind)
        row = rows.setdefault(key, CountRow(area, names[area], period, a.kind))
        row.activities += 1
        row.attendance += a.attendance
        row.hours += a.hours or 0.0
    return [rows[k] for k in sorted(rows)]
