"""Grid KPIs for supervisors: reports filed, verified, and handled on time.

Grouped by reporting grid worker or by grid, within the reader's scope.
"On time" counts handling clocks that stopped with time to spare, out of
all handling clocks that stopped; a clock still running is not counted yet.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Integer, case, func, select
from sqlalchemy.orm import Session

from pingan.cases.models import Case, CaseClock
from pingan.cases.service import scope_clause
from pingan.kit.errors import ValidationFailed
from pingan.org.principal import Principal

CLOSED_OK = ("verified", "evaluated")


@dataclass(frozen=True)
class KpiRow:
    key: int | None  # user id or grid id
    filed: int
    verified: int
    handled: int
    on_time: int

    @property
    def on_time_rate(self) -> float | None:
        return None if self.handled == 0 else self.on_time / self.handled


def grid_kpis(
    session: Session,
    *,
    actor: Principal,
    group: str = "worker",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[KpiRow]:
    if group not in ("worker", "grid"):
        raise ValidationFailed("group must be 'worker' or 'grid'", field="group")
    key = Case.reporter_user_id if group == "worker" else Case.grid_id
    handled = (
        select(
            CaseClock.case_id.label("case_id"),
            func.count().label("n"),
            func.sum(case((CaseClock.remaining_s >= 0, 1), else_=0)).label("ok"),
        )
        .where(CaseClock.name == "handle", CaseClock.status == "stopped")
        .group_by(CaseClock.case_id)
        .subquery()
    )
    stmt = (
        select(
            key,
            func.count(Case.id),
            func.sum(case((Case.state.in_(CLOSED_OK), 1), else_=0)),
            func.coalesce(func.sum(handled.c.n), 0),
            func.coalesce(func.sum(handled.c.ok), 0).cast(Integer),
        )
        .outerjoin(handled, handled.c.case_id == Case.id)
        .where(scope_clause(actor), Case.case_type == "grid_event")
        .group_by(key)
        .order_by(key)
    )
    if since is not None:
        stmt = stmt.where(Case.created_at >= since)
    if until is not None:
        stmt = stmt.where(Case.created_at < until)
    return [
        KpiRow(k, int(filed), int(verified or 0), int(n or 0), int(ok or 0))
        for k, filed, verified, n, ok in session.execute(stmt).all()
    ]
