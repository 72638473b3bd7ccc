"""HTTP routes of the legal outreach register (/api/v1/outreach)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from pingan.api.deps import CurrentPrincipal, DbSession
from pingan.governance import outreach_service as service
from pingan.governance.outreach_models import OutreachActivity
from pingan.governance.outreach_service import ActivityIn
from pingan.org.levels import Level

router = APIRouter(prefix="/api/v1/outreach", tags=["outreach"])


class ActivityOut(BaseModel):
    id: int
    kind: str
    title: str
    held_on: dt.date
    unit_id: int
    attendance: int
    hours: float | None
    organiser: str
    note: str


def _out(a: OutreachActivity) -> ActivityOut:
    return ActivityOut(
        id=a.id, kind=a.kind, title=a.title, held_on=a.held_on, unit_id=a.unit_id,
        attendance=a.attendance, hours=a.hours, organiser=a.organiser, note=a.note,
    )  # fmt: skip


@router.post("/activities", response_model=ActivityOut, status_code=201)
def record(body: ActivityIn, principal: CurrentPrincipal, session: DbSession) -> ActivityOut:
    """Record a law lecture, mobile or circuit court sitting, pro bono hours, legal clinic."""
    return _out(service.record(session, activity_in=body, actor=principal))


@router.get("/activities", response_model=list[ActivityOut])
def activities(
    principal: CurrentPrincipal, session: DbSession, start: dt.date, end: dt.date
) -> list[ActivityOut]:
    """Activities held in [start, end) in your scope."""
    return [
        _out(a) for a in service.list_activities(session, actor=principal, start=start, end=end)
    ]


@router.get("/counts")
def counts(
    principal: CurrentPrincipal,
    session: DbSession,
    start: dt.date,
    end: dt.date,
    area_level: Level = Level.DISTRICT,
    by: Literal["day", "month", "all"] = "month",
) -> list[dict[str, object]]:
    """Activities, attendance and lawyers' hours by area, period and kind."""
    rows = service.counts(
        session, actor=principal, start=start, end=end, area_level=area_level, by=by
    )
    return [asdict(r) for r in rows]
