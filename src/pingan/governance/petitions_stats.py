"""Petition statistics: on-time rate within the statutory deadlines, by unit; counts.

A duty clock (register, notify, handle, review, re-review) is on time when
it stopped at or before its deadline (an extended deadline counts as
extended), late when it stopped after, and overdue when it still runs past
it. Each clock is counted for the unit that holds the case now.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.cases.models import Case, CaseCategory, CaseClock
from pingan.cases.workflows.petition import DUTY_CLOCKS, WORKFLOW
from pingan.governance.petitions import scope_clause
from pingan.governance.petitions_models import Petition
from pingan.kit.db import utcnow
from pingan.org.models import OrgUnit
from pingan.org.principal import Principal


def statistics(
    session: Session,
    *,
    actor: Principal,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    now = now or utcnow()
    cases = (
        select(Case.id, Case.unit_id, Case.state, Petition.channel, CaseCategory.code,
               Petition.rating)
        .join(Petition, Petition.case_id == Case.id)
        .join(CaseCategory, CaseCategory.id == Case.category_id)
        .where(Case.case_type == WORKFLOW.key, scope_clause(actor))
    )  # fmt: skip
    if since is not None:
        cases = cases.where(Petition.received_at >= since)
    if until is not None:
        cases = cases.where(Petition.received_at < until)
    rows = session.execute(cases).all()
    unit_of = {int(r[0]): int(r[1]) for r in rows}
    by_unit: dict[int, Counter[str]] = defaultdict(Counter)
    if unit_of:
        clock_rows = session.execute(
            select(
                CaseClock.case_id, CaseClock.status, CaseClock.due_at, CaseClock.stopped_at
            ).where(CaseClock.case_id.in_(unit_of), CaseClock.name.in_(DUTY_CLOCKS))
        ).all()
        for case_id, status, due, stopped in clock_rows:
            tally = by_unit[unit_of[int(case_id)]]
            if status == "stopped" and stopped is not None and due is not None:
                tally["decided"] += 1
                tally["on_time" if stopped <= due else "late"] += 1
            elif due is not None and due <= now:
                tally["overdue"] += 1
            else:
                tally["running"] += 1
    names = {int(i): str(n) for i, n in session.execute(select(OrgUnit.id, OrgUnit.name_en))}
    units = []
    for unit_id, tally in sorted(by_unit.items()):
        judged = tally["decided"] + tally["overdue"]
        units.append({
            "unit_id": unit_id, "unit": names.get(unit_id, ""),
            "decided": tally["decided"], "on_time": tally["on_time"], "late": tally["late"],
            "overdue_open": tally["overdue"], "running": tally["running"],
            "on_time_rate": round(tally["on_time"] / judged, 4) if judged else None,
        })  # fmt: skip
    ratings = [int(r[5]) for r in rows if r[5] is not None]
    return {
        "total": len(rows),
        "by_channel": dict(sorted(Counter(str(r[3]) for r in rows).items())),
        "by_category": dict(sorted(Counter(str(r[4]) for r in rows).items())),
        "by_state": dict(sorted(Counter(str(r[2]) for r in rows).items())),
        "mean_rating": round(sum(ratings) / len(ratings), 3) if ratings else None,
        "on_time_by_unit": units,
    }
