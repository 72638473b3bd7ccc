"""The ``alerts.daily`` job: parameters in, the day's detection run, summary out.

The same job serves every early-warning schedule (``run_schedules``): an
hourly one analyses the 24-hour spans ending at the top of the current hour.
The Dask scheduler for the scan comes from ``PINGAN_DASK_SCHEDULER`` only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pingan.alerts import run_schedules
from pingan.alerts.detect import DailyParams, run_daily
from pingan.incidents.service import city_zone
from pingan.kit import jobs
from pingan.kit.db import session_scope
from pingan.kit.errors import Forbidden, ValidationFailed
from pingan.org.principal import Principal
from pingan.org.users import get_user_by_name, principal_for
from pingan.settings import get_settings

KIND = "alerts.daily"


def yesterday() -> dt.date:
    return dt.datetime.now(city_zone()).date() - dt.timedelta(days=1)


def params_from(raw: dict[str, Any]) -> DailyParams:
    """Validated run parameters from JSON (the day defaults to yesterday in the city's zone)."""
    allowed = set(DailyParams.__dataclass_fields__) - {"day", "incident_types"}
    unknown = set(raw) - allowed - {"day", "incident_types"}
    if unknown:
        raise ValidationFailed(f"unknown parameter {sorted(unknown)[0]!r}", field="params")
    try:
        day = dt.date.fromisoformat(str(raw["day"])) if raw.get("day") else yesterday()
    except ValueError:
        raise ValidationFailed("day must be an ISO date (YYYY-MM-DD)", field="day") from None
    types = tuple(str(t) for t in raw.get("incident_types") or ())
    try:
        values = {k: type(getattr(DailyParams, k))(raw[k]) for k in allowed if k in raw}
    except (TypeError, ValueError):
        raise ValidationFailed("a numeric parameter has a bad value", field="params") from None
    params = DailyParams(day=day, incident_types=types, **values)
    params.check()
    return params


def submit(session: Session, *, raw: dict[str, Any], actor: Principal) -> jobs.Job:
    """Queue a daily run for the caller, refusing bad parameters before queueing."""
    params = params_from(raw)
    stored = {
        **{k: getattr(params, k) for k in DailyParams.__dataclass_fields__},
        "day": params.day.isoformat(),
        "incident_types": list(params.incident_types),
        "requested_by": {"username": actor.username, "system": actor.is_system},
    }
    return jobs.submit(session, kind=KIND, params=stored, created_by=actor.actor)


def _principal(session: Session, requested: dict[str, Any]) -> Principal:
    # The requester as they stand now: a revoked grant no longer counts.
    if requested.get("system"):
        return Principal.system(str(requested["username"]))
    user = get_user_by_name(session, str(requested["username"]))
    if not user.is_active:
        raise Forbidden(f"user {user.username!r} is no longer active")
    return principal_for(session, user, via="job")


def install_schedules(engine: Engine | None = None) -> list[run_schedules.RunSchedule]:
    """Register the early-warning schedules of ``PINGAN_ALERTS_SCHEDULES`` (default: daily).

    Bad JSON, an unknown ``every`` or a bad run parameter raise here, at
    startup; with an engine, so does an incident type the database lacks.
    """
    found = run_schedules.parse_schedules(get_settings().alerts_schedules)
    if engine is not None:
        run_schedules.check_incident_types(engine, found)
    run_schedules.install(found, KIND)
    return found


def _clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@jobs.register(KIND, "Early warning (daily or hourly): space-time scan and EARS C3 -> alerts")
def daily_job(engine: Engine, stored: dict[str, Any], progress: jobs.Progress) -> dict[str, Any]:
    requested = stored.get("requested_by") or {"username": "scheduler", "system": True}
    raw = {k: v for k, v in stored.items() if k not in {"requested_by", "every", "schedule"}}
    if stored.get("every") == "hourly":
        day, end_hour = run_schedules.hourly_day(_clock())
        raw = {**raw, "day": day.isoformat(), "end_hour": end_hour}
    scheduler = get_settings().dask_scheduler.strip() or None
    with session_scope(engine) as session:
        actor = _principal(session, requested)
        progress(0.05, "detecting")
        result = run_daily(session, params_from(raw), actor=actor, scheduler=scheduler)
    progress(1.0, f"{result['created']} new alerts, {result['merged']} merged")
    if "schedule" in stored:
        result = {**result, "schedule": stored["schedule"], "end_hour": raw.get("end_hour", 24)}
    return result
