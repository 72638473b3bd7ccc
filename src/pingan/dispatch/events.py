"""Dispatch events for the console, pushed as Server-Sent Events.

Every timeline step is announced on the event bus (channel ``dispatch``) after
its commit. One reader per process (``DispatchHub``) wakes on it, reads the new
timeline entries once and fans them out to the open connections; each
connection sends only the entries on incidents in its caller's dispatch scope
(the same rule as ``incidents.service.scope_clause``, applied in memory). The
SSE ``id`` is the entry id: a client reconnects with ``after_id`` and first
gets what it missed. Streams end after ``max_seconds`` so proxies recycle them.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import State

from pingan.dispatch.assignment_models import TimelineEntry
from pingan.incidents.models import Incident
from pingan.incidents.service import scope_clause
from pingan.kit import fanout
from pingan.org.permissions import Perm
from pingan.org.principal import Principal

CHANNEL = "dispatch"
BATCH = 500
HOLE_WAIT_S = 60.0  # longer than any dispatch transaction
MAX_HOLES = 1000  # a bigger jump is not concurrent writers (a sequence reset, a restore)
# An incident's org units, from the city down to its grid, as scope grants name them.
LEVELS = ("city", "district", "subdistrict", "community", "grid")
_LEVEL_COLUMNS = (
    Incident.city_id,
    Incident.district_id,
    Incident.subdistrict_id,
    Incident.community_id,
    Incident.grid_id,
)


def entries_after(
    session: Session, *, actor: Principal, after_id: int, limit: int = 500
) -> list[TimelineEntry]:
    actor.require(Perm.DISPATCH_READ)
    return list(
        session.scalars(
            select(TimelineEntry)
            .join(Incident, Incident.id == TimelineEntry.incident_id)
            .where(TimelineEntry.id > after_id, scope_clause(actor, Perm.DISPATCH_READ))
            .order_by(TimelineEntry.id)
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class TimelineItem:
    """One timeline step with its incident's org units, rendered once for every connection."""

    id: int
    units: tuple[int | None, ...]  # in LEVELS order
    frame: str
    late: bool = False  # committed after entries with higher ids

    @property
    def key(self) -> int:
        return self.id


def _frame(e: TimelineEntry) -> str:
    data = {
        "incident_id": e.incident_id,
        "assignment_id": e.assignment_id,
        "at": e.at.isoformat(),
        "actor": e.actor,
        "detail": json.loads(e.detail),
    }
    return f"id: {e.id}\nevent: {e.kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _read_items(
    session: Session,
    after_id: int,
    limit: int,
    actor: Principal | None = None,
    *,
    only: list[int] | None = None,
) -> list[TimelineItem]:
    stmt = (
        select(TimelineEntry, *_LEVEL_COLUMNS)
        .join(Incident, Incident.id == TimelineEntry.incident_id)
        .where(TimelineEntry.id > after_id)
    )
    if only is not None:
        stmt = stmt.where(TimelineEntry.id.in_(only))
    if actor is not None:
        stmt = stmt.where(scope_clause(actor, Perm.DISPATCH_READ))
    rows = session.execute(stmt.order_by(TimelineEntry.id).limit(limit)).all()
    return [TimelineItem(row[0].id, tuple(row[1:]), _frame(row[0])) for row in rows]


class DispatchHub(fanout.Hub[TimelineItem]):
    channel = CHANNEL

    def __init__(self, sessions: sessionmaker[Session], *, safety_poll_s: float) -> None:
        super().__init__(sessions.kw["bind"], safety_poll_s=safety_poll_s)
        self.sessions = sessions
        self.cursor = 0
        # Ids skipped over (a transaction that took its id earlier has not committed
        # yet, or rolled back), with when they were noticed: re-read for a while.
        self.holes: dict[int, float] = {}

    def prime(self) -> None:
        with self.sessions() as session:
            self.cursor = int(session.scalar(select(func.max(TimelineEntry.id))) or 0)
        self.holes = {}

    def read_new(self) -> list[TimelineItem]:
        items: list[TimelineItem] = []
        now = time.monotonic()
        self.holes = {i: t for i, t in self.holes.items() if now - t < HOLE_WAIT_S}
        with self.sessions() as session:
            if self.holes:
                for item in _read_items(session, 0, BATCH, only=sorted(self.holes)[:BATCH]):
                    del self.holes[item.id]
                    items.append(replace(item, late=True))
            while batch := _read_items(session, self.cursor, BATCH):
                for item in batch:
                    if item.id - self.cursor <= MAX_HOLES:
                        self.holes.update(dict.fromkeys(range(self.cursor + 1, item.id), now))
                    self.cursor = item.id
                items += batch
                if len(batch) < BATCH:
                    break
        return items


def hub_for(state: State) -> DispatchHub:
    """The app's dispatch hub (``state`` is ``app.state``), made on first use."""
    return fanout.hub_for(state, "dispatch_hub", DispatchHub)


def in_scope(actor: Principal) -> Callable[[TimelineItem], bool]:
    """Whether an entry's incident lies where ``actor`` holds dispatch read rights."""
    if actor.is_system:
        return lambda item: True
    units: list[set[int]] = [set() for _ in LEVELS]
    for grant in actor.grants_with(Perm.DISPATCH_READ):
        units[LEVELS.index(grant.level)].add(grant.unit_id)
    return lambda item: any(u is not None and u in units[i] for i, u in enumerate(item.units))


def stream(
    hub: DispatchHub, *, actor: Principal, after_id: int, max_seconds: float
) -> AsyncIterator[str]:
    """SSE frames: one per timeline entry, a comment as keep-alive when quiet."""
    visible = in_scope(actor)

    last = [after_id]

    def catch_up() -> list[TimelineItem]:
        """The next page of what the client missed, in its scope (empty when done)."""
        with hub.sessions() as session:
            page = _read_items(session, last[0], BATCH, actor)
        if page:
            last[0] = page[-1].id
        return page

    def render(item: TimelineItem) -> str | None:
        new = item.late or item.id > after_id
        return item.frame if new and visible(item) else None

    return fanout.frames(
        hub, catch_up=catch_up, render=render, max_seconds=max_seconds, heartbeat_s=15.0
    )
