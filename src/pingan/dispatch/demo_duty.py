"""Demo only: the synthetic city's on-duty responders keep reporting where they are.

Recommendation only counts responders with a position from the last ten
minutes, as it must in production. In the demo nobody carries a phone, so
without this a new user's dispatch board would show no candidates ten
minutes after `pingan demo` started. `pingan demo` (and nothing else)
schedules this job; each run re-reports every on-duty responder's latest
position, nudged a few metres, through the same intake as real phones.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import Engine, select

from pingan.dispatch.positions import ingest_positions
from pingan.dispatch.responder_models import Availability, Responder, ResponderPosition
from pingan.kit import jobs
from pingan.kit.db import session_scope, utcnow
from pingan.org.principal import Principal

KIND = "dispatch.demo_duty"
EVERY_SECONDS = 120
# About 20 m in latitude: responders stand or stroll, they do not teleport.
_NUDGE_DEGREES = 0.0002
_ACTOR = Principal.system("demo")


def keep_on_duty_reporting(engine: Engine, *, seed: int | None = None) -> int:
    """Re-report every on-duty responder's position now; returns how many were reported."""
    rng = np.random.default_rng(seed)
    now = utcnow()
    with session_scope(engine) as session:
        rows = session.execute(
            select(ResponderPosition.responder_id, ResponderPosition.lon, ResponderPosition.lat)
            .join(Responder, Responder.id == ResponderPosition.responder_id)
            .where(Responder.availability != Availability.OFF_DUTY.value)
            .order_by(ResponderPosition.responder_id)
        ).all()
        if not rows:
            return 0
        nudge = rng.uniform(-_NUDGE_DEGREES, _NUDGE_DEGREES, size=(len(rows), 2))
        report = ingest_positions(
            session,
            responder_ids=[int(r.responder_id) for r in rows],
            lon=[float(r.lon) + float(d[0]) for r, d in zip(rows, nudge, strict=True)],
            lat=[float(r.lat) + float(d[1]) for r, d in zip(rows, nudge, strict=True)],
            at=[now] * len(rows),
            actor=_ACTOR,
            now=now,
        )
    return report.accepted


@jobs.register(KIND, "Demo: on-duty responders keep reporting their positions")
def _demo_duty(engine: Engine, params: dict[str, Any], progress: jobs.Progress) -> dict[str, Any]:
    return {"reported": keep_on_duty_reporting(engine)}


def schedule() -> None:
    """Called by `pingan demo` only: production positions come from real phones."""
    jobs.schedule(KIND, every_seconds=EVERY_SECONDS)
