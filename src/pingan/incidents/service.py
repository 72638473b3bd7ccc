"""Incident service: intake, reading within scope, and status changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import ColumnElement, Select, false, or_, select
from sqlalchemy.orm import Session

from pingan.incidents.columns import IncidentColumns
from pingan.incidents.models import Incident, IncidentType
from pingan.incidents.schemas import (
    IncidentIn,
    IncidentOut,
    IncidentPatch,
    IntakeResult,
)
from pingan.incidents.store import ACCEPTED, DUPLICATE, store_chunks
from pingan.incidents.taxonomy import type_table
from pingan.kit import audit
from pingan.kit.db import utcnow
from pingan.kit.errors import Conflict, NotFound, PayloadTooLarge, ValidationFailed
from pingan.org.permissions import Perm
from pingan.org.principal import Principal
from pingan.settings import get_settings

# Clock skew we tolerate on "occurred in the future".
FUTURE_SLACK = dt.timedelta(minutes=10)
_LEVEL_COLUMN = {
    "city": Incident.city_id,
    "district": Incident.district_id,
    "subdistrict": Incident.subdistrict_id,
    "community": Incident.community_id,
    "grid": Incident.grid_id,
}


def city_zone() -> ZoneInfo:
    return ZoneInfo(get_settings().city_timezone)


def to_utc(value: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """Aware UTC; a naive time is read in the city's zone."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(dt.UTC)


def _epoch_us(value: dt.datetime) -> int:
    return round(value.timestamp() * 1_000_000)


def intake_batch(
    session: Session,
    *,
    rows: Sequence[Mapping[str, Any] | IncidentIn],
    actor: Principal,
    audit_action: str = "incidents.intake",
) -> IntakeResult:
    """Validate and store many incidents; good rows are kept, bad ones reported.

    Idempotent on ``(source, external_id)``: a row whose key is already stored
    (or appears earlier in the batch) is a duplicate and is not stored again.
    Rows are validated in chunks that the store pulls one at a time, so on
    PostgreSQL the next chunk is validated while the server writes this one.
    """
    actor.require(Perm.INCIDENTS_WRITE)
    limit = get_settings().max_batch_size
    if len(rows) > limit:
        raise PayloadTooLarge(f"a batch holds at most {limit} incidents, got {len(rows)}")
    checker = _RowChecker(type_table(session), city_zone(), utcnow())
    rejected: list[tuple[int, str | None, str]] = []
    stored_index: list[int] = []  # input index of each row handed to the store, in order

    def chunks() -> Iterator[IncidentColumns]:
        for start in range(0, len(rows), INTAKE_CHUNK):
            cols, kept, bad = checker.columns(rows[start : start + INTAKE_CHUNK], start)
            rejected.extend(bad)
            stored_index.extend(kept)
            yield cols

    outcome = store_chunks(
        session, chunks(), capacity=len(rows), actor=actor, audit_action=audit_action
    )
    accepted: list[dict[str, Any]] = []
    duplicates: list[dict[str, Any]] = []
    codes, ids = outcome.outcome.tolist(), outcome.incident_id.tolist()
    for pos, index in enumerate(stored_index):
        code, iid = codes[pos], ids[pos]
        if code == ACCEPTED:
            accepted.append({"index": index, "id": iid})
        elif code == DUPLICATE:
            duplicates.append({"index": index, "id": iid if iid >= 0 else None})
        else:
            field, reason = outcome.reason[pos]
            rejected.append((index, field, reason))
    rejected.sort(key=lambda r: r[0])
    # One validation call for the whole answer: much cheaper than one model per row.
    return IntakeResult.model_validate(
        {
            "accepted": accepted,
            "duplicates": duplicates,
            "rejected": [{"index": i, "field": f, "reason": r} for i, f, r in rejected],
        }
    )


# Rows validated per step: small enough that the first COPY data reaches the
# server early, large enough that per-chunk overhead stays negligible.
INTAKE_CHUNK = 2_000


