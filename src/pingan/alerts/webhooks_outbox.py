"""The outbox: every alert change queues its webhook deliveries in the same transaction.

A session-wide ``after_flush`` hook sees each new alert and each change of an
alert's status or signal count, and inserts one delivery row per matching
active subscription on the flush's own connection. The rows commit or roll
back with the change itself, so a restart can neither lose nor invent one,
and the alert service needs no knowledge of webhooks.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from sqlalchemy import event, insert, inspect, select
from sqlalchemy.orm import Session, UOWTransaction

from pingan.alerts.models import Alert
from pingan.alerts.webhooks_models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from pingan.kit.db import utcnow

EVENTS = (
    "alert.created",
    "alert.merged",
    "alert.acknowledged",
    "alert.resolved",
    "alert.dismissed",
)


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def alert_body(alert: Alert) -> dict[str, Any]:
    """What a receiver learns about an alert: area, window, statistic; never incidents."""
    return {
        "id": alert.id,
        "method": alert.method,
        "status": alert.status,
        "org_unit_id": alert.org_unit_id,
        "area": alert.area_dict(),
        "incident_types": alert.types_list(),
        "window_start": _iso(alert.window_start),
        "window_end": _iso(alert.window_end),
        "statistic": alert.statistic,
        "p_value": alert.p_value,
        "recurrence_days": alert.recurrence_days,
        "observed": alert.observed,
        "expected": alert.expected,
        "signal_count": alert.signal_count,
        "reason": alert.reason,
    }


def _event_of(alert: Alert, is_new: bool) -> str | None:
    if is_new:
        return "alert.created"
    attrs = inspect(alert).attrs
    if attrs.status.history.has_changes():
        return f"alert.{alert.status}"
    if attrs.signal_count.history.has_changes():
        return "alert.merged"
    return None


def _wants(sub: Any, name: str, alert: Alert) -> bool:
    return (
        (not sub.events or name in sub.events)
        and (not sub.methods or alert.method in sub.methods)
        and alert.org_path.startswith(sub.org_path)
    )


@event.listens_for(Session, "after_flush")
def _queue_deliveries(session: Session, flush_context: UOWTransaction) -> None:
    changes = [(obj, True) for obj in session.new if isinstance(obj, Alert)]
    changes += [(obj, False) for obj in session.dirty if isinstance(obj, Alert)]
    if not changes:
        return
    events = [(a, name) for a, new in changes if (name := _event_of(a, new)) is not None]
    if not events:
        return
    conn = session.connection()
    subs = list(
        conn.execute(
            select(
                WebhookSubscription.id,
                WebhookSubscription.events,
                WebhookSubscription.methods,
                WebhookSubscription.org_path,
            ).where(WebhookSubscription.active.is_(True))
        )
    )
    if not subs:
        return
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for alert, name in events:
        body = json.dumps(
            {
                "event": name,
                "event_id": uuid.uuid4().hex,
                "occurred_at": now.isoformat(),
                "alert": alert_body(alert),
            },
            sort_keys=True,
            separators=(",", ":"),
        )
        rows += [
            {
                "subscription_id": sub.id,
                "alert_id": alert.id,
                "event": name,
                "payload": body,
                "status": DeliveryStatus.PENDING.value,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for sub in subs
            if _wants(sub, name, alert)
        ]
    if rows:
        conn.execute(insert(WebhookDelivery), rows)
