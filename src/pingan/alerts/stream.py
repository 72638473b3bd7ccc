"""Server-Sent Events of alerts: each new or changed alert in the reader's scope, as it happens.

The stream polls (alerts are written a few times a day, so a short poll is
cheap) and sends every alert whose ``updated_at`` is after the cursor. The
event id is the cursor (``updated_at`` ISO time), so a client that reconnects
with ``Last-Event-ID`` misses nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.alerts.models import Alert
from pingan.alerts.schemas import AlertOut
from pingan.alerts.service import READ, area_geometry
from pingan.org.principal import Principal

POLL_SECONDS = 2.0
HEARTBEAT_SECONDS = 15.0


def _changed(session: Session, actor: Principal, after: dt.datetime) -> list[Alert]:
    stmt = select(Alert).where(Alert.updated_at > after).order_by(Alert.updated_at, Alert.id)
    return [a for a in session.scalars(stmt.limit(500)) if actor.can(READ, a.org_path)]


def parse_cursor(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def events(
    open_session: Callable[[], Session],
    actor: Principal,
    cursor: dt.datetime,
    *,
    max_seconds: float,
    poll_seconds: float = POLL_SECONDS,
) -> Iterator[str]:
    """SSE lines until ``max_seconds`` have passed (the client reconnects with Last-Event-ID)."""
    deadline = time.monotonic() + max_seconds
    last_beat = time.monotonic()
    yield "retry: 3000\n\n"
    while True:
        with open_session() as session:
            for alert in _changed(session, actor, cursor):
                cursor = max(cursor, alert.updated_at)
                body = AlertOut.of(alert, area_geometry(session, alert)).model_dump(mode="json")
                yield f"id: {cursor.isoformat()}\nevent: alert\ndata: {json.dumps(body)}\n\n"
        now = time.monotonic()
        if now >= deadline:
            return
        if now - last_beat >= HEARTBEAT_SECONDS:
            last_beat = now
            yield ": keep-alive\n\n"
        time.sleep(min(poll_seconds, max(deadline - now, 0.0)))