class _RowChecker:
    """Validates rows and turns the good ones into columns for the store."""

    def __init__(
        self, types: Mapping[str, tuple[int, int]], zone: dt.tzinfo, now: dt.datetime
    ) -> None:
        self.types = types
        self.zone = zone
        self.latest = now + FUTURE_SLACK

    def columns(
        self, rows: Sequence[Mapping[str, Any] | IncidentIn], offset: int
    ) -> tuple[IncidentColumns, list[int], list[tuple[int, str | None, str]]]:
        """Columns of the good rows, their input indexes, and the rejected rows."""
        parsed, rejected = _validate_rows(rows)
        rejected = [(offset + i, f, r) for i, f, r in rejected]
        kept: list[int] = []
        good: list[IncidentIn] = []
        type_ids: list[int] = []
        occurred_us: list[int] = []
        reported_us: list[int] = []
        severity: list[int] = []
        for index, row in parsed:
            known = self.types.get(row.type)
            if known is None:
                rejected.append((offset + index, "type", f"unknown incident type {row.type!r}"))
                continue
            occurred = _aware(row.occurred_at, self.zone)
            reported = _aware(row.reported_at, self.zone) if row.reported_at else occurred
            if occurred > self.latest:
                rejected.append((offset + index, "occurred_at", "occurred_at is in the future"))
                continue
            if reported < occurred:
                rejected.append((offset + index, "reported_at", "reported before it occurred"))
                continue
            kept.append(offset + index)
            good.append(row)
            type_ids.append(known[0])
            occurred_us.append(_epoch_us(occurred))
            reported_us.append(_epoch_us(reported))
            severity.append(row.severity or known[1])
        cols = IncidentColumns.build(
            type_id=type_ids,
            occurred_us=occurred_us,
            reported_us=reported_us,
            lon=[r.lon for r in good],
            lat=[r.lat for r in good],
            severity=severity,
            source=[r.source.value for r in good],
            status=[r.status.value for r in good],
            external_id=[r.external_id for r in good],
            summary=[r.summary for r in good],
        )
        return cols, kept, rejected


