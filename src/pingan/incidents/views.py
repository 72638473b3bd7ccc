"""HTTP routes of the incidents domain."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from pingan.api.deps import CurrentPrincipal, DbSession
from pingan.incidents import service
from pingan.incidents.models import IncidentType, Status
from pingan.incidents.schemas import (
    IncidentIn,
    IncidentOut,
    IncidentPatch,
    IntakeResult,
    RejectedRow,
)
from pingan.kit.errors import PayloadTooLarge, ValidationFailed
from pingan.kit.pagination import Page
from pingan.org.levels import Level
from pingan.org.permissions import Perm
from pingan.org.service import get_unit

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])

NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl")
_BATCH_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "array", "items": {"$ref": "#/components/schemas/IncidentIn"}}
            },
            "application/x-ndjson": {
                "schema": {"type": "string", "description": "One IncidentIn JSON object per line"}
            },
        },
    }
}


@router.post("", response_model=IncidentOut, status_code=201)
def create_incident(
    body: IncidentIn, principal: CurrentPrincipal, session: DbSession
) -> IncidentOut:
    """Record one incident. A repeat of a stored (source, external_id) gets 409 with its id."""
    incident = service.create(session, incident_in=body, actor=principal)
    return service.to_out(session, [incident])[0]


@router.post("/batch", response_model=IntakeResult, openapi_extra=_BATCH_DOC)
async def intake_batch(
    request: Request, principal: CurrentPrincipal, session: DbSession
) -> IntakeResult:
    """Record up to 100,000 incidents (JSON array or NDJSON).

    Every row is answered: accepted (with its id), duplicate (with the stored
    id) or rejected (with its index and reason). Good rows are kept.
    """
    body = await request.body()
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    rows, bad = _parse_batch(body, ndjson=content_type in NDJSON_TYPES)
    limit = int(request.app.state.settings.max_batch_size)
    if len(rows) + len(bad) > limit:
        raise PayloadTooLarge(
            f"a batch holds at most {limit} incidents, got {len(rows) + len(bad)}"
        )
    good = [row for _i, row in rows]
    # Off the event loop: a wait for a lock held by another request, whose commit needs
    # the loop, would otherwise freeze the whole worker (found by benchmarks/load).
    result = await run_in_threadpool(service.intake_batch, session, rows=good, actor=principal)
    # Map indexes back to positions in the request body.
    positions = [i for i, _row in rows]
    for accepted in result.accepted:
        accepted.index = positions[accepted.index]
    for duplicate in result.duplicates:
        duplicate.index = positions[duplicate.index]
    for rejected in result.rejected:
        rejected.index = positions[rejected.index]
    result.rejected.extend(bad)
    result.rejected.sort(key=lambda r: r.index)
    return result


def _parse_batch(body: bytes, *, ndjson: bool) -> tuple[list[tuple[int, Any]], list[RejectedRow]]:
    if ndjson:
        rows: list[tuple[int, Any]] = []
        bad: list[RejectedRow] = []
        for index, line in enumerate(ln for ln in body.decode("utf-8").splitlines() if ln.strip()):
            try:
                rows.append((index, json.loads(line)))
            except json.JSONDecodeError as exc:
                bad.append(
                    RejectedRow(index=index, field=None, reason=f"not valid JSON: {exc.msg}")
                )
        return rows, bad
    try:
        data = json.loads(body or b"null")
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"body is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(data, list):
        raise ValidationFailed(
            "body must be a JSON array of incidents (or send application/x-ndjson)"
        )
    return list(enumerate(data)), []


@router.get("", response_model=Page[IncidentOut])
def list_incidents(
    principal: CurrentPrincipal,
    session: DbSession,
    since: dt.datetime | None = Query(None, description="occurred_at >= since"),
    until: dt.datetime | None = Query(None, description="occurred_at < until"),
    type: str | None = Query(None, description="Taxonomy code; includes its subtypes"),
    org_unit_id: int | None = Query(None, description="Only incidents inside this org unit"),
    status: Status | None = None,
    bbox: str | None = Query(None, description="west,south,east,north in degrees"),
    limit: int = Query(100, ge=1, le=1000),
    after_id: int | None = None,
) -> Page[IncidentOut]:
    """Incidents within your scope, in id order (keyset pages)."""
    zone = service.city_zone()
    level = None
    if org_unit_id is not None:
        level = Level(get_unit(session, org_unit_id, principal=principal).level).value
    found = service.list_incidents(
        session,
        actor=principal,
        since=None if since is None else service.to_utc(since, zone),
        until=None if until is None else service.to_utc(until, zone),
        type_code=type,
        org_unit_id=org_unit_id,
        org_level=level,
        status=None if status is None else status.value,
        bbox=_parse_bbox(bbox),
        limit=limit,
        after_id=after_id,
    )
    next_after = found[-1].id if len(found) == limit else None
    return Page(items=service.to_out(session, found), next_after_id=next_after)


def _parse_bbox(bbox: str | None) -> tuple[float, float, float, float] | None:
    if bbox is None:
        return None
    try:
        west, south, east, north = (float(v) for v in bbox.split(","))
    except ValueError:
        raise ValidationFailed(
            "bbox must be four numbers: west,south,east,north", field="bbox"
        ) from None
    if west > east or south > north:
        raise ValidationFailed("bbox must have west <= east and south <= north", field="bbox")
    return west, south, east, north


@router.get("/types")
def list_types(principal: CurrentPrincipal, session: DbSession) -> list[dict[str, Any]]:
    """The incident taxonomy."""
    principal.require(Perm.INCIDENTS_READ)
    rows = session.scalars(select(IncidentType).order_by(IncidentType.code))
    return [
        {
            "code": t.code,
            "name_zh": t.name_zh,
            "name_en": t.name_en,
            "default_severity": t.default_severity,
        }
        for t in rows
    ]


@router.get("/{incident_id}", response_model=IncidentOut)
def get_incident(incident_id: int, principal: CurrentPrincipal, session: DbSession) -> IncidentOut:
    return service.to_out(
        session, [service.get(session, incident_id=incident_id, actor=principal)]
    )[0]


@router.patch("/{incident_id}", response_model=IncidentOut)
def update_incident(
    incident_id: int, body: IncidentPatch, principal: CurrentPrincipal, session: DbSession
) -> IncidentOut:
    incident = service.update(session, incident_id=incident_id, patch=body, actor=principal)
    return service.to_out(session, [incident])[0]
