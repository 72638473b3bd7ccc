"""Demo seeding: queue the demo city's briefings so the archive is not empty.

Generating a city-wide briefing takes tens of seconds at demo scale, so the
demo queues the jobs and the server's job worker makes them in the background.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select

from pingan.incidents.service import city_zone
from pingan.kit import jobs
from pingan.kit.db import session_scope, utcnow
from pingan.org.models import OrgUnit
from pingan.org.principal import Principal
from pingan.reports.jobs import BRIEFING, submit_briefing
from pingan.reports.models import Briefing


def seed_demo_reports(engine: Engine) -> int:
    """Queue last month's and last week's city briefings; a no-op once any exists or is queued."""
    with session_scope(engine) as session:
        if session.scalar(select(Briefing.id).limit(1)) is not None:
            return 0
        if session.scalar(select(jobs.Job.id).where(jobs.Job.kind == BRIEFING).limit(1)):
            return 0
        city = session.scalar(select(OrgUnit).where(OrgUnit.level == "city").order_by(OrgUnit.id))
        if city is None:
            return 0
        today = utcnow().astimezone(city_zone()).date()
        last_month = today.replace(day=1) - dt.timedelta(days=1)
        last_week = today - dt.timedelta(days=today.isoweekday())
        system = Principal.system("demo")
        for kind, day in (("monthly", last_month), ("weekly", last_week)):
            submit_briefing(session, kind=kind, unit=city, day=day, actor=system)
    return 2
