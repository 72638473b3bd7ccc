"""HTTP routes of dispatch: responders, positions, recommendation, assignments, KPIs.

Thin: parse, call the service (which enforces org scope), shape the answer.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import shapely
from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from pingan.api.deps import CurrentPrincipal, DbSession
from pingan.dispatch import assignments, events, positions, recommend, responders
from pingan.dispatch.kpis import Targets, response_kpis
from pingan.dispatch.schemas import (
    AssignmentOut,
    AvailabilityIn,
    CandidateOut,
    DispatchIn,
    PositionsIn,
    PositionsOut,
    RecommendIn,
    RejectedRow,
    ResponderIn,
    ResponderOut,
    ResponderPatch,
    StatusIn,
    TimelineOut,
    UnitIn,
    UnitOut,
)
from pingan.kit.db import utcnow
from pingan.kit.errors import ValidationFailed
from pingan.org.permissions import Perm

router = APIRouter(prefix="/api/v1/dispatch", tags=["dispatch"])


@router.get("/responders")
def list_responders(
    principal: CurrentPrincipal,
    session: DbSession,
    tier: int | None = Query(None, ge=1, le=3),
    availability: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
    after_id: int | None = None,
) -> list[ResponderOut]:
    """Responders whose home unit is in your dispatch scope."""
    rows = responders.list_responders(
        session, actor=principal, tier=tier, availability=availability, limit=limit,
        after_id=after_id,
    )  # fmt: skip
    return [ResponderOut.model_validate(r) for r in rows]


@router.post("/responders", status_code=201)
def create_responder(
    body: ResponderIn, principal: CurrentPrincipal, session: DbSession
) -> ResponderOut:
    return ResponderOut.model_validate(
        responders.create_responder(session, responder_in=body, actor=principal)
    )


@router.get("/responders/{responder_id}")
def get_responder(
    responder_id: int, principal: CurrentPrincipal, session: DbSession
) -> ResponderOut:
    return ResponderOut.model_validate(
        responders.get_responder(session, responder_id, actor=principal)
    )


@router.patch("/responders/{responder_id}")
def update_responder(
    responder_id: int, body: ResponderPatch, principal: CurrentPrincipal, session: DbSession
) -> ResponderOut:
    return ResponderOut.model_validate(
        responders.update_responder(session, responder_id=responder_id, patch=body, actor=principal)
    )


@router.put("/responders/{responder_id}/availability")
def set_availability(
    responder_id: int, body: AvailabilityIn, principal: CurrentPrincipal, session: DbSession
) -> ResponderOut:
    """Set by the responder themself, or by a dispatcher in scope. Off duty forgets positions."""
    return ResponderOut.model_validate(
        responders.set_availability(
            session, responder_id=responder_id, availability=body.availability, actor=principal
        )
    )


@router.get("/units")
def list_units(principal: CurrentPrincipal, session: DbSession) -> list[UnitOut]:
    units = responders.list_units(session, actor=principal)
    members = responders.unit_members(session, [u.id for u in units])
    return [UnitOut.model_validate(u).model_copy(update={"members": members[u.id]}) for u in units]


@router.post("/units", status_code=201)
def create_unit(body: UnitIn, principal: CurrentPrincipal, session: DbSession) -> UnitOut:
    return UnitOut.model_validate(responders.create_unit(session, unit_in=body, actor=principal))


@router.post("/positions")
def post_positions(
    body: PositionsIn, principal: CurrentPrincipal, session: DbSession
) -> PositionsOut:
    """A batch of location fixes as parallel arrays; each bad row is reported, good rows kept."""
    report = positions.ingest_positions(
        session, responder_ids=body.responder_id, lon=body.lon, lat=body.lat, at=body.at,
        actor=principal,
    )  # fmt: skip
    return PositionsOut(
        accepted=report.accepted,
        rejected=[
            RejectedRow(index=i, responder_id=r, reason=why) for i, r, why in report.rejected
        ],
    )


def _geojson(geom: Any) -> dict[str, Any] | None:
    return None if geom is None else dict(json.loads(shapely.to_geojson(geom)))


@router.post("/recommend")
def recommend_responders(
    body: RecommendIn, principal: CurrentPrincipal, session: DbSession
) -> list[CandidateOut]:
    """The k best available responders by road travel time, for an incident or a point."""
    if body.incident_id is not None:
        incident, _ = assignments.incident_for_dispatch(
            session, body.incident_id, principal, Perm.DISPATCH_WRITE
        )
        lon, lat = incident.lon, incident.lat
    elif body.lon is not None and body.lat is not None:
        lon, lat = body.lon, body.lat
    else:
        raise ValidationFailed("give incident_id, or lon and lat", field="incident_id")
    found = recommend.recommend(
        session, lon=lon, lat=lat, actor=principal, k=body.k,
        filters=recommend.Filters(
            tier=body.tier, skill=body.skill,
            kind=None if body.kind is None else body.kind.value, within_m=body.within_m,
        ),
    )  # fmt: skip
    recommend.record_read(session, actor=principal, target=(lon, lat), found=found)
    return [
        CandidateOut(
            responder_id=c.responder_id, display_name=c.display_name, tier=c.tier, kind=c.kind,
            eta_s=c.eta_s, straight_m=round(c.straight_m, 1), route=_geojson(c.route),
        )
        for c in found
    ]  # fmt: skip


@router.post("/incidents/{incident_id}/dispatch", status_code=201)
def dispatch_incident(
    incident_id: int, body: DispatchIn, principal: CurrentPrincipal, session: DbSession
) -> list[AssignmentOut]:
    """Send the named responders, or (with none named) those the response plan asks for."""
    made = assignments.dispatch_incident(
        session, incident_id=incident_id, actor=principal, responder_ids=body.responder_ids
    )
    return [AssignmentOut.model_validate(a) for a in made]


@router.get("/incidents/{incident_id}/assignments")
def list_assignments(
    incident_id: int, principal: CurrentPrincipal, session: DbSession
) -> list[AssignmentOut]:
    rows = assignments.list_assignments(session, incident_id=incident_id, actor=principal)
    return [AssignmentOut.model_validate(a) for a in rows]


@router.get("/incidents/{incident_id}/timeline")
def incident_timeline(
    incident_id: int, principal: CurrentPrincipal, session: DbSession
) -> list[TimelineOut]:
    rows = assignments.incident_timeline(session, incident_id=incident_id, actor=principal)
    return [
        TimelineOut(at=e.at, kind=e.kind, actor=e.actor, assignment_id=e.assignment_id,
                    detail=json.loads(e.detail))
        for e in rows
    ]  # fmt: skip


@router.get("/me/assignments")
def my_assignments(principal: CurrentPrincipal, session: DbSession) -> list[AssignmentOut]:
    """For a responder's phone: their own active assignments, to acknowledge and update."""
    rows = assignments.my_assignments(session, actor=principal)
    return [AssignmentOut.model_validate(a) for a in rows]


