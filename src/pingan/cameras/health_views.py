"""HTTP routes of camera health: heartbeat batches, live state, outages, availability, probes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from pingan.api.deps import CurrentPrincipal, DbSession
from pingan.cameras import health, health_intake, health_probe
from pingan.cameras.health_availability import GroupBy, availability
from pingan.cameras.health_schemas import (
    AvailabilityOut,
    CameraHealthOut,
    CheckOut,
    HeartbeatIn,
    IntakeOut,
    OutageOut,
    ProbeOut,
    ProbeTargetIn,
    RejectedOut,
)
from pingan.kit.errors import PayloadTooLarge, ValidationFailed
from pingan.org.levels import Level

router = APIRouter(prefix="/api/v1/cameras/health", tags=["camera health"])

# Ids are 64-bit in the database: larger numbers are a 422, never a driver error.
MAX_ID = 2**63 - 1
CameraId = Annotated[int, Path(ge=1, le=MAX_ID)]
NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl")
_BATCH_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "array", "items": HeartbeatIn.model_json_schema()}
            },
            "application/x-ndjson": {
                "schema": {"type": "string", "description": "One HeartbeatIn object per line"}
            },
        },
    }
}


def _aware(value: dt.datetime | None, name: str) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValidationFailed(f"{name} needs a time zone offset", field=name)
    return value


@router.post("/heartbeats", response_model=IntakeOut, openapi_extra=_BATCH_DOC)
async def post_heartbeats(
    request: Request,
    principal: CurrentPrincipal,
    session: DbSession,
    owner: str | None = Query(
        None, description="Owner code: rows then name cameras by owner_camera_id"
    ),
) -> IntakeOut:
    """Status reports from cameras or owners' video systems (JSON array or NDJSON).

    Each report: ``camera_id``, ``at`` (ISO 8601 with offset, or epoch seconds),
    ``online``, and optional ``fps`` and ``bitrate_kbps``. An owner's video
    system may name its cameras by its own ids instead: ``?owner=CODE`` and
    ``owner_camera_id`` in each row. Bad rows are answered by index and
    reason; the good ones are applied.
    """
    body = await request.body()
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    limit = int(request.app.state.settings.camera_heartbeat_max_batch)

    def work() -> health_intake.IntakeReport:
        health.require_report(session, principal)
        rows, bad = health_intake.parse_body(body, ndjson=content_type in NDJSON_TYPES)
        if len(rows) > limit:
            raise PayloadTooLarge(f"a batch holds at most {limit} heartbeats, got {len(rows)}")
        if owner is not None:
            bad += health_intake.resolve_owner_ids(session, rows, owner)
        beats, rejected = health_intake.validate(rows, skip={r.index for r in bad})
        report = health_intake.ingest(session, beats, actor=principal)
        report.rejected = sorted(bad + rejected + report.rejected, key=lambda r: r.index)
        return report

    # Parsing and the database work run off the event loop.
    report = await run_in_threadpool(work)
    return IntakeOut(
        received=len(report.rejected) + report.accepted,
        accepted=report.accepted,
        cameras=report.cameras,
        went_offline=report.went_offline,
        recovered=report.recovered,
        rejected=[
            RejectedOut(index=r.index, field=r.field, reason=r.reason) for r in report.rejected
        ],
    )


@router.get("/cameras", response_model=list[CameraHealthOut])
def list_cameras(
    principal: CurrentPrincipal,
    session: DbSession,
    state: str | None = Query(None, pattern="^(online|offline|unknown)$"),
    network: str | None = Query(None),
    owner_id: int | None = Query(None, ge=1, le=MAX_ID),
    after_id: int = Query(0, ge=0, le=MAX_ID, description="Keyset: camera ids after this one"),
    limit: int = Query(100, ge=1, le=1000),
) -> list[CameraHealthOut]:
    """Live state of the cameras in your scope (unknown: never heard from)."""
    found = health.list_health(
        session, actor=principal, state=state, network=network, owner_id=owner_id,
        after_id=after_id, limit=limit,
    )  # fmt: skip
    return [CameraHealthOut.of(h) for h in found]


@router.get("/outages", response_model=list[OutageOut])
def list_outages(
    principal: CurrentPrincipal,
    session: DbSession,
    open_only: bool = Query(False, alias="open", description="Only outages still going on"),
    camera_id: int | None = Query(None, ge=1, le=MAX_ID),
    since: dt.datetime | None = Query(None, description="Outages overlapping this time or later"),
    until: dt.datetime | None = Query(None),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
) -> list[OutageOut]:
    """Outages (the camera-offline alerts) with the notices sent for each, newest first."""
    found = health.list_outages(
        session, actor=principal, open_only=open_only, camera_id=camera_id,
        since=_aware(since, "since"), until=_aware(until, "until"), limit=limit, offset=offset,
    )  # fmt: skip
    return [OutageOut.of(o) for o in found]


@router.get("/availability", response_model=list[AvailabilityOut])
def get_availability(
    principal: CurrentPrincipal,
    session: DbSession,
    since: dt.datetime = Query(description="Start of the period (ISO 8601 with offset)"),
    until: dt.datetime | None = Query(None, description="End of the period (default now)"),
    group_by: GroupBy = Query(GroupBy.NETWORK),
    level: Level = Query(Level.DISTRICT, description="Org level when grouping by area"),
) -> list[AvailabilityOut]:
    """Uptime % and MTTR per camera, network, owner or area over a period."""
    rows = availability(
        session, actor=principal, since=_aware(since, "since") or since,
        until=_aware(until, "until"), group_by=group_by, level=level,
    )  # fmt: skip
    return [AvailabilityOut.of(r) for r in rows]


@router.post("/check", response_model=CheckOut)
def run_check(principal: CurrentPrincipal, session: DbSession) -> CheckOut:
    """Run the periodic check now: mark silent cameras offline, send due reminders."""
    principal.require(health.REPORT)
    report = health.check(session, actor=principal)
    return CheckOut(went_silent=report.went_silent, notices=report.notices)


@router.put("/probes/{camera_id}", status_code=204)
def put_probe_target(
    camera_id: CameraId, body: ProbeTargetIn, principal: CurrentPrincipal, session: DbSession
) -> None:
    """Where the camera answers ONVIF (no credentials: the probe call needs none)."""
    health_probe.set_target(
        session, camera_id=camera_id, host=body.host, port=body.port, actor=principal
    )


@router.post("/probes/{camera_id}/run", response_model=ProbeOut)
def run_probe(
    camera_id: CameraId,
    principal: CurrentPrincipal,
    session: DbSession,
    timeout_s: float = Query(health_probe.DEFAULT_TIMEOUT_S, gt=0, le=10),
) -> ProbeOut:
    """Ask the camera for its clock (ONVIF GetSystemDateAndTime) and record the answer."""
    result = health_probe.probe_camera(
        session, camera_id=camera_id, actor=principal, timeout_s=timeout_s
    )
    return ProbeOut.of(camera_id, result)
