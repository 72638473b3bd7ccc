"""Alert webhooks: subscriptions, signed delivery with retries, dead letters.

Each delivery is a POST of the JSON body stored in the outbox with headers

- ``X-Pingan-Event``: the event name, e.g. ``alert.created``;
- ``X-Pingan-Delivery``: the delivery id (stable across retries; dedupe on it);
- ``X-Pingan-Timestamp``: Unix seconds when this attempt was signed;
- ``X-Pingan-Signature``: ``v1=`` + hex HMAC-SHA256 of ``"{timestamp}.{body}"``
  under the subscription's secret.

A receiver recomputes the HMAC over the raw body bytes, compares in constant
time and rejects timestamps older than a few minutes (``verify_signature``).
Any 2xx answer is success; anything else, or no answer within the timeout,
is retried after ``base_delay_s * 2**(attempt-1)`` seconds (at most an hour)
until ``max_attempts``, then the delivery is dead and shows in the API.

Workers claim a delivery with a conditional UPDATE that also sets a lease: any
number of workers may run, each attempt is made by one of them, and a worker
that dies mid-attempt leaves a lease that expires so another one takes over.
Delivery is therefore at least once; receivers that must not act twice
dedupe on ``X-Pingan-Delivery``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine, or_, select, update
from sqlalchemy.orm import Session

from pingan.alerts import webhooks_outbox
from pingan.alerts.webhooks_models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from pingan.kit import audit, jobs
from pingan.kit.db import session_scope, utcnow
from pingan.kit.errors import NotFound, ValidationFailed
from pingan.org.models import OrgUnit
from pingan.org.permissions import Perm
from pingan.org.principal import Principal

KIND = "alerts.webhooks"
MANAGE = Perm.ALERTS_INTEGRATIONS
MAX_DELAY_S = 3600.0


# -- signing -------------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    tolerance_s: float = 300.0,
    now: float | None = None,
) -> bool:
    """What a receiver does: a fresh timestamp and a matching HMAC over the raw body."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - ts) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature)


# -- subscriptions -------------------------------------------------------------------------


@dataclass(frozen=True)
class SubscriptionIn:
    name: str
    url: str
    org_unit_id: int
    events: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    secret: str | None = None


def _check_url(url: str) -> str:
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:  # e.g. a broken IPv6 literal
        host = None
    if not host or parts.scheme not in ("http", "https"):
        raise ValidationFailed("url must be an absolute http(s) URL", field="url")
    return url.strip()


def create_subscription(
    session: Session, data: SubscriptionIn, *, actor: Principal
) -> WebhookSubscription:
    """Add a subscription; the secret is generated unless given (16+ characters)."""
    unit = session.get(OrgUnit, data.org_unit_id)
    if unit is None:
        raise ValidationFailed(f"org unit {data.org_unit_id} does not exist", field="org_unit_id")
    actor.require(MANAGE, unit.path)
    if not data.name.strip():
        raise ValidationFailed("name must not be empty", field="name")
    unknown = sorted(set(data.events) - set(webhooks_outbox.EVENTS))
    if unknown:
        known = ", ".join(webhooks_outbox.EVENTS)
        raise ValidationFailed(f"unknown event {unknown[0]!r} (known: {known})", field="events")
    secret = data.secret if data.secret is not None else secrets.token_urlsafe(32)
    if not 16 <= len(secret) <= 64:
        raise ValidationFailed("secret must have 16 to 64 characters", field="secret")
    sub = WebhookSubscription(
        name=data.name.strip(),
        url=_check_url(data.url),
        secret=secret,
        events=sorted(set(data.events)),
        methods=sorted(set(data.methods)),
        org_unit_id=unit.id,
        org_path=unit.path,
        active=True,
        created_by=actor.actor,
    )
    session.add(sub)
    session.flush()
    audit.record(
        session, actor=actor.actor, action="alert_webhook.create", object_type="alert_webhook",
        object_id=sub.id, detail={"url": sub.url, "org_unit_id": unit.id, "events": sub.events},
    )  # fmt: skip
    return sub


def _scoped(actor: Principal) -> Any:
    if actor.is_system:
        return None
    paths = [g.path for g in actor.grants_with(MANAGE)]
    return or_(*(WebhookSubscription.org_path.startswith(p) for p in paths))


def list_subscriptions(session: Session, *, actor: Principal) -> list[WebhookSubscription]:
    actor.require(MANAGE)
    stmt = select(WebhookSubscription).order_by(WebhookSubscription.id)
    if (where := _scoped(actor)) is not None:
        stmt = stmt.where(where)
    return list(session.scalars(stmt))


