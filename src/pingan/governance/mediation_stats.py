"""Ledgers and statistics of dispute mediation, within the reader's org scope.

Periods are city-local dates, ``start`` inclusive and ``end`` exclusive. A
dispute counts as registered in the period by its registration time and as
concluded by its outcome time. Definitions are on ``mediation_schemas.Outcomes``.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.cases.calendar import load_calendar
from pingan.cases.clocks import RUNNING
from pingan.cases.models import Case, CaseCategory, CaseClock
from pingan.cases.service import scope_clause
from pingan.governance.mediation_models import Dispute
from pingan.governance.mediation_schemas import (
    GroupStats,
    LedgerRow,
    MediationStats,
    Outcomes,
    TrendPoint,
)
from pingan.kit.db import utcnow
from pingan.kit.errors import NotFound, ValidationFailed
from pingan.org.levels import LEVEL_ORDER, Level
from pingan.org.models import OrgUnit, User
from pingan.org.principal import Principal


def _unit_under(session: Session, unit_id: int | None) -> OrgUnit | None:
    if unit_id is None:
        return None
    unit = session.get(OrgUnit, unit_id)
    if unit is None:
        raise NotFound(f"org unit {unit_id} not found")
    return unit


def ledger(
    session: Session,
    *,
    actor: Principal,
    level: Level | None = None,
    unit_id: int | None = None,
    now: dt.datetime | None = None,
) -> list[LedgerRow]:
    """Open disputes with their responsible person and deadline, soonest deadline first."""
    now = now or utcnow()
    stmt = (
        select(Case, Dispute, CaseCategory.code, OrgUnit.name_zh, User.username)
        .join(Dispute, Dispute.case_id == Case.id)
        .join(CaseCategory, CaseCategory.id == Case.category_id)
        .join(OrgUnit, OrgUnit.id == Case.unit_id)
        .outerjoin(User, User.id == Case.handler_id)
        .where(Case.is_open.is_(True), scope_clause(actor))
    )
    if level is not None:
        stmt = stmt.where(Dispute.level == level.value)
    under = _unit_under(session, unit_id)
    if under is not None:
        stmt = stmt.where(Case.unit_path.startswith(under.path))
    found = session.execute(stmt).all()
    ids = [case.id for case, *_ in found]
    due: dict[int, dt.datetime] = {}
    for case_id, due_at in session.execute(
        select(CaseClock.case_id, CaseClock.due_at).where(
            CaseClock.case_id.in_(ids or [-1]), CaseClock.status == RUNNING
        )
    ):
        if due_at is not None and (case_id not in due or due_at < due[case_id]):
            due[case_id] = due_at
    rows = [
        LedgerRow(
            number=case.number,
            title=case.title,
            category=code,
            level=dispute.level,
            unit_id=case.unit_id,
            unit_name=unit_name,
            channel=dispute.channel,
            risk_level=dispute.risk_level,
            state=case.state,
            handler=username,
            registered_at=case.created_at,
            deadline=due.get(case.id),
            overdue=case.id in due and due[case.id] <= now,
        )
        for case, dispute, code, unit_name, username in found
    ]
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(rows, key=lambda r: (r.deadline or far, r.number))


@dataclass(frozen=True)
class _Row:
    category: str
    grid_path: str
    registered: dt.datetime
    channel: str | None
    outcome: str | None
    outcome_at: dt.datetime | None


def _outcomes(rows: Iterable[_Row]) -> Outcomes:
    rows = list(rows)
    count = {k: sum(1 for r in rows if r.outcome == k) for k in
             ("agreed", "partial", "referred", "withdrawn")}  # fmt: skip
    mediated = [
        r for r in rows if r.outcome in ("agreed", "partial", "referred") and r.channel is not None
    ]
    days = [
        (r.outcome_at - r.registered).total_seconds() / 86400
        for r in mediated
        if r.outcome_at is not None
    ]
    agreed = sum(1 for r in mediated if r.outcome == "agreed")
    return Outcomes(
        concluded=len(rows),
        mediated=len(mediated),
        agreed=count["agreed"],
        partial=count["partial"],
        failed=count["referred"],
        withdrawn=count["withdrawn"],
        success_rate=agreed / len(mediated) if mediated else None,
        mean_days=statistics.fmean(days) if days else None,
        median_days=statistics.median(days) if days else None,
    )


def _months(start: dt.date, end: dt.date) -> list[str]:
    out, y, m = [], start.year, start.month
    while dt.date(y, m, 1) < end:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def mediation_stats(
    session: Session,
    *,
    actor: Principal,
    start: dt.date,
    end: dt.date,
    area_level: Level = Level.DISTRICT,
    unit_id: int | None = None,
) -> MediationStats:
    """Mediated, success rate, time to resolution by category and area, and the monthly trend."""
    if end <= start:
        raise ValidationFailed("end must be after start", field="end")
    if area_level == Level.CITY:
        raise ValidationFailed("area_level must be below the city", field="area_level")
    zone = load_calendar(session).zone
    lo = dt.datetime.combine(start, dt.time(), zone)
    hi = dt.datetime.combine(end, dt.time(), zone)
    # Only the columns the figures need: whole ORM rows cost ten times as much.
    stmt = (
        select(
            CaseCategory.code, Case.grid_path, Case.created_at, Dispute.channel,
            Dispute.outcome, Dispute.outcome_at,
        )
        .join(Dispute, Dispute.case_id == Case.id)
        .join(CaseCategory, CaseCategory.id == Case.category_id)
        .where(scope_clause(actor))
        .where(
            ((Case.created_at >= lo) & (Case.created_at < hi))
            | ((Dispute.outcome_at >= lo) & (Dispute.outcome_at < hi))
        )
    )  # fmt: skip
    under = _unit_under(session, unit_id)
    if under is not None:
        stmt = stmt.where(Case.grid_path.startswith(under.path))
    rows = [_Row(*row) for row in session.execute(stmt)]
    registered = [r for r in rows if lo <= r.registered < hi]
    concluded = [r for r in rows if r.outcome_at is not None and lo <= r.outcome_at < hi]

    depth = LEVEL_ORDER.index(area_level)
    by_cat: dict[str, list[_Row]] = defaultdict(list)
    by_area: dict[int, list[_Row]] = defaultdict(list)
    for r in concluded:
        by_cat[r.category].append(r)
        ids = [int(p) for p in r.grid_path.strip("/").split("/") if p]
        if len(ids) > depth:
            by_area[ids[depth]].append(r)
    cat_names = dict(
        session.execute(select(CaseCategory.code, CaseCategory.name_zh).where(
            CaseCategory.code.in_(list(by_cat) or [""])))
        .all()
    )  # fmt: skip
    area_names = dict(
        session.execute(select(OrgUnit.id, OrgUnit.name_zh).where(
            OrgUnit.id.in_(list(by_area) or [-1])))
        .all()
    )  # fmt: skip

    def month(t: dt.datetime) -> str:
        return f"{t.astimezone(zone):%Y-%m}"

    reg_by_month = Counter(month(r.registered) for r in registered)
    done_by_month = Counter(month(r.outcome_at) for r in concluded if r.outcome_at is not None)
    agreed_by_month = Counter(
        month(r.outcome_at) for r in concluded if r.outcome_at is not None and r.outcome == "agreed"
    )
    trend = [
        TrendPoint(month=m, registered=reg_by_month[m], concluded=done_by_month[m],
                   agreed=agreed_by_month[m])
        for m in _months(start, end)
    ]  # fmt: skip
    return MediationStats(
        start=start,
        end=end,
        area_level=area_level.value,
        registered=len(registered),
        total=_outcomes(concluded),
        by_category=[
            GroupStats(key=k, name=cat_names.get(k, k), **_outcomes(v).model_dump())
            for k, v in sorted(by_cat.items())
        ],
        by_area=[
            GroupStats(key=str(k), name=area_names.get(k, str(k)), **_outcomes(v).model_dump())
            for k, v in sorted(by_area.items())
        ],
        trend=trend,
    )
