"""The periodic work every server's job worker does, each period exactly once.

Acknowledgement deadlines in dispatch are tens of seconds, case SLAs are
hours to days, early warning is daily: the periods follow from that.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import Engine

# Importing the modules registers their job kinds.
from pingan.alerts import runs as _alert_runs
from pingan.alerts import watch as _alert_watch
from pingan.cases import escalation as _case_escalation  # noqa: F401
from pingan.kit import jobs

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


def install() -> None:
    jobs.schedule(DISPATCH_ESCALATIONS, every_seconds=10)
    jobs.schedule(DISPATCH_ROSTER, every_seconds=60)
    jobs.schedule("cases.escalations", every_seconds=60)
    jobs.schedule(_alert_runs.KIND, every_seconds=86_400)
    jobs.schedule(_alert_watch.KIND, every_seconds=30)  # key-site watch rules
