"""Briefings as jobs: one briefing on request, and the scheduled run that makes the due ones.

The scheduled run (daily) makes, for the city and each district, the weekly
briefing on Mondays, the monthly one on the first of the month, and during a
sensitive period (``pingan report sensitive --until D``) a daily briefing of
the 24 hours up to this morning (08:00 city time, when the job runs). A
briefing already archived for a unit and period is not made again, so a rerun
of the same day adds nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pingan.incidents.service import city_zone
from pingan.kit import jobs, meta
from pingan.kit.db import session_scope, utcnow
from pingan.kit.errors import Forbidden, ValidationFailed
from pingan.org.models import OrgUnit
from pingan.org.principal import Principal
from pingan.org.users import get_user_by_name, principal_for
from pingan.reports import briefings
from pingan.reports.models import Briefing
from pingan.reports.periods import BriefingKind, briefing_period

BRIEFING = "reports.briefing"
SCHEDULED = "reports.scheduled"
SENSITIVE_KEY = "reports.sensitive_until"
SCHEDULED_LEVELS = ("city", "district")


def requested_by(actor: Principal) -> dict[str, Any]:
    return {"username": actor.username, "system": actor.is_system, "api_key_id": actor.api_key_id}


def _principal(session: Session, requested: dict[str, Any]) -> Principal:
    """The requester with their grants as they stand when the job runs."""
    if requested.get("system"):
        return Principal.system(str(requested["username"]))
    user = get_user_by_name(session, str(requested["username"]))
    if not user.is_active:
        raise Forbidden(f"user {user.username!r} is no longer active")
    return principal_for(session, user, via="job", api_key_id=requested.get("api_key_id"))


def submit_briefing(
    session: Session,
    *,
    kind: str,
    unit: OrgUnit,
    day: dt.date,
    actor: Principal,
    sensitive: bool = False,
    lang: str = "zh",
) -> jobs.Job:
    """Queue a briefing; what can be refused without work is refused now."""
    from pingan.org.permissions import Perm
    from pingan.reports.i18n import LANGUAGES

    if kind not in briefings.KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(briefings.KINDS)}", field="kind")
    if lang not in LANGUAGES:
        raise ValidationFailed(f"language must be one of {', '.join(LANGUAGES)}", field="lang")
    actor.require(Perm.REPORTS_WRITE, unit.path)
    params = {"kind": kind, "unit_id": unit.id, "date": day.isoformat(), "sensitive": sensitive,
              "lang": lang, "requested_by": requested_by(actor)}  # fmt: skip
    return jobs.submit(session, kind=BRIEFING, params=params, created_by=actor.actor)


@jobs.register(BRIEFING, "Generate one briefing and archive it as a draft (PDF on first download)")
def briefing_job(engine: Engine, params: dict[str, Any], progress: jobs.Progress) -> dict[str, Any]:
    with session_scope(engine) as session:
        actor = _principal(session, params["requested_by"])
    briefing_id = briefings.generate(
        engine, kind=params["kind"], unit_id=int(params["unit_id"]),
        day=dt.date.fromisoformat(params["date"]), actor=actor,
        sensitive=bool(params.get("sensitive")), lang=str(params.get("lang", "zh")), pdf=False,
        progress=progress,
    )  # fmt: skip
    return {"briefing_id": briefing_id}


def sensitive_until(session: Session) -> dt.date | None:
    value = meta.get_value(session, SENSITIVE_KEY)
    return None if not value else dt.date.fromisoformat(value)


def set_sensitive_until(session: Session, day: dt.date | None, *, actor: Principal) -> None:
    """Declare a sensitive period up to and including ``day`` (None ends it)."""
    from pingan.kit import audit
    from pingan.org.permissions import Perm

    actor.require(Perm.REPORTS_PUBLISH)
    meta.set_value(session, SENSITIVE_KEY, "" if day is None else day.isoformat())
    audit.record(
        session, actor=actor.actor, action="reports.sensitive_period", object_type="setting",
        object_id=SENSITIVE_KEY, detail={"until": None if day is None else day.isoformat()},
    )  # fmt: skip


def due_briefings(session: Session, today: dt.date) -> list[tuple[BriefingKind, dt.date]]:
    """Which briefings the scheduled run makes on ``today`` (a local date)."""
    yesterday = today - dt.timedelta(days=1)
    due: list[tuple[BriefingKind, dt.date]] = []
    until = sensitive_until(session)
    if until is not None and yesterday <= until:
        due.append(("daily", yesterday))
    if today.isoweekday() == 1:
        due.append(("weekly", yesterday))
    if today.day == 1:
        due.append(("monthly", yesterday))
    return due


@jobs.register(SCHEDULED, "Make the briefings that are due today (daily, weekly, monthly)")
def scheduled_job(
    engine: Engine, params: dict[str, Any], progress: jobs.Progress
) -> dict[str, Any]:
    today = (
        dt.date.fromisoformat(params["today"])
        if params.get("today")
        else utcnow().astimezone(city_zone()).date()
    )
    system = Principal.system("scheduler")
    with session_scope(engine) as session:
        due = due_briefings(session, today)
        units = [
            (u.id, u.code)
            for u in session.scalars(
                select(OrgUnit).where(OrgUnit.level.in_(SCHEDULED_LEVELS)).order_by(OrgUnit.path)
            )
        ]
        todo = []
        for kind, day in due:
            # A daily is only due in a sensitive period: it covers the 24 h to this morning.
            period = briefing_period(kind, day, sensitive=kind == "daily")
            for unit_id, code in units:
                exists = session.scalar(
                    select(Briefing.id).where(
                        Briefing.kind == kind,
                        Briefing.org_unit_id == unit_id,
                        Briefing.period_start == period.start,
                    )
                )
                if exists is None:
                    todo.append((kind, day, unit_id, code))
    made = []
    for index, (kind, day, unit_id, code) in enumerate(todo):
        progress(index / max(1, len(todo)), f"{kind} {code}")
        made.append(
            briefings.generate(
                engine,
                kind=kind,
                unit_id=unit_id,
                day=day,
                actor=system,
                sensitive=kind == "daily",
                pdf=False,
            )
        )
    return {"today": today.isoformat(), "due": [k for k, _ in due], "briefing_ids": made}
