"""Demo data for the open interfaces: a stored hotspot run, so QGIS has a hotspots layer to read."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select

from pingan.kit import jobs
from pingan.kit.db import session_scope, utcnow
from pingan.ogc.layers import HOTSPOT_KIND
from pingan.org.principal import Principal


def seed_demo_hotspot_run(engine: Engine) -> int | None:
    """Queue one Gi* run over the last 90 days for the job worker; no-op once any exists."""
    from pingan.incidents.analysis.runs import submit_run

    with session_scope(engine) as session:
        if session.scalar(select(jobs.Job.id).where(jobs.Job.kind == HOTSPOT_KIND).limit(1)):
            return None
        since = (utcnow() - dt.timedelta(days=90)).isoformat()
        job = submit_run(
            session,
            kind=HOTSPOT_KIND,
            params={"since": since, "significant_only": True},
            actor=Principal.system("demo"),
        )
        return job.id
