"""Case KPIs: backlog and its age at the period's end, on-time handling, overdue cases.

A case counts for a unit when its handling unit or its grid lies in the
unit's subtree. "On time" counts handling clocks that stopped in the period
with time to spare, out of all handling clocks that stopped in it (as in
``cases.kpis``); a clock still running is not judged yet.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, or_, select

from pingan.cases.models import Case, CaseClock
from pingan.cases.service import scope_clause
from pingan.kit.db import utcnow
from pingan.org.permissions import Perm
from pingan.reports.kpis.registry import NOT_PERMITTED, KpiContext, KpiDef, KpiValue, register

TITLED_TYPES = ("grid_event",)


def _in_unit(ctx: KpiContext) -> ColumnElement[bool]:
    return or_(Case.unit_path.startswith(ctx.unit.path), Case.grid_path.startswith(ctx.unit.path))


def _visible(ctx: KpiContext) -> bool:
    return ctx.actor.can(Perm.CASES_READ, ctx.unit.path)


def _backlog_rows(ctx: KpiContext) -> list[Case]:
    end = ctx.period.end
    return list(
        ctx.session.scalars(
            select(Case)
            .where(
                _in_unit(ctx),
                scope_clause(ctx.actor),
                Case.created_at < end,
                or_(Case.closed_at.is_(None), Case.closed_at >= end),
                Case.duplicate_of_id.is_(None),
            )
            .order_by(Case.id)
        )
    )


def _backlog(ctx: KpiContext) -> KpiValue:
    if not _visible(ctx):
        return KpiValue("cases.backlog", None, available=False, note=NOT_PERMITTED)
    rows = _backlog_rows(ctx)
    by_type: dict[str, int] = {}
    for c in rows:
        by_type[c.case_type] = by_type.get(c.case_type, 0) + 1
    return KpiValue(
        "cases.backlog",
        float(len(rows)),
        breakdown=[{"case_type": k, "open": v} for k, v in sorted(by_type.items())],
        record_kind="case",
        records=[c.id for c in rows],
    )


def _age(ctx: KpiContext) -> KpiValue:
    if not _visible(ctx):
        return KpiValue("cases.backlog_age_days", None, available=False, note=NOT_PERMITTED)
    rows = _backlog_rows(ctx)
    if not rows:
        return KpiValue("cases.backlog_age_days", None, note="no open case at the period's end")
    end = min(ctx.period.end, utcnow())
    ages = np.array([(end - c.created_at).total_seconds() / 86_400 for c in rows])
    return KpiValue(
        "cases.backlog_age_days",
        round(float(np.median(ages)), 2),
        breakdown=[
            {"statistic": "median_days", "value": round(float(np.median(ages)), 2)},
            {"statistic": "max_days", "value": round(float(ages.max()), 2)},
        ],
        record_kind="case",
        records=[c.id for c in rows],
    )


def _on_time(ctx: KpiContext) -> KpiValue:
    code = "cases.on_time_rate"
    if not _visible(ctx):
        return KpiValue(code, None, available=False, note=NOT_PERMITTED)
    rows = ctx.session.execute(
        select(Case.id, Case.case_type, Case.unit_id, CaseClock.remaining_s)
        .join(CaseClock, CaseClock.case_id == Case.id)
        .where(
            _in_unit(ctx),
            scope_clause(ctx.actor),
            CaseClock.name == "handle",
            CaseClock.status == "stopped",
            CaseClock.stopped_at >= ctx.period.start,
            CaseClock.stopped_at < ctx.period.end,
        )
        .order_by(Case.id)
    ).all()
    if not rows:
        return KpiValue(code, None, note="no case finished handling in the period")
    groups: dict[tuple[str, int], list[bool]] = {}
    for _case_id, case_type, unit_id, remaining in rows:
        groups.setdefault((case_type, int(unit_id)), []).append(remaining >= 0)
    breakdown: list[dict[str, Any]] = [
        {"case_type": k[0], "unit_id": k[1], "handled": len(v), "on_time": sum(v),
         "rate": round(sum(v) / len(v), 4)}
        for k, v in sorted(groups.items())
    ]  # fmt: skip
    on_time = sum(1 for r in rows if r[3] >= 0)
    return KpiValue(
        code,
        round(on_time / len(rows), 4),
        breakdown=breakdown,
        record_kind="case",
        records=sorted({int(r[0]) for r in rows}),
    )


def _overdue(ctx: KpiContext) -> KpiValue:
    if not _visible(ctx):
        return KpiValue("cases.overdue", None, available=False, note=NOT_PERMITTED)
    now = min(ctx.period.end, utcnow())
    rows = ctx.session.execute(
        select(Case, CaseClock.due_at)
        .join(CaseClock, CaseClock.case_id == Case.id)
        .where(
            _in_unit(ctx),
            scope_clause(ctx.actor),
            Case.is_open.is_(True),
            CaseClock.status == "running",
            CaseClock.due_at < now,
        )
        .order_by(CaseClock.due_at, Case.id)
    ).all()
    seen: dict[int, dict[str, Any]] = {}
    for case, due_at in rows:
        if case.id not in seen and due_at is not None:
            seen[case.id] = {
                "id": case.id,
                "number": case.number,
                "case_type": case.case_type,
                # Only a grid event's title is about a place; others may be about a person.
                "title": case.title if case.case_type in TITLED_TYPES else case.case_type,
                "state": case.state,
                "due_at": due_at.isoformat(),
                "overdue_h": round((now - due_at).total_seconds() / 3600, 1),
            }
    return KpiValue(
        "cases.overdue",
        float(len(seen)),
        breakdown=list(seen.values()),
        record_kind="case",
        records=list(seen),
    )


register(
    KpiDef(
        "cases.backlog", "cases", "Case backlog", "积压案件", "cases",
        "Cases open at the end of the period (duplicates left out), by case type.",
        _backlog, higher_is_better=False,
    )
)  # fmt: skip
register(
    KpiDef(
        "cases.backlog_age_days", "cases", "Backlog age (median)", "积压案件时长（中位数）",
        "days", "Median days the open cases had been open at the period's end.",
        _age, higher_is_better=False,
    )
)  # fmt: skip
register(
    KpiDef(
        "cases.on_time_rate", "cases", "Cases handled on time", "按时办结率", "share",
        "Handling clocks stopped in the period with time left, out of all stopped in it; by "
        "case type and handling unit.", _on_time, higher_is_better=True,
    )
)  # fmt: skip
register(
    KpiDef(
        "cases.overdue", "cases", "Overdue cases", "超期案件", "cases",
        "Open cases whose running SLA clock passed its due time (as of the period's end or now).",
        _overdue, higher_is_better=False,
    )
)  # fmt: skip