@router.post("/assignments/{assignment_id}/status")
def set_assignment_status(
    assignment_id: int, body: StatusIn, principal: CurrentPrincipal, session: DbSession
) -> AssignmentOut:
    """Acknowledge, en route, on scene, cleared (or cancel); by the responder or a dispatcher."""
    return AssignmentOut.model_validate(
        assignments.set_status(
            session, assignment_id=assignment_id, status=body.status, actor=principal
        )
    )


@router.get("/events")
def dispatch_events(
    request: Request,
    principal: CurrentPrincipal,
    session: DbSession,
    after_id: int = Query(0, ge=0, description="The SSE id of the last event already seen"),
    max_seconds: float = Query(300.0, gt=0, le=3600),
) -> StreamingResponse:
    """Server-Sent Events: every dispatch timeline step in your scope as it happens."""
    events.entries_after(session, actor=principal, after_id=after_id, limit=1)  # 403 early
    # An async body: the connection waits on the process's shared dispatch hub, not a thread.
    return StreamingResponse(
        events.stream(
            events.hub_for(request.app.state), actor=principal, after_id=after_id,
            max_seconds=max_seconds,
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache"},
    )  # fmt: skip


@router.get("/kpis")
def kpis(
    principal: CurrentPrincipal,
    session: DbSession,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    call_to_dispatch_s: float = Query(60.0, gt=0),
    turnout_s: float = Query(60.0, gt=0),
    travel_s: float = Query(240.0, gt=0),
) -> list[dict[str, Any]]:
    """Response-time KPIs per district and tier (default: the last 7 days)."""
    until = until or utcnow()
    since = since or until - dt.timedelta(days=7)
    if since.tzinfo is None or until.tzinfo is None:
        raise ValidationFailed("since and until need a UTC offset", field="since")
    rows = response_kpis(
        session, actor=principal, since=since, until=until,
        targets=Targets(call_to_dispatch_s, turnout_s, travel_s),
    )  # fmt: skip
    return [
        {"district_id": r.district_id, "tier": r.tier, "assignments": r.assignments,
         "intervals": {k: v.__dict__ for k, v in r.intervals.items()}}
        for r in rows
    ]  # fmt: skip
