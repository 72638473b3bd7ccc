"""Dispatch events for the console, pushed as Server-Sent Events.

The stream polls the timeline table (every ``poll_s``) for entries after the
last one sent, on incidents in the caller's dispatch scope, and ends after
``max_seconds`` so proxies and clients reconnect with ``after_id`` (the SSE
``id`` of the last event seen). Each poll is its own short transaction.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pingan.dispatch.assignment_models import TimelineEntry
from pingan.incidents.models import Incident
from pingan.incidents.service import scope_clause
from pingan.org.permissions import Perm
from pingan.org.principal import Principal


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


def stream(
    sessions: sessionmaker[Session],
    *,
    actor: Principal,
    after_id: int,
    max_seconds: float,
    poll_s: float = 1.0,
) -> Iterator[str]:
    """SSE frames: one per timeline entry, a comment as keep-alive on quiet polls."""
    deadline = time.monotonic() + max_seconds
    last = after_id
    while True:
        with sessions() as session:
            rows = entries_after(session, actor=actor, after_id=last)
            frames = [
                f"id: {e.id}\nevent: {e.kind}\ndata: "
                + json.dumps(
                    {"incident_id": e.incident_id, "assignment_id": e.assignment_id,
                     "at": e.at.isoformat(), "actor": e.actor, "detail": json.loads(e.detail)},
                    ensure_ascii=False,
                )
                + "\n\n"
                for e in rows
            ]  # fmt: skip
        if rows:
            last = rows[-1].id
        yield from frames or [": keep-alive\n\n"]
        if time.monotonic() >= deadline:
            return
        time.sleep(poll_s)
