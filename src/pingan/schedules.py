"""The periodic work every server's job worker does, each period exactly once.

Acknowledgement deadlines in dispatch are tens of seconds, case SLAs are
hours to days, early warning is daily: the periods follow from that.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import Engine

# Importing the modules registers their job kinds.
from pingan.alerts import federation as _alert_federation  # issue 4
from pingan.alerts import runs as _alert_runs
from pingan.alerts import watch as _alert_watch
from pingan.alerts import webhooks as _alert_webhooks  # issue 4
from pingan.cameras import health as _camera_health
from pingan.cameras import health_probe as _camera_probe
from pingan.cameras import planning as _camera_plans  # noqa: F401
from pingan.cases import escalation as _case_escalation  # noqa: F401
from pingan.governance import petitions_jobs as _petitions_jobs
from pingan.kit import jobs
from pingan.ops import retention as _retention
from pingan.reports import jobs as _report_jobs

DISPATCH_ESCALATIONS = "dispatch.escalations"


@jobs.register(DISPATCH_ESCALATIONS, "Time out unacknowledged dispatch assignments")
def _dispatch_escalations(
    engine: Engine, params: dict[str, Any], progress: jobs.Progress
) -> dict[str, Any]:
    from pingan.dispatch.assignments import run_dispatch_escalations

    report = run_dispatch_escalations(engine)
    return dataclasses.asdict(report)


DISPATCH_ROSTER = "dispatch.roster"


@jobs.register(DISPATCH_ROSTER, "Apply duty shift starts and ends")
def _dispatch_roster(
    engine: Engine, params: dict[str, Any], progress: jobs.Progress
) -> dict[str, Any]:
    from pingan.dispatch.shifts import run_roster

    return dataclasses.asdict(run_roster(engine))


def install(engine: Engine | None = None) -> None:
    """Register the periodic work; with an engine, schedule settings are checked against it."""
    jobs.schedule(DISPATCH_ESCALATIONS, every_seconds=10)
    jobs.schedule(DISPATCH_ROSTER, every_seconds=60)
    jobs.schedule("cases.escalations", every_seconds=60)
    jobs.schedule(_petitions_jobs.CLOSE_LAPSED, every_seconds=3600)  # issue 8: lapsed windows
    # Early warning (issue 4): PINGAN_ALERTS_SCHEDULES (hourly/daily, per type); default daily.
    _alert_runs.install_schedules(engine)
    jobs.schedule(_alert_watch.KIND, every_seconds=30)  # key-site watch rules
    jobs.schedule(_alert_webhooks.KIND, every_seconds=15)  # issue 4: webhook outbox
    jobs.schedule(_alert_federation.KIND, every_seconds=300)  # issue 4: neighbours' feeds
    # Camera health (issue 5): silence shows within a minute; probes every 5 minutes.
    jobs.schedule(_camera_health.CHECK_KIND, every_seconds=60)
    jobs.schedule(_camera_probe.PROBE_KIND, every_seconds=300)
    jobs.schedule(_retention.PURGE_KIND, every_seconds=3600)  # retention purge (issue 11)
    # Briefings (issue 9): at 00:00 UTC, the due daily, weekly and monthly briefings.
    jobs.schedule(_report_jobs.SCHEDULED, every_seconds=86_400)
