"""Configurable case categories and the holiday calendar."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.cases.calendar import Basis
from pingan.cases.models import CaseCategory, CaseHoliday
from pingan.kit.errors import ValidationFailed
from pingan.org.levels import Level


def ensure_categories(session: Session) -> int:
    """Create the default grid-event categories that are missing (idempotent)."""
    from pingan.cases.workflows.grid_event import DEFAULT_CATEGORIES, WORKFLOW

    existing = set(session.scalars(select(CaseCategory.code)))
    added = 0
    for code, kind, zh, en, dept, level, amount, basis in DEFAULT_CATEGORIES:
        if code not in existing:
            session.add(
                CaseCategory(
                    case_type=WORKFLOW.key,
                    code=code,
                    kind=kind,
                    name_zh=zh,
                    name_en=en,
                    department=dept,
                    handling_level=Level(level).value,
                    deadline_amount=amount,
                    deadline_basis=Basis(basis).value,
                    active=True,
                )
            )
            added += 1
    session.flush()
    return added


def list_categories(session: Session, case_type: str | None = None) -> list[CaseCategory]:
    stmt = select(CaseCategory).where(CaseCategory.active.is_(True)).order_by(CaseCategory.code)
    if case_type is not None:
        stmt = stmt.where(CaseCategory.case_type == case_type)
    return list(session.scalars(stmt))


def get_category(session: Session, code: str, *, field: str = "category") -> CaseCategory:
    found = session.scalar(
        select(CaseCategory).where(CaseCategory.code == code, CaseCategory.active.is_(True))
    )
    if found is None:
        raise ValidationFailed(f"unknown category {code!r}", field=field)
    return found


def set_holiday(
    session: Session, day: dt.date, name: str = "", *, is_workday: bool = False
) -> None:
    row = session.get(CaseHoliday, day)
    if row is None:
        session.add(CaseHoliday(day=day, name=name, is_workday=is_workday))
    else:
        row.name, row.is_workday = name, is_workday
    session.flush()
