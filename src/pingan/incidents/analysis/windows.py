"""Time windows: default ends, whole time steps, and the period before a period."""

from __future__ import annotations

import datetime as dt

from pingan.incidents.service import city_zone
from pingan.kit.db import utcnow

STEP_SECONDS = {"day": 86_400, "week": 7 * 86_400}


def end_of_today() -> dt.datetime:
    """The next midnight in the city's zone, in UTC: a window up to now holds all of today."""
    zone = city_zone()
    local = utcnow().astimezone(zone)
    midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return midnight.astimezone(dt.UTC)


def iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()
