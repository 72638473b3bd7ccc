"""HTTP routes of alerts: list and read within scope, lifecycle changes, daily runs (jobs)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse

from pingan.alerts import runs, service, watch, webhooks_views
from pingan.alerts.models import AlertStatus
from pingan.alerts.schemas import AlertOut, DismissIn, ReasonIn, RunIn, RunOut
from pingan.alerts.stream import events, hub_for, parse_cursor
from pingan.alerts.watch_schemas import ActiveIn, WatchRuleIn, WatchRuleOut
from pingan.api.deps import CurrentPrincipal, DbSession
from pingan.kit.db import utcnow

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])


@router.get("", response_model=list[AlertOut])
def list_alerts(
    principal: CurrentPrincipal,
    session: DbSession,
    status: str | None = Query(None, description="new, acknowledged, resolved or dismissed"),
    method: str | None = Query(None, description="scan.space_time_permutation or ears.c3"),
    since: dt.date | None = Query(None, description="Windows ending on or after this day"),
    until: dt.date | None = Query(None, description="Windows starting on or before this day"),
    org_unit_id: int | None = Query(None, description="Only alerts inside this org unit"),
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0),
) -> list[AlertOut]:
    """Alerts in your scope, newest window first."""
    found = service.list_alerts(
        session, actor=principal, status=status, method=method, since=since, until=until,
        org_unit_id=org_unit_id, limit=limit, offset=offset,
    )  # fmt: skip
    areas = service.area_geometries(session, found)
    return [AlertOut.of(a, area) for a, area in zip(found, areas, strict=True)]


@router.get("/stream", response_class=StreamingResponse)
def stream(
    request: Request,
    principal: CurrentPrincipal,
    since: str | None = Query(None, description="Only changes after this time (ISO)"),
    max_seconds: float = Query(300.0, ge=0, le=3600, description="End the stream after this"),
    last_event_id: str | None = Header(None),
) -> StreamingResponse:
    """Server-Sent Events: every alert in your scope as it is created or changes."""
    principal.require(service.READ)
    cursor = parse_cursor(last_event_id) or parse_cursor(since) or utcnow()
    # An async body: the connection waits on the process's shared alert hub, not a thread.
    body = events(hub_for(request.app.state), principal, cursor, max_seconds=max_seconds)
    return StreamingResponse(
        body, media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


@router.get("/watch-rules", response_model=list[WatchRuleOut])
def list_watch_rules(principal: CurrentPrincipal, session: DbSession) -> list[WatchRuleOut]:
    """Watch rules for key sites: checked against new incidents every 30 seconds."""
    return [WatchRuleOut.model_validate(r) for r in watch.list_rules(session, actor=principal)]


@router.post("/watch-rules", response_model=WatchRuleOut, status_code=201)
def add_watch_rule(
    body: WatchRuleIn, principal: CurrentPrincipal, session: DbSession
) -> WatchRuleOut:
    rule = watch.add_rule(session, watch.RuleIn(**body.model_dump()), actor=principal)
    return WatchRuleOut.model_validate(rule)


@router.post("/watch-rules/{rule_id}/active", response_model=WatchRuleOut)
def set_watch_rule_active(
    rule_id: int, body: ActiveIn, principal: CurrentPrincipal, session: DbSession
) -> WatchRuleOut:
    """Switch a rule on or off (rules are kept, not deleted, for the record)."""
    rule = watch.set_active(session, rule_id, body.active, actor=principal)
    return WatchRuleOut.model_validate(rule)


# Webhook routes (issue 4) go before /{alert_id}, which would otherwise catch /webhooks.
router.include_router(webhooks_views.router)


@router.get("/{alert_id}", response_model=AlertOut)
def get_alert(alert_id: int, principal: CurrentPrincipal, session: DbSession) -> AlertOut:
    """One alert (404 outside your scope)."""
    alert = service.get_alert(session, alert_id, actor=principal)
    return AlertOut.of(alert, service.area_geometry(session, alert))


def _move(
    session: DbSession,
    principal: CurrentPrincipal,
    alert_id: int,
    to: AlertStatus,
    reason: str | None,
) -> AlertOut:
    alert = service.transition(session, alert_id=alert_id, to=to, actor=principal, reason=reason)
    return AlertOut.of(alert, service.area_geometry(session, alert))


@router.post("/{alert_id}/acknowledge", response_model=AlertOut)
def acknowledge(
    alert_id: int, principal: CurrentPrincipal, session: DbSession, body: ReasonIn | None = None
) -> AlertOut:
    """new -> acknowledged."""
    reason = body.reason if body else None
    return _move(session, principal, alert_id, AlertStatus.ACKNOWLEDGED, reason)


@router.post("/{alert_id}/resolve", response_model=AlertOut)
def resolve(
    alert_id: int, principal: CurrentPrincipal, session: DbSession, body: ReasonIn | None = None
) -> AlertOut:
    """new or acknowledged -> resolved."""
    reason = body.reason if body else None
    return _move(session, principal, alert_id, AlertStatus.RESOLVED, reason)


@router.post("/{alert_id}/dismiss", response_model=AlertOut)
def dismiss(
    alert_id: int, body: DismissIn, principal: CurrentPrincipal, session: DbSession
) -> AlertOut:
    """new or acknowledged -> dismissed, with a reason."""
    return _move(session, principal, alert_id, AlertStatus.DISMISSED, body.reason)


@router.post("/runs", response_model=RunOut, status_code=202)
def create_run(
    body: RunIn,
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    session: DbSession,
) -> RunOut:
    """Queue a daily early-warning run; poll ``status_url`` for its summary."""
    principal.require(service.HANDLE)
    job = runs.submit(session, raw=body.params, actor=principal)
    session.commit()  # before waking the worker, so it finds the job
    worker = getattr(request.app.state, "job_worker", None)
    if worker is not None:
        worker.wake()
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return RunOut(id=job.id, kind=job.kind, status=job.status, status_url=f"/api/v1/jobs/{job.id}")
