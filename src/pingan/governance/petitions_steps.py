"""Taking a petition's steps: the statutory checks, the clock extension, the letters.

The state table and clocks are the case engine's (``cases.actions``); this
adds what a state table cannot say: the forward target is not the accused
unit, an objection comes within its 5 working days, the extension is taken
once, for at most 30 days and before the deadline, a review or re-review is
asked within its 30-day window, and each step that owes the petitioner a
letter sends one with the dates it sets.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.cases import actions, clocks
from pingan.cases.calendar import load_calendar
from pingan.cases.models import Case, CaseClock, CaseEvent
from pingan.cases.routing import parent_unit
from pingan.cases.service import add_event
from pingan.cases.workflows.petition import IN_SERVICE, MAX_EXTENSION_DAYS, WORKFLOW
from pingan.governance import letters
from pingan.governance.petitions import (
    _check_not_accused_unit,
    get_petition,
    unit_or_error,
)
from pingan.governance.petitions_models import Petition
from pingan.kit.db import utcnow
from pingan.kit.errors import Conflict, ValidationFailed
from pingan.org.models import OrgUnit
from pingan.org.principal import Principal

CLOSE_REASONS = ("window_lapsed", "petitioner_satisfied")


def latest_clock(session: Session, case_id: int, name: str) -> CaseClock | None:
    return session.scalar(
        select(CaseClock)
        .where(CaseClock.case_id == case_id, CaseClock.name == name)
        .order_by(CaseClock.id.desc())
        .limit(1)
    )


def _due(session: Session, case: Case, name: str) -> dt.datetime:
    clock = latest_clock(session, case.id, name)
    assert clock is not None and clock.due_at is not None, name
    return clock.due_at


def _unit_name(session: Session, unit_id: int) -> str:
    unit = session.get(OrgUnit, unit_id)
    return "" if unit is None else unit.name_zh


def _review_body(session: Session, case: Case) -> str:
    unit = session.get(OrgUnit, case.unit_id)
    parent = parent_unit(session, unit) if unit is not None else None
    body = parent or unit
    return body.name_zh if body is not None else ""


def send_letter(
    session: Session, case: Case, petition: Petition, kind: str, *, office: OrgUnit | None = None,
    now: dt.datetime, **context: Any,
) -> None:  # fmt: skip
    zone = load_calendar(session).zone

    def day(name: str) -> dt.date:
        return letters.last_day(_due(session, case, name), zone)

    dates: dict[str, dt.date] = {}
    if kind == "registered":
        dates = {"received": petition.received_at.astimezone(zone).date(),
                 "register_by": day("register")}  # fmt: skip
        context["channel_zh"] = letters.CHANNELS_ZH[petition.channel]
    elif kind == "accepted":
        dates = {"accepted": now.astimezone(zone).date(), "handle_by": day("handle")}
        context["handler"] = _unit_name(session, case.unit_id)
    elif kind == "extended":
        dates = {"handle_by": day("handle"), "previous_by": context.pop("previous_by")}
    elif kind == "reply":
        dates = {"review_by": day("review_window")}
        context["review_body"] = _review_body(session, case)
    elif kind == "review":
        dates = {"rereview_by": day("rereview_window")}
        context["review_body"] = _review_body(session, case)
    letters.issue(
        session, case_id=case.id, kind=kind, number=case.number,
        addressee=petition.petitioner_name or "信访人", zone=zone, issued=now, dates=dates,
        office=(office.name_zh if office is not None else _unit_name(session, case.unit_id)),
        **context,
    )  # fmt: skip


def _last_forward_from(session: Session, case: Case) -> int | None:
    rows = session.scalars(
        select(CaseEvent.detail)
        .where(CaseEvent.case_id == case.id, CaseEvent.kind == "transition")
        .order_by(CaseEvent.id.desc())
    )
    for detail in rows:
        parsed = json.loads(detail)
        if parsed.get("transition") == "forward":
            found = parsed.get("fields", {}).get("from_unit_id")
            return int(found) if found is not None else None
    return None


def _move(case: Case, unit: OrgUnit) -> None:
    case.unit_id, case.unit_path, case.handler_id = unit.id, unit.path, None


def _window_open(session: Session, case: Case, name: str, now: dt.datetime, what: str) -> None:
    due = _due(session, case, name)
    if now >= due:
        zone = load_calendar(session).zone
        raise Conflict(
            f"{what} had to be asked by {letters.last_day(due, zone).isoformat()}",
            field="transition",
        )


def take(
    session: Session,
    *,
    case_ref: int | str,
    name: str,
    fields: dict[str, Any],
    actor: Principal,
    now: dt.datetime | None = None,
) -> Case:
    """Take a petition step with its statutory checks, its clocks and its letter."""
    now = now or utcnow()
    case, petition = get_petition(session, case_ref, actor=actor, purpose=f"step.{name}")
    step = WORKFLOW.transition(name, case.state)
    fields = dict(fields)
    target: OrgUnit | None = None
    letter: str | None = None
    context: dict[str, Any] = {}
    if name == "forward":
        raw = fields.get("unit_id")
        if not isinstance(raw, int):
            raise ValidationFailed("forward needs unit_id (an org unit id)", field="fields.unit_id")
        target = unit_or_error(session, raw, "fields.unit_id")
        _check_not_accused_unit(session, petition, target, "the handling body")
        fields["from_unit_id"] = case.unit_id
    elif name == "object":
        due = _due(session, case, "objection")
        if now > due:
            zone = load_calendar(session).zone
            raise Conflict(
                "the 5-working-day objection period ended on "
                f"{letters.last_day(due, zone).isoformat()}; the matter stays with this body",
                field="transition",
            )
        back = _last_forward_from(session, case)
        target = session.get(OrgUnit, back) if back is not None else None
    elif name == "accept":
        letter = "accepted"
    elif name == "decline":
        letter, context = "not_accepted", {"reason": str(fields.get("reason", ""))}
    elif name == "extend":
        days = fields.get("days")
        if petition.extension_days is not None:
            raise Conflict("handling may be extended only once", field="transition")
        if not isinstance(days, int) or not 1 <= days <= MAX_EXTENSION_DAYS:
            raise ValidationFailed(
                f"days must be an integer from 1 to {MAX_EXTENSION_DAYS}", field="fields.days"
            )
        if not str(fields.get("reason", "")).strip():
            raise ValidationFailed("an extension needs a reason", field="fields.reason")
        if now >= _due(session, case, "handle"):
            raise Conflict("the handling deadline has passed; it can no longer be extended",
                           field="transition")  # fmt: skip
    elif name == "reply":
        letter, context = "reply", {"opinion": str(fields.get("opinion", ""))}
    elif name == "request_review":
        _window_open(session, case, "review_window", now, "a review")
    elif name == "review":
        letter, context = "review", {"opinion": str(fields.get("opinion", ""))}
    elif name == "request_rereview":
        _window_open(session, case, "rereview_window", now, "a re-review")
    elif name == "rereview":
        letter, context = "rereview", {"opinion": str(fields.get("opinion", ""))}
    elif name == "close":
        reason = fields.get("reason")
        if reason not in CLOSE_REASONS:
            raise ValidationFailed(f"reason must be one of {', '.join(CLOSE_REASONS)}",
                                   field="fields.reason")  # fmt: skip
        window = {"replied": "review_window", "reviewed": "rereview_window"}[case.state]
        if reason == "window_lapsed" and now < _due(session, case, window):
            raise Conflict("the petitioner's window to ask for a review is still open",
                           field="fields.reason")  # fmt: skip
    # The reviewing body is the superior of the body that decided; the case moves up to it.
    if name in ("request_review", "request_rereview"):
        unit = session.get(OrgUnit, case.unit_id)
        up = parent_unit(session, unit) if unit is not None else None
        target = up
    token = IN_SERVICE.set(True)
    try:
        actions.transition(session, case=case, name=step.name, fields=fields, actor=actor, now=now)
    finally:
        IN_SERVICE.reset(token)
    if target is not None and name in ("forward", "object", "request_review", "request_rereview"):
        moved = {"from": case.unit_id, "to": target.id}
        _move(case, target)
        if name == "forward":
            case.department = str(fields.get("department") or "")
        add_event(session, case, kind="transfer", actor=actor.actor, at=now,
                  detail={"unit": moved, "reason": name})  # fmt: skip
    if name == "extend":
        previous = _due(session, case, "handle")
        days = int(fields["days"])
        cal = load_calendar(session)
        extended = clocks.extend(
            session, case=case, name="handle", amount=days, cal=cal,
            near_fraction=WORKFLOW.near_fraction,
        )  # fmt: skip
        change = {"changes": [f"handle:extended:{days}d"], "due_at": extended.due_at}
        add_event(session, case, kind="clock", actor=actor.actor, at=now, detail=change)
        petition.extension_days, petition.extended_at = days, now
        petition.extension_reason = str(fields["reason"])
        letter = "extended"
        context = {"reason": petition.extension_reason, "days": days,
                   "previous_by": letters.last_day(previous, cal.zone)}  # fmt: skip
    if name == "rereview":
        petition.exhausted = True
    if letter is not None:
        send_letter(session, case, petition, letter, now=now, **context)
    session.flush()
    return case


def close_lapsed(session: Session, *, now: dt.datetime | None = None) -> list[str]:
    """Close the replied (or reviewed) matters whose review window passed unused."""
    now = now or utcnow()
    lapsed = session.execute(
        select(Case.id, Case.number)
        .join(CaseClock, CaseClock.case_id == Case.id)
        .where(
            Case.case_type == WORKFLOW.key,
            Case.state.in_(("replied", "reviewed")),
            CaseClock.name.in_(("review_window", "rereview_window")),
            CaseClock.status == clocks.RUNNING,
            CaseClock.due_at <= now,
        )
        .order_by(Case.id)
    ).all()
    system = Principal.system("petitions")
    for case_id, _number in lapsed:
        take(session, case_ref=int(case_id), name="close", fields={"reason": "window_lapsed"},
             actor=system, now=now)  # fmt: skip
    return [str(n) for _i, n in lapsed]
