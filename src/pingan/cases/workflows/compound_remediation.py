"""Remediating a residential compound with the three "no"s (三无小区) as a case.

registered -> ``survey`` (findings recorded) -> surveyed -> ``record_step``
(each of the four steps with its evidence) -> in_progress -> ``request_acceptance``
(all four done) -> acceptance -> ``accept`` -> remediated, or ``reject`` back to
in_progress for rework. Work may be ``suspend``-ed (the target clock pauses) and
``resume``-d; the target date may be ``postpone``-d with a reason; ``terminate``
cancels the project with a reason.

The target date is the ``remediate`` clock, sized by the compound's category
(small, medium, large by households). The survey within 20 working days and
the acceptance within 15 working days are local practice of the street offices
that lead these projects, which is why the responsible unit is the subdistrict.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.cases.engine import ClockRule, EscalationRule, Transition, Workflow
from pingan.cases.models import Case, CaseAttachment, CaseEvent
from pingan.governance.compounds_models import Remediation, RemediationStep
from pingan.kit.errors import Conflict, NotFound, ValidationFailed
from pingan.org.permissions import Perm

HANDLE = Perm.CASES_HANDLE.value
MANAGE = Perm.CASES_MANAGE.value

# The four steps, in the order they are usually done.
STEPS = ("self_governance", "access_control", "gatekeeping", "quasi_property")
OPEN_STATES = ("registered", "surveyed", "in_progress", "acceptance", "suspended")


def remediation_of(session: Session, case: Case) -> Remediation:
    found = session.scalar(select(Remediation).where(Remediation.case_id == case.id))
    if found is None:
        raise NotFound(f"case {case.number} has no compound record")
    return found


def steps_done(session: Session, case_id: int) -> list[RemediationStep]:
    return list(
        session.scalars(
            select(RemediationStep)
            .where(RemediationStep.case_id == case_id)
            .order_by(RemediationStep.done_on, RemediationStep.id)
        )
    )


def _done_on(fields: dict[str, Any]) -> dt.date:
    value = fields["done_on"]
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed(
            "done_on must be a date (YYYY-MM-DD)", field="fields.done_on"
        ) from None


def _check_step(session: Session, case: Case, fields: dict[str, Any]) -> None:
    step = fields["step"]
    if step not in STEPS:
        raise ValidationFailed(f"step must be one of {', '.join(STEPS)}", field="fields.step")
    _done_on(fields)
    if not (str(fields.get("evidence") or "").strip() or fields.get("attachment_id")):
        raise ValidationFailed(
            "a step needs its evidence: a description (evidence) or a file (attachment_id)",
            field="fields.evidence",
        )
    if step in {s.step for s in steps_done(session, case.id)}:
        raise Conflict(f"step {step!r} is already done", field="fields.step")
    attachment_id = fields.get("attachment_id")
    if attachment_id is not None:
        found = (
            session.get(CaseAttachment, attachment_id) if isinstance(attachment_id, int) else None
        )
        if found is None or found.case_id != case.id:
            raise ValidationFailed(
                f"attachment {attachment_id} is not a file of case {case.number}",
                field="fields.attachment_id",
            )


def _record_step(session: Session, case: Case, fields: dict[str, Any]) -> None:
    # The transition's timeline line, just written, names who recorded the step.
    actor = session.scalar(
        select(CaseEvent.actor).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id.desc())
    )
    session.add(
        RemediationStep(
            remediation_id=remediation_of(session, case).id, case_id=case.id,
            step=str(fields["step"]), done_on=_done_on(fields),
            note=str(fields.get("evidence") or fields.get("note") or ""),
            attachment_id=fields.get("attachment_id"), recorded_by=actor or "",
        )
    )  # fmt: skip
    session.flush()


def _check_all_steps(session: Session, case: Case, fields: dict[str, Any]) -> None:
    missing = [s for s in STEPS if s not in {d.step for d in steps_done(session, case.id)}]
    if missing:
        raise Conflict(
            f"acceptance needs all four steps; still to do: {', '.join(missing)}",
            field="transition",
        )


def _check_days(session: Session, case: Case, fields: dict[str, Any]) -> None:
    days = fields["days"]
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 365:
        raise ValidationFailed("days must be an integer from 1 to 365", field="fields.days")


WORKFLOW = Workflow(
    key="compound_remediation",
    number_prefix="XQ",
    states=("registered", "surveyed", "in_progress", "acceptance", "remediated", "suspended",
            "cancelled"),
    initial="registered",
    final=frozenset({"remediated", "cancelled"}),
    transitions=(
        Transition("survey", ("registered",), "surveyed", HANDLE, required=("findings",),
                   label="survey the compound and record the findings"),
        Transition("record_step", ("surveyed", "in_progress"), "in_progress", HANDLE,
                   required=("step", "done_on"),
                   label="record a step done, with its evidence", guard=_check_step,
                   after=_record_step),
        Transition("request_acceptance", ("in_progress",), "acceptance", HANDLE,
                   label="all four steps done: ask for acceptance", guard=_check_all_steps),
        Transition("accept", ("acceptance",), "remediated", MANAGE, required=("opinion",),
                   label="accepted: the compound is remediated"),
        Transition("reject", ("acceptance",), "in_progress", MANAGE, required=("reason",),
                   label="not accepted: rework"),
        Transition("suspend", ("in_progress",), "suspended", HANDLE, required=("reason",),
                   label="suspend the work (the target clock pauses)"),
        Transition("resume", ("suspended",), "in_progress", HANDLE, label="resume the work"),
        Transition("postpone", ("in_progress",), "in_progress", MANAGE,
                   required=("reason", "days"), label="move the target date later",
                   guard=_check_days),
        Transition("terminate", OPEN_STATES, "cancelled", MANAGE, required=("reason",),
                   label="cancel the project, with the reason"),
    ),
    clocks=(
        ClockRule("survey", ("create",), ("survey", "terminate"), basis="working_days",
                  amount=20),
        ClockRule("remediate", ("survey",), ("accept", "terminate"), pause_on=("suspend",),
                  resume_on=("resume",), from_category=True),
        ClockRule("acceptance", ("request_acceptance",), ("accept", "reject", "terminate"),
                  basis="working_days", amount=15),
    ),
    escalations=(
        EscalationRule("survey-breach", "survey", "breach", ("notify", "flag")),
        EscalationRule("remediate-near", "remediate", "near", ("notify",)),
        EscalationRule("remediate-breach", "remediate", "breach", ("notify", "flag")),
        EscalationRule("acceptance-near", "acceptance", "near", ("notify",)),
        EscalationRule("acceptance-breach", "acceptance", "breach", ("notify", "reassign_up")),
    ),
)  # fmt: skip

# Sized by households: code, name_zh, name_en, households up to, target in calendar days.
DEFAULT_CATEGORIES: list[tuple[str, str, str, int, int]] = [
    ("compound.small", "三无小区整治（小型）", "Compound remediation, small", 300, 120),
    ("compound.medium", "三无小区整治（中型）", "Compound remediation, medium", 1000, 180),
    ("compound.large", "三无小区整治（大型）", "Compound remediation, large", 10**9, 270),
]
DEPARTMENT = "community_governance"
HANDLING_LEVEL = "subdistrict"


def category_for(households: int) -> str:
    return next(code for code, _zh, _en, most, _d in DEFAULT_CATEGORIES if households <= most)
