"""Configurable case categories and the holiday calendar."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pingan.cases.calendar import Basis
from pingan.cases.models import CaseCategory, CaseHoliday
from pingan.kit.errors import ValidationFailed
from pingan.org.levels import Level


@dataclass(frozen=True)
class CategorySpec:
    code: str
    kind: str
    name_zh: str
    name_en: str
    department: str
    handling_level: str
    deadline_amount: int
    deadline_basis: str


def add_missing_categories(session: Session, case_type: str, specs: Iterable[CategorySpec]) -> int:
    """Insert the categories whose code is not stored yet; returns how many were added.

    Each insert is its own savepoint, so a concurrent first use that stores the same
    code first is skipped instead of failing the caller's transaction.
    """
    existing = set(session.scalars(select(CaseCategory.code)))
    added = 0
    for spec in specs:
        if spec.code in existing:
            continue
        try:
            with session.begin_nested():
                session.add(
                    CaseCategory(
                        case_type=case_type, code=spec.code, kind=spec.kind,
                        name_zh=spec.name_zh, name_en=spec.name_en, department=spec.department,
                        handling_level=Level(spec.handling_level).value,
                        deadline_amount=spec.deadline_amount,
                        deadline_basis=Basis(spec.deadline_basis).value, active=True,
                    )
                )  # fmt: skip
        except IntegrityError:
            continue
        added += 1
    session.flush()
    return added


def ensure_categories(session: Session) -> int:
    """Create the default grid-event categories that are missing (idempotent)."""
    from pingan.cases.workflows.grid_event import DEFAULT_CATEGORIES, WORKFLOW

    specs = [
        CategorySpec(code, kind, zh, en, dept, level, amount, basis)
        for code, kind, zh, en, dept, level, amount, basis in DEFAULT_CATEGORIES
    ]
    return add_missing_categories(session, WORKFLOW.key, specs)


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
