"""The per-incident dispatch timeline (every step also goes to the audit log)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.dispatch.assignment_models import TimelineEntry
from pingan.kit import audit, events


def note(
    session: Session,
    *,
    incident_id: int,
    kind: str,
    actor: str,
    at: dt.datetime,
    assignment_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """One timeline step and its audit entry, in the caller's transaction."""
    payload = detail or {}
    session.add(
        TimelineEntry(
            incident_id=incident_id, assignment_id=assignment_id, at=at, kind=kind,
            actor=actor, detail=json.dumps(payload, sort_keys=True, default=str),
        )
    )  # fmt: skip
    audit.record(
        session, actor=actor, action=f"dispatch.{kind}", object_type="incident",
        object_id=incident_id, detail={"assignment_id": assignment_id, **payload},
    )  # fmt: skip
    events.publish(session, "dispatch", {"incident_id": incident_id, "kind": kind})


def entries(session: Session, incident_id: int) -> list[TimelineEntry]:
    return list(
        session.scalars(
            select(TimelineEntry)
            .where(TimelineEntry.incident_id == incident_id)
            .order_by(TimelineEntry.at, TimelineEntry.id)
        )
    )