def get_subscription(session: Session, sub_id: int, *, actor: Principal) -> WebhookSubscription:
    sub = session.get(WebhookSubscription, sub_id)
    if sub is None or not actor.can(MANAGE, sub.org_path):
        raise NotFound(f"webhook {sub_id} not found")
    return sub


def set_active(
    session: Session, sub_id: int, active: bool, *, actor: Principal
) -> WebhookSubscription:
    """Pause or resume; queued deliveries of a paused subscription wait."""
    sub = get_subscription(session, sub_id, actor=actor)
    sub.active = active
    session.flush()
    audit.record(
        session, actor=actor.actor, action="alert_webhook.active", object_type="alert_webhook",
        object_id=sub.id, detail={"active": active},
    )  # fmt: skip
    return sub


def list_deliveries(
    session: Session,
    *,
    actor: Principal,
    status: str | None = None,
    subscription_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[WebhookDelivery]:
    """Deliveries of the subscriptions in scope, newest first (``status=dead``: dead letters)."""
    actor.require(MANAGE)
    stmt = select(WebhookDelivery).join(
        WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id
    )
    if (where := _scoped(actor)) is not None:
        stmt = stmt.where(where)
    if status is not None:
        if status not in {s.value for s in DeliveryStatus}:
            raise ValidationFailed(f"unknown status {status!r}", field="status")
        stmt = stmt.where(WebhookDelivery.status == status)
    if subscription_id is not None:
        stmt = stmt.where(WebhookDelivery.subscription_id == subscription_id)
    stmt = stmt.order_by(WebhookDelivery.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(stmt))


def attempts_of(session: Session, delivery_id: int) -> list[WebhookAttempt]:
    stmt = select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id)
    return list(session.scalars(stmt.order_by(WebhookAttempt.id)))


def attempts_of_many(session: Session, delivery_ids: list[int]) -> dict[int, list[WebhookAttempt]]:
    """``attempts_of`` a whole page of deliveries in one query."""
    found: dict[int, list[WebhookAttempt]] = {i: [] for i in delivery_ids}
    if delivery_ids:
        stmt = select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(delivery_ids))
        for attempt in session.scalars(stmt.order_by(WebhookAttempt.id)):
            found[attempt.delivery_id].append(attempt)
    return found


def requeue(session: Session, delivery_id: int, *, actor: Principal) -> WebhookDelivery:
    """A dead letter back in the queue with a fresh count of attempts."""
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound(f"delivery {delivery_id} not found")
    get_subscription(session, delivery.subscription_id, actor=actor)
    if delivery.status != DeliveryStatus.DEAD:
        raise ValidationFailed(f"delivery {delivery_id} is {delivery.status}, not dead")
    delivery.status = DeliveryStatus.PENDING.value
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    session.flush()
    audit.record(
        session, actor=actor.actor, action="alert_webhook.requeue",
        object_type="alert_webhook_delivery", object_id=delivery.id,
    )  # fmt: skip
    return delivery


# -- delivery ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryPolicy:
    base_delay_s: float = 30.0
    max_attempts: int = 8
    timeout_s: float = 10.0
    lease_s: float = 60.0
    batch: int = 200
    # One pass stops claiming after this long: the job worker runs other kinds too
    # (dispatch escalations every 10 s), so a dead receiver must not hold it.
    budget_s: float = 20.0


@dataclass
class DeliveryReport:
    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    dead: int = 0


def backoff(policy: DeliveryPolicy, attempt: int) -> float:
    return float(min(MAX_DELAY_S, policy.base_delay_s * 2 ** (attempt - 1)))


def _due(engine: Engine, now: dt.datetime, limit: int) -> list[tuple[int, int]]:
    with session_scope(engine) as session:
        stmt = (
            select(WebhookDelivery.id, WebhookDelivery.subscription_id)
            .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
            .where(
                WebhookSubscription.active.is_(True),
                or_(
                    (WebhookDelivery.status == DeliveryStatus.PENDING)
                    & (WebhookDelivery.next_attempt_at <= now),
                    # A worker that died mid-attempt: its lease has run out.
                    (WebhookDelivery.status == DeliveryStatus.SENDING)
                    & (WebhookDelivery.lease_until < now),
                ),
            )
            .order_by(WebhookDelivery.id)
            .limit(limit)
        )
        return [(int(i), int(s)) for i, s in session.execute(stmt)]


def claim(
    engine: Engine, delivery_id: int, *, worker: str, now: dt.datetime, lease_s: float
) -> bool:
    """Take one attempt of a delivery; exactly one of racing workers wins."""
    with session_scope(engine) as session:
        won = session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                or_(
                    (WebhookDelivery.status == DeliveryStatus.PENDING)
                    & (WebhookDelivery.next_attempt_at <= now),
                    (WebhookDelivery.status == DeliveryStatus.SENDING)
                    & (WebhookDelivery.lease_until < now),
                ),
            )
            .values(
                status=DeliveryStatus.SENDING.value,
                claimed_by=worker,
                lease_until=now + dt.timedelta(seconds=lease_s),
                attempts=WebhookDelivery.attempts + 1,
            )
        )
        return bool(won.rowcount == 1)  # type: ignore[attr-defined]


