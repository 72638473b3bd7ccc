"""Changing a case: transitions, comments, assignment and transfer.

Every change is checked against the workflow and the actor's scope, written
to the timeline and the audit log, and moves the SLA clocks.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from pingan.cases import clocks
from pingan.cases.calendar import load_calendar
from pingan.cases.engine import Transition
from pingan.cases.models import Case, CaseCategory
from pingan.cases.service import add_event
from pingan.cases.workflows import get_workflow
from pingan.kit.db import utcnow
from pingan.kit.errors import Forbidden, NotFound, ValidationFailed
from pingan.org.models import OrgUnit, User
from pingan.org.permissions import Perm
from pingan.org.principal import Principal
from pingan.org.users import principal_for

CANCEL_REASONS = ("duplicate", "invalid")


def may_take(actor: Principal, case: Case, transition: Transition) -> bool:
    is_reporter = case.reporter_user_id is not None and actor.user_id == case.reporter_user_id
    if transition.allow_reporter and is_reporter:
        return True
    # Reporting-level steps (verification) may be taken by grid staff where it happened.
    paths = [case.unit_path]
    if transition.perm == Perm.CASES_REPORT:
        paths.append(case.grid_path)
    return any(actor.can(transition.perm, p) for p in paths)


def _check_fields(transition: Transition, fields: dict[str, Any]) -> None:
    for name in transition.required:
        value = fields.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ValidationFailed(
                f"transition {transition.name!r} requires {name!r}", field=f"fields.{name}"
            )
    if transition.name == "cancel" and fields["reason"] not in CANCEL_REASONS:
        raise ValidationFailed("reason must be 'duplicate' or 'invalid'", field="fields.reason")
    if transition.name == "evaluate":
        rating = fields["rating"]
        if not isinstance(rating, int) or not 1 <= rating <= 5:
            raise ValidationFailed("rating must be an integer from 1 to 5", field="fields.rating")


def transition(
    session: Session,
    *,
    case: Case,
    name: str,
    fields: dict[str, Any],
    actor: Principal,
    unit_id: int | None = None,
    department: str | None = None,
    now: dt.datetime | None = None,
) -> Case:
    """Take a named transition (409 if not allowed from the state, 403 if not yours)."""
    now = now or utcnow()
    workflow = get_workflow(case.case_type)
    step = workflow.transition(name, case.state)
    if not may_take(actor, case, step):
        raise Forbidden(f"you may not {name!r} this case")
    _check_fields(step, fields)
    if step.guard is not None:
        step.guard(session, case, fields)
    category = session.get(CaseCategory, case.category_id)
    assert category is not None
    if name == "cancel" and fields["reason"] == "duplicate":
        _mark_duplicate(session, case, fields.get("duplicate_of"))
    if name == "dispatch":
        _route_on_dispatch(session, case, category, actor, unit_id, department)
    if name == "feedback":
        case.status_note = str(fields["result"])[:500]
    if name == "evaluate":
        case.rating = int(fields["rating"])
    before = case.state
    case.state = step.target
    if step.target in workflow.final and case.is_open:
        case.is_open, case.closed_at = False, now
    add_event(
        session,
        case,
        kind="transition",
        actor=actor.actor,
        at=now,
        from_state=before,
        to_state=case.state,
        detail={"transition": name, "fields": fields},
    )
    if step.after is not None:
        step.after(session, case, fields)
    changes = clocks.apply(
        session,
        case=case,
        workflow=workflow,
        transition=name,
        category=category,
        cal=load_calendar(session),
        now=now,
    )
    if changes:
        add_event(
            session, case, kind="clock", actor=actor.actor, at=now, detail={"changes": changes}
        )
    return case


def _mark_duplicate(session: Session, case: Case, number: Any) -> None:
    from pingan.cases.service import get_case_by_number

    if not number:
        raise ValidationFailed(
            "a duplicate needs duplicate_of (a case number)", field="fields.duplicate_of"
        )
    try:
        original = get_case_by_number(session, str(number), actor=Principal.system("dedupe"))
    except NotFound:
        raise ValidationFailed(f"case {number} not found", field="fields.duplicate_of") from None
    case.duplicate_of_id = original.id


def _route_on_dispatch(
    session: Session,
    case: Case,
    category: CaseCategory,
    actor: Principal,
    unit_id: int | None,
    department: str | None,
) -> None:
    from pingan.cases import routing

    if unit_id is None:
        grid = session.get(OrgUnit, case.grid_id) if case.grid_id else None
        target = routing.unit_at_level(session, grid, category.handling_level) if grid else None
    else:
        target = session.get(OrgUnit, unit_id)
        if target is None:
            raise ValidationFailed(f"org unit {unit_id} not found", field="unit_id")
    if target is not None:
        actor.require(Perm.CASES_MANAGE, target.path)
        case.unit_id, case.unit_path = target.id, target.path
    case.department = department or category.department
    case.handler_id = None


def comment(
    session: Session, *, case: Case, text: str, actor: Principal, now: dt.datetime | None = None
) -> None:
    if not may_take(actor, case, Transition("comment", (), "", Perm.CASES_REPORT, True)):
        raise Forbidden("you may not comment on this case")
    add_event(
        session, case, kind="comment", actor=actor.actor, at=now or utcnow(), detail={"text": text}
    )


def assign(
    session: Session,
    *,
    case: Case,
    actor: Principal,
    handler_id: int | None = None,
    unit_id: int | None = None,
    department: str | None = None,
    reason: str = "",
    now: dt.datetime | None = None,
) -> Case:
    """Set the handler and/or transfer to another unit or department; history is kept."""
    now = now or utcnow()
    actor.require(Perm.CASES_MANAGE, case.unit_path)
    if not case.is_open:
        from pingan.kit.errors import Conflict

        raise Conflict(f"case {case.number} is closed", field="case")
    detail: dict[str, Any] = {"reason": reason}
    if unit_id is not None and unit_id != case.unit_id:
        target = session.get(OrgUnit, unit_id)
        if target is None:
            raise ValidationFailed(f"org unit {unit_id} not found", field="unit_id")
        actor.require(Perm.CASES_MANAGE, target.path)
        detail["unit"] = {"from": case.unit_id, "to": target.id}
        case.unit_id, case.unit_path, case.handler_id = target.id, target.path, None
    if department is not None and department != case.department:
        detail["department"] = {"from": case.department, "to": department}
        case.department = department
    if handler_id is not None and handler_id != case.handler_id:
        user = session.get(User, handler_id)
        if user is None or not user.is_active:
            raise ValidationFailed(f"user {handler_id} not found", field="handler_id")
        handler = principal_for(session, user, via="assignment")
        if not handler.can(Perm.CASES_HANDLE, case.unit_path):
            raise ValidationFailed(
                f"user {user.username!r} may not handle cases of this unit", field="handler_id"
            )
        detail["handler"] = {"from": case.handler_id, "to": user.id}
        case.handler_id = user.id
    kind = "transfer" if "unit" in detail or "department" in detail else "assignment"
    add_event(session, case, kind=kind, actor=actor.actor, at=now, detail=detail)
    return case
