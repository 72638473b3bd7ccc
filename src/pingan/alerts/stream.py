"""Server-Sent Events of alerts: each new or changed alert in the reader's scope, as it happens.

Every alert change is announced on the event bus (channel ``alerts``) after
its commit. One reader per process (``AlertHub``) wakes on it, reads the
changed alerts once, renders each once, and fans them out to the open
connections; each connection sends only the alerts in its reader's scope.

The event id is the cursor (``updated_at`` ISO time), so a client that
reconnects with ``Last-Event-ID`` gets what it missed from its own catch-up read.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import State

from pingan.alerts.models import Alert
from pingan.alerts.schemas import AlertOut
from pingan.alerts.service import READ, area_geometry
from pingan.kit import fanout
from pingan.kit.db import utcnow
from pingan.org.principal import Principal

CHANNEL = "alerts"
CATCH_UP_BATCH = 500
# The hub re-reads this far behind its cursor: ``updated_at`` is set when an alert
# changes, its commit can come later (a long early-warning run), and such an alert
# must not be skipped. What was already sent is remembered, so nothing goes twice.
LATE_COMMIT_WINDOW = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class AlertItem:
    """One alert change, rendered once for every connection."""

    id: int
    updated_at: dt.datetime
    org_path: str
    body: str  # AlertOut as JSON

    @property
    def key(self) -> tuple[int, dt.datetime]:
        return (self.id, self.updated_at)


def _item(session: Session, alert: Alert) -> AlertItem:
    body = AlertOut.of(alert, area_geometry(session, alert)).model_dump(mode="json")
    return AlertItem(alert.id, alert.updated_at, alert.org_path, json.dumps(body))


def parse_cursor(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


class AlertHub(fanout.Hub[AlertItem]):
    channel = CHANNEL

    def __init__(self, sessions: sessionmaker[Session], *, safety_poll_s: float) -> None:
        engine = sessions.kw["bind"]
        super().__init__(engine, safety_poll_s=safety_poll_s)
        self.sessions = sessions
        self.cursor = utcnow()
        self.sent: dict[tuple[int, dt.datetime], dt.datetime] = {}

    def prime(self) -> None:
        self.cursor = utcnow()
        with self.sessions() as session:
            rows = session.execute(
                select(Alert.id, Alert.updated_at).where(
                    Alert.updated_at > self.cursor - LATE_COMMIT_WINDOW
                )
            ).all()
        self.sent = {(i, at): at for i, at in rows}

    def read_new(self) -> list[AlertItem]:
        floor = self.cursor - LATE_COMMIT_WINDOW
        stmt = select(Alert).where(Alert.updated_at > floor).order_by(Alert.updated_at, Alert.id)
        with self.sessions() as session:
            fresh = [a for a in session.scalars(stmt) if (a.id, a.updated_at) not in self.sent]
            items = [_item(session, a) for a in fresh]
        for item in items:
            self.sent[item.key] = item.updated_at
            self.cursor = max(self.cursor, item.updated_at)
        floor = self.cursor - LATE_COMMIT_WINDOW
        self.sent = {k: at for k, at in self.sent.items() if at > floor}
        return items


def hub_for(state: State) -> AlertHub:
    """The app's alert hub (``state`` is ``app.state``), made on first use."""
    return fanout.hub_for(state, "alert_hub", AlertHub)


def _catch_up(
    sessions: sessionmaker[Session], actor: Principal, after: dt.datetime
) -> Callable[[], list[AlertItem]]:
    """Pages of the alerts changed after the client's cursor (empty when caught up)."""
    position: list[tuple[dt.datetime, int | None]] = [(after, None)]

    def read() -> list[AlertItem]:
        at, last_id = position[0]
        # Keyset pages on (updated_at, id), strictly after the client's cursor.
        later = Alert.updated_at > at
        if last_id is not None:
            later = or_(later, and_(Alert.updated_at == at, Alert.id > last_id))
        stmt = select(Alert).where(later).order_by(Alert.updated_at, Alert.id)
        with sessions() as session:
            while batch := list(session.scalars(stmt.limit(CATCH_UP_BATCH))):
                position[0] = (batch[-1].updated_at, batch[-1].id)
                mine = [_item(session, a) for a in batch if actor.can(READ, a.org_path)]
                if mine or len(batch) < CATCH_UP_BATCH:
                    return mine
                at, last_id = position[0]
                later = or_(Alert.updated_at > at, and_(Alert.updated_at == at, Alert.id > last_id))
                stmt = select(Alert).where(later).order_by(Alert.updated_at, Alert.id)
        return []

    return read


def events(
    hub: AlertHub, actor: Principal, cursor: dt.datetime, *, max_seconds: float
) -> AsyncIterator[str]:
    """SSE frames until ``max_seconds`` have passed (the client reconnects with Last-Event-ID)."""
    position = [cursor]

    def render(item: AlertItem) -> str | None:
        if not actor.can(READ, item.org_path):
            return None
        position[0] = max(position[0], item.updated_at)
        return f"id: {position[0].isoformat()}\nevent: alert\ndata: {item.body}\n\n"

    return fanout.frames(
        hub,
        catch_up=_catch_up(hub.sessions, actor, cursor),
        render=render,
        max_seconds=max_seconds,
        preamble="retry: 3000\n\n",
    )