def _post(
    client: httpx.Client, sub: WebhookSubscription, delivery: WebhookDelivery
) -> tuple[int | None, str | None]:
    body = delivery.payload.encode()
    ts = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "pingan-webhooks/1",
        "X-Pingan-Event": delivery.event,
        "X-Pingan-Delivery": str(delivery.id),
        "X-Pingan-Timestamp": str(ts),
        "X-Pingan-Signature": sign(sub.secret, ts, body),
    }
    try:
        response = client.post(sub.url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:1000]
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code}: {response.text[:200]}"


def attempt(
    engine: Engine,
    delivery_id: int,
    *,
    worker: str,
    policy: DeliveryPolicy,
    client: httpx.Client,
) -> str:
    """POST a claimed delivery and record the outcome; returns the delivery's new status."""
    with session_scope(engine) as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        sub = session.get(WebhookSubscription, delivery.subscription_id) if delivery else None
        if delivery is None or sub is None:
            return "missing"
        session.expunge_all()
    started = time.perf_counter()
    code, error = _post(client, sub, delivery)
    seconds = time.perf_counter() - started
    now = utcnow()
    if error is None:
        values: dict[str, Any] = {
            "status": DeliveryStatus.DELIVERED.value, "delivered_at": now, "last_error": None,
        }  # fmt: skip
    elif delivery.attempts >= policy.max_attempts:
        values = {"status": DeliveryStatus.DEAD.value, "last_error": error}
    else:
        delay = dt.timedelta(seconds=backoff(policy, delivery.attempts))
        values = {
            "status": DeliveryStatus.PENDING.value, "next_attempt_at": now + delay,
            "last_error": error,
        }  # fmt: skip
    with session_scope(engine) as session:
        session.add(
            WebhookAttempt(
                delivery_id=delivery_id, attempt=delivery.attempts, worker=worker, at=now,
                status_code=code, error=error, seconds=seconds,
            )
        )  # fmt: skip
        # Only the lease holder settles the delivery: a worker whose lease ran out
        # and was overtaken leaves the newer attempt's outcome alone.
        session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.claimed_by == worker,
                WebhookDelivery.attempts == delivery.attempts,
                WebhookDelivery.status == DeliveryStatus.SENDING,
            )
            .values(claimed_by=None, lease_until=None, **values)
        )
    return str(values["status"])


def deliver_due(
    engine: Engine,
    *,
    policy: DeliveryPolicy | None = None,
    worker: str | None = None,
    now: dt.datetime | None = None,
    client: httpx.Client | None = None,
) -> DeliveryReport:
    """One pass: claim and send every due delivery (up to ``policy.batch``)."""
    policy = policy or DeliveryPolicy()
    worker = worker or f"worker-{uuid.uuid4().hex[:12]}"
    report = DeliveryReport()
    own = client is None
    timeout = httpx.Timeout(policy.timeout_s, connect=min(policy.timeout_s, 3.0))
    http = client or httpx.Client(timeout=timeout, follow_redirects=False)
    started = time.monotonic()
    failing: set[int] = set()  # receivers that failed in this pass wait for the next one
    try:
        for delivery_id, sub_id in _due(engine, now or utcnow(), policy.batch):
            if sub_id in failing or time.monotonic() - started > policy.budget_s:
                continue
            if not claim(
                engine, delivery_id, worker=worker, now=now or utcnow(), lease_s=policy.lease_s
            ):
                continue  # another worker has it
            report.claimed += 1
            status = attempt(engine, delivery_id, worker=worker, policy=policy, client=http)
            if status == DeliveryStatus.DELIVERED:
                report.delivered += 1
            elif status == DeliveryStatus.DEAD:
                report.dead += 1
            else:
                report.retrying += 1
            if status != DeliveryStatus.DELIVERED:
                failing.add(sub_id)
    finally:
        if own:
            http.close()
    return report


@jobs.register(KIND, "Deliver queued alert webhooks (signed, retried with backoff)")
def delivery_job(engine: Engine, params: dict[str, Any], progress: jobs.Progress) -> dict[str, Any]:
    known = set(DeliveryPolicy.__dataclass_fields__)
    policy = DeliveryPolicy(**{k: v for k, v in params.items() if k in known})
    report = deliver_due(engine, policy=policy)
    return {
        "claimed": report.claimed,
        "delivered": report.delivered,
        "retrying": report.retrying,
        "dead": report.dead,
    }
