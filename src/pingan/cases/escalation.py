"""The escalation scheduler: applies each rule to each clock run exactly once per budget.

Each rule applies once per clock run and budget: extending a deadline grows
the budget, so the reminder and the breach rule fire again for the new
deadline (and the breach never at the old one, which no longer exists).

Why this never escalates twice and never misses one: a rule fires when its
threshold (``warn_at`` or ``due_at``) is at or before ``now``, with no lower
bound, so a run after downtime still sees every breach; and the marker row
(unique on clock, rule and budget) is written in the same transaction as the
action, one case per transaction, so a crash leaves both or neither and a
concurrent runner's insert fails on the unique key and is skipped.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import Engine, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pingan.cases import clocks, routing
from pingan.cases.engine import EscalationRule
from pingan.cases.models import Case, CaseClock, CaseEscalation
from pingan.cases.service import add_event
from pingan.cases.workflows import get_workflow
from pingan.kit import jobs
from pingan.kit.db import session_scope, utcnow
from pingan.org.models import OrgUnit

log = logging.getLogger("pingan.cases.escalation")
ACTOR = "system:escalation"


def _due_rules(
    session: Session, clock: CaseClock, case: Case, now: dt.datetime
) -> list[EscalationRule]:
    workflow = get_workflow(case.case_type)
    # Applied against this budget: an extension (a bigger budget) re-arms every rule.
    done = set(
        session.scalars(
            select(CaseEscalation.rule).where(
                CaseEscalation.clock_id == clock.id, CaseEscalation.budget_s == clock.total_s
            )
        )
    )
    due: list[EscalationRule] = []
    for rule in workflow.escalations_for(clock.name):
        threshold = clock.due_at if rule.when == "breach" else clock.warn_at
        if rule.name not in done and threshold is not None and threshold <= now:
            due.append(rule)
    return due


def _apply(
    session: Session, case: Case, clock: CaseClock, rule: EscalationRule, now: dt.datetime
) -> None:
    detail: dict[str, object] = {"rule": rule.name, "clock": clock.name, "due_at": clock.due_at}
    if "reassign_up" in rule.actions:
        unit = session.get(OrgUnit, case.unit_id)
        parent = routing.parent_unit(session, unit) if unit is not None else None
        if parent is not None:
            detail["unit"] = {"from": case.unit_id, "to": parent.id}
            case.unit_id, case.unit_path, case.handler_id = parent.id, parent.path, None
    if "flag" in rule.actions:
        case.supervision_flag = True
    # "notify" is a timeline entry the inboxes show; there is no outbound channel yet.
    detail["notify"] = "notify" in rule.actions
    add_event(session, case, kind="escalation", actor=ACTOR, at=now, detail=detail)


def run_escalations(engine: Engine, *, now: dt.datetime | None = None) -> int:
    """Apply every escalation that is due at ``now``; returns how many were applied."""
    now = now or utcnow()
    with session_scope(engine) as session:
        candidates = list(
            session.execute(
                select(CaseClock.id, CaseClock.case_id)
                .where(
                    CaseClock.status == clocks.RUNNING,
                    or_(CaseClock.warn_at <= now, CaseClock.due_at <= now),
                )
                .order_by(CaseClock.id)
            ).all()
        )
    applied = 0
    for clock_id, case_id in candidates:
        try:
            with session_scope(engine) as session:
                clock = session.get(CaseClock, clock_id)
                case = session.get(Case, case_id)
                if clock is None or case is None or clock.status != clocks.RUNNING:
                    continue
                for rule in _due_rules(session, clock, case, now):
                    session.add(
                        CaseEscalation(
                            clock_id=clock.id,
                            case_id=case.id,
                            rule=rule.name,
                            budget_s=clock.total_s,
                            applied_at=now,
                            actions=",".join(rule.actions),
                        )
                    )
                    session.flush()  # the unique key claims the rule before acting
                    _apply(session, case, clock, rule, now)
                    applied += 1
        except IntegrityError:
            log.info("escalation of clock %s already applied by another runner", clock_id)
    return applied


@jobs.register("cases.escalations", "Apply due case escalations (run periodically)")
def escalations_job(
    engine: Engine, params: dict[str, object], progress: jobs.Progress
) -> dict[str, object]:
    count = run_escalations(engine)
    progress(1.0, f"{count} escalations applied")
    return {"applied": count}
