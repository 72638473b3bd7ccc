"""SLA clocks: started, paused, resumed and stopped by a case's transitions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.cases.calendar import WorkCalendar
from pingan.cases.engine import ClockRule, Workflow
from pingan.cases.models import Case, CaseCategory, CaseClock

RUNNING, PAUSED, STOPPED = "running", "paused", "stopped"


def _schedule(clock: CaseClock, cal: WorkCalendar, near_fraction: float, now: dt.datetime) -> None:
    """Derive due_at and warn_at from the counted time left, starting now."""
    clock.running_since = now
    clock.due_at = cal.advance(clock.basis, now, clock.remaining_s)
    # Warn once near_fraction of the whole budget is used.
    until_warn = clock.remaining_s - round(clock.total_s * (1.0 - near_fraction))
    clock.warn_at = cal.advance(clock.basis, now, max(0, until_warn))


def _open_clock(session: Session, case: Case, name: str) -> CaseClock | None:
    return session.scalar(
        select(CaseClock)
        .where(CaseClock.case_id == case.id, CaseClock.name == name, CaseClock.status != STOPPED)
        .order_by(CaseClock.id.desc())
        .limit(1)
    )


def _budget(rule: ClockRule, category: CaseCategory) -> tuple[str, int]:
    if rule.from_category:
        return category.deadline_basis, category.deadline_amount
    return rule.basis, rule.amount


def apply(
    session: Session,
    *,
    case: Case,
    workflow: Workflow,
    transition: str,
    category: CaseCategory,
    cal: WorkCalendar,
    now: dt.datetime,
) -> list[str]:
    """Start/stop/pause/resume every clock the transition names; returns what changed."""
    changes: list[str] = []
    for rule in workflow.clocks:
        clock = _open_clock(session, case, rule.name)
        if transition in rule.stop_on and clock is not None:
            clock.status, clock.stopped_at = STOPPED, now
            if clock.running_since is not None:
                used = cal.counted(clock.basis, clock.running_since, now)
                clock.remaining_s = clock.remaining_s - used
            clock.running_since = None
            changes.append(f"{rule.name}:stopped")
        elif transition in rule.pause_on and clock is not None and clock.status == RUNNING:
            assert clock.running_since is not None
            used = cal.counted(clock.basis, clock.running_since, now)
            clock.remaining_s -= used
            clock.status, clock.paused_at, clock.running_since = PAUSED, now, None
            changes.append(f"{rule.name}:paused")
        elif transition in rule.resume_on and clock is not None and clock.status == PAUSED:
            clock.status, clock.paused_at = RUNNING, None
            _schedule(clock, cal, workflow.near_fraction, now)
            changes.append(f"{rule.name}:resumed")
        if transition in rule.start_on:
            if clock is not None and clock.status != STOPPED:
                clock.status, clock.stopped_at, clock.running_since = STOPPED, now, None
            basis, amount = _budget(rule, category)
            total, _due = cal.initial(basis, now, amount)
            fresh = CaseClock(
                case_id=case.id,
                name=rule.name,
                basis=basis,
                total_s=total,
                remaining_s=total,
                started_at=now,
                status=RUNNING,
            )
            _schedule(fresh, cal, workflow.near_fraction, now)
            # Working-days deadlines fall at close of business, not start + budget.
            fresh.due_at = _due
            session.add(fresh)
            changes.append(f"{rule.name}:started")
    session.flush()
    return changes


def clocks_of(session: Session, case_id: int) -> list[CaseClock]:
    return clocks_of_many(session, [case_id]).get(case_id, [])


def clocks_of_many(session: Session, case_ids: list[int]) -> dict[int, list[CaseClock]]:
    """Each case's clocks in order, in one query (a page of cases is not a query per case)."""
    found: dict[int, list[CaseClock]] = {}
    if not case_ids:
        return found
    query = select(CaseClock).where(CaseClock.case_id.in_(case_ids)).order_by(CaseClock.id)
    for clock in session.scalars(query):
        found.setdefault(clock.case_id, []).append(clock)
    return found


def extend(
    session: Session,
    *,
    case: Case,
    name: str,
    amount: int,
    cal: WorkCalendar,
    near_fraction: float,
) -> CaseClock:
    """Move a running clock's deadline later by ``amount`` units of its basis.

    The budget grows by the counted time between the old and the new deadline,
    so pauses and the near-breach warning keep working on the longer clock; and
    since escalation rules apply once per budget (``escalation``), the reminder
    fires again before the new deadline and the breach waits for it.
    """
    from pingan.kit.errors import Conflict

    clock = _open_clock(session, case, name)
    if clock is None or clock.status != RUNNING or clock.due_at is None:
        raise Conflict(f"clock {name!r} of case {case.number} is not running", field="clock")
    assert clock.running_since is not None
    old_due = clock.due_at
    new_due = cal.extended(clock.basis, old_due, amount)
    added = cal.counted(clock.basis, old_due, new_due)
    clock.total_s += added
    clock.remaining_s += added
    _schedule(clock, cal, near_fraction, clock.running_since)
    clock.due_at = new_due
    session.flush()
    return clock