def _aware(value: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """The same instant, aware; a naive time is read in the city's zone."""
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


_ROWS_ADAPTER: TypeAdapter[list[IncidentIn]] = TypeAdapter(list[IncidentIn])


def _validate_rows(
    rows: Sequence[Mapping[str, Any] | IncidentIn],
) -> tuple[list[tuple[int, IncidentIn]], list[tuple[int, str | None, str]]]:
    """Validate every row in one pass; a bad row is reported by its first error."""
    if all(isinstance(r, IncidentIn) for r in rows):
        return [(i, r) for i, r in enumerate(rows) if isinstance(r, IncidentIn)], []
    raw = [r.model_dump() if isinstance(r, IncidentIn) else r for r in rows]
    try:
        return list(enumerate(_ROWS_ADAPTER.validate_python(raw))), []
    except ValidationError as exc:
        first_error: dict[int, tuple[str | None, str]] = {}
        for err in exc.errors():
            loc = err.get("loc") or ()
            if not loc or not isinstance(loc[0], int):
                raise ValidationFailed("incidents must be sent as a list of objects") from None
            if loc[0] not in first_error:
                field = ".".join(str(p) for p in loc[1:]) or None
                first_error[loc[0]] = (field, err["msg"])
    good = [i for i in range(len(raw)) if i not in first_error]
    # Validation is per item, so the remaining rows now pass.
    parsed = _ROWS_ADAPTER.validate_python([raw[i] for i in good])
    bad = [(i, field, msg) for i, (field, msg) in sorted(first_error.items())]
    return list(zip(good, parsed, strict=True)), bad


def create(session: Session, *, incident_in: IncidentIn, actor: Principal) -> Incident:
    """Store one incident; a retry with the same key returns 409 with the stored id."""
    result = intake_batch(session, rows=[incident_in], actor=actor, audit_action="incident.create")
    if result.rejected:
        bad = result.rejected[0]
        if "org scope" in bad.reason:
            from pingan.kit.errors import Forbidden

            raise Forbidden(bad.reason, field=bad.field)
        raise ValidationFailed(bad.reason, field=bad.field)
    if result.duplicates:
        dup = result.duplicates[0]
        raise Conflict(
            "an incident with this source and external_id is already stored",
            field="external_id",
            existing_id=dup.id,
        )
    incident = session.get(Incident, result.accepted[0].id)
    assert incident is not None
    return incident


def in_unit_clause(level: str, unit_id: int) -> ColumnElement[bool]:
    """SQL condition: the incident lies in the subtree of one org unit."""
    return _LEVEL_COLUMN[level] == unit_id


def scope_clause(principal: Principal, perm: str) -> ColumnElement[bool]:
    """SQL condition: the incident lies in a subtree where ``perm`` is held."""
    if principal.is_system:
        return Incident.id.is_not(None)
    grants = principal.grants_with(perm)
    if not grants:
        return false()
    by_level: dict[str, list[int]] = {}
    for g in grants:
        by_level.setdefault(g.level, []).append(g.unit_id)
    return or_(*[_LEVEL_COLUMN[level].in_(ids) for level, ids in by_level.items()])


def get(session: Session, *, incident_id: int, actor: Principal) -> Incident:
    incident = session.scalar(
        select(Incident).where(Incident.id == incident_id, scope_clause(actor, Perm.INCIDENTS_READ))
    )
    # Out of scope looks exactly like missing.
    if incident is None:
        raise NotFound(f"incident {incident_id} not found")
    return incident


def list_incidents(
    session: Session,
    *,
    actor: Principal,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    type_code: str | None = None,
    org_unit_id: int | None = None,
    org_level: str | None = None,
    status: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    limit: int = 100,
    after_id: int | None = None,
) -> list[Incident]:
    stmt: Select[Incident] = select(Incident).where(scope_clause(actor, Perm.INCIDENTS_READ))
    if since is not None:
        stmt = stmt.where(Incident.occurred_at >= since)
    if until is not None:
        stmt = stmt.where(Incident.occurred_at < until)
    if type_code is not None:
        stmt = stmt.where(Incident.type_id.in_(_type_and_descendants(session, type_code)))
    if org_unit_id is not None and org_level is not None:
        stmt = stmt.where(_LEVEL_COLUMN[org_level] == org_unit_id)
    if status is not None:
        stmt = stmt.where(Incident.status == status)
    if bbox is not None:
        west, south, east, north = bbox
        stmt = stmt.where(
            Incident.lon >= west, Incident.lon <= east, Incident.lat >= south, Incident.lat <= north
        )
    if after_id is not None:
        stmt = stmt.where(Incident.id > after_id)
    return list(session.scalars(stmt.order_by(Incident.id).limit(limit)))


def _type_and_descendants(session: Session, code: str) -> list[int]:
    rows = session.execute(select(IncidentType.id, IncidentType.code)).all()
    ids = [tid for tid, c in rows if c == code or c.startswith(code + ".")]
    if not ids:
        raise ValidationFailed(f"unknown incident type {code!r}", field="type")
    return ids


def update(
    session: Session, *, incident_id: int, patch: IncidentPatch, actor: Principal
) -> Incident:
    incident = get(session, incident_id=incident_id, actor=actor)
    grid_path = _grid_path(session, incident.grid_id)
    actor.require(Perm.INCIDENTS_WRITE, grid_path)
    changes = patch.model_dump(exclude_unset=True, exclude_none=True)
    before = {k: getattr(incident, k) for k in changes}
    for key, value in changes.items():
        setattr(incident, key, value.value if hasattr(value, "value") else value)
    incident.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor.actor,
        action="incident.update",
        object_type="incident",
        object_id=incident.id,
        detail={"before": before, "after": changes},
    )
    return incident


def _grid_path(session: Session, grid_id: int) -> str:
    from pingan.org.models import OrgUnit

    path = session.scalar(select(OrgUnit.path).where(OrgUnit.id == grid_id))
    return path or ""


def to_out(session: Session, incidents: Iterable[Incident]) -> list[IncidentOut]:
    codes = {tid: code for tid, code in session.execute(select(IncidentType.id, IncidentType.code))}
    out = []
    for inc in incidents:
        data = {c: getattr(inc, c) for c in IncidentOut.model_fields if c != "type"}
        out.append(IncidentOut(type=codes[inc.type_id], **data))
    return out


def stats(session: Session) -> dict[str, Any]:
    from sqlalchemy import func

    count, first, last = session.execute(
        select(
            func.count(Incident.id), func.min(Incident.occurred_at), func.max(Incident.occurred_at)
        )
    ).one()
    return {"count": int(count), "first": first, "last": last}
