"""Early-warning schedules: which detection runs the job worker enqueues, and when.

``PINGAN_ALERTS_SCHEDULES`` holds a JSON list, one object per schedule::

    [{"name": "burglary-hourly", "incident_types": ["burglary"], "every": "hourly"},
     {"name": "all-daily", "every": "daily", "replications": 499}]

``name`` (required, unique) keys the schedule; ``every`` is ``hourly`` or
``daily``; ``incident_types`` (default: all types) picks the types, each with
its subtypes; any other key is a run parameter (``lookback_days``,
``max_window_days``, ``methods``, ...), validated like a run submitted over
the API. Unset or empty means one daily run over all types, as before.

What a run analyses: a daily run (enqueued at 00:00 UTC) takes the calendar
days, in the city's zone, up to and including yesterday. An hourly run
(enqueued at the top of every UTC hour) takes the lookback as 24-hour spans
ending at the top of the current hour in the city's zone (the hour still
under way is left out): at 15:20 the last "day" is yesterday 15:00 to today
15:00, and the windows of the scan are the last 1..D such spans. Its alerts
carry the dates on which those spans end, so a cluster seen again an hour
later overlaps the open alert's window and merges into it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from pingan.incidents.service import city_zone
from pingan.kit import jobs
from pingan.kit.errors import PinganError

EVERY_SECONDS = {"hourly": 3600, "daily": 86_400}
SETTING = "PINGAN_ALERTS_SCHEDULES"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,59}$")
_RESERVED = {"name", "every", "day", "end_hour", "requested_by"}


class ScheduleConfigError(ValueError):
    """The schedules setting cannot be used; the message says which entry and why."""


@dataclass(frozen=True)
class RunSchedule:
    name: str
    every: str
    incident_types: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def job_params(self) -> dict[str, Any]:
        """What the scheduler stores on each job it enqueues for this schedule."""
        return {
            **self.params,
            "incident_types": list(self.incident_types),
            "every": self.every,
            "schedule": self.name,
        }


DEFAULT = [RunSchedule(name="alerts.daily", every="daily")]


def parse_schedules(text: str | None) -> list[RunSchedule]:
    """The schedules from the setting's JSON, or the default daily run when it is empty."""
    if text is None or not text.strip():
        return list(DEFAULT)
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScheduleConfigError(
            f"{SETTING} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(raw, list) or not raw:
        raise ScheduleConfigError(f"{SETTING} must be a non-empty JSON list of objects")
    out: list[RunSchedule] = []
    for i, entry in enumerate(raw):
        schedule = _parse_entry(i, entry)
        if any(s.name == schedule.name for s in out):
            raise ScheduleConfigError(f"{SETTING}[{i}]: name {schedule.name!r} is used twice")
        out.append(schedule)
    return out


def _parse_entry(i: int, entry: Any) -> RunSchedule:
    where = f"{SETTING}[{i}]"
    if not isinstance(entry, dict):
        raise ScheduleConfigError(f"{where} must be an object")
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ScheduleConfigError(
            f"{where}: name must be 1-60 letters, digits, '.', '_' or '-' (got {name!r})"
        )
    where = f"{where} ({name!r})"
    every = entry.get("every", "daily")
    if every not in EVERY_SECONDS:
        raise ScheduleConfigError(f"{where}: every must be 'hourly' or 'daily' (got {every!r})")
    types = entry.get("incident_types") or []
    if not isinstance(types, list) or not all(isinstance(t, str) and t for t in types):
        raise ScheduleConfigError(f"{where}: incident_types must be a list of type codes")
    params = {k: v for k, v in entry.items() if k not in {"name", "every", "incident_types"}}
    reserved = sorted(set(params) & _RESERVED)
    if reserved:
        raise ScheduleConfigError(f"{where}: {reserved[0]!r} is set by the schedule itself")
    from pingan.alerts.runs import params_from

    try:  # the run parameters are checked now, not at the first run
        params_from({**params, "incident_types": types, "day": "2000-01-01"})
    except PinganError as exc:
        raise ScheduleConfigError(f"{where}: {exc.detail}") from None
    return RunSchedule(name=name, every=every, incident_types=tuple(types), params=params)


def check_incident_types(engine: Engine, schedules: list[RunSchedule]) -> None:
    """Refuse schedules naming an incident type this database does not have."""
    wanted = {t for s in schedules for t in s.incident_types}
    if not wanted:
        return
    from pingan.incidents.taxonomy import type_table
    from pingan.kit.db import session_scope

    with session_scope(engine) as session:
        known = set(type_table(session))
    for s in schedules:
        for code in s.incident_types:
            if code not in known:
                raise ScheduleConfigError(
                    f"{SETTING}: schedule {s.name!r} names unknown incident type {code!r}"
                )


def install(schedules: list[RunSchedule], kind: str) -> None:
    """Register each schedule with the job scheduler (one meta key per name)."""
    for s in schedules:
        # The default keeps the kind as its name, so its period key stays the same.
        jobs.schedule(kind, every_seconds=EVERY_SECONDS[s.every], params=s.job_params, name=s.name)


def hourly_day(now: dt.datetime | None = None) -> tuple[dt.date, int]:
    """(day, end_hour) for a run over the 24-hour spans ending at the top of this hour."""
    local = (now or dt.datetime.now(dt.UTC)).astimezone(city_zone())
    if local.hour == 0:  # the spans end at midnight: the calendar days up to yesterday
        return local.date() - dt.timedelta(days=1), 24
    return local.date(), local.hour
