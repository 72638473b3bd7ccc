"""HTTP routes of alert webhooks: subscriptions (admins) and the delivery log with dead letters."""

from __future__ import annotations

from fastapi import APIRouter, Query

from pingan.alerts import webhooks
from pingan.alerts.webhooks_schemas import (
    ActiveIn,
    AttemptOut,
    DeliveryOut,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
)
from pingan.api.deps import CurrentPrincipal, DbSession

router = APIRouter(prefix="/webhooks", tags=["alerts"])


@router.get("", response_model=list[WebhookOut])
def list_webhooks(principal: CurrentPrincipal, session: DbSession) -> list[WebhookOut]:
    """Webhook subscriptions in your scope (needs alerts:integrations)."""
    found = webhooks.list_subscriptions(session, actor=principal)
    return [WebhookOut.model_validate(s) for s in found]


@router.post("", response_model=WebhookCreated, status_code=201)
def create_webhook(
    body: WebhookIn, principal: CurrentPrincipal, session: DbSession
) -> WebhookCreated:
    """Subscribe a URL to alert events; the answer holds the signing secret, once."""
    data = webhooks.SubscriptionIn(
        name=body.name, url=body.url, org_unit_id=body.org_unit_id, events=tuple(body.events),
        methods=tuple(body.methods), secret=body.secret,
    )  # fmt: skip
    sub = webhooks.create_subscription(session, data, actor=principal)
    return WebhookCreated.model_validate(sub)


@router.post("/{webhook_id}/active", response_model=WebhookOut)
def set_webhook_active(
    webhook_id: int, body: ActiveIn, principal: CurrentPrincipal, session: DbSession
) -> WebhookOut:
    """Pause or resume a subscription; its queued deliveries wait while paused."""
    sub = webhooks.set_active(session, webhook_id, body.active, actor=principal)
    return WebhookOut.model_validate(sub)


@router.get("/deliveries", response_model=list[DeliveryOut])
def list_deliveries(
    principal: CurrentPrincipal,
    session: DbSession,
    status: str | None = Query(None, description="pending, sending, delivered or dead"),
    webhook_id: int | None = Query(None, description="Only this subscription's"),
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0),
) -> list[DeliveryOut]:
    """Deliveries, newest first, with every attempt; ``status=dead`` lists the dead letters."""
    found = webhooks.list_deliveries(
        session, actor=principal, status=status, subscription_id=webhook_id, limit=limit,
        offset=offset,
    )  # fmt: skip
    history = webhooks.attempts_of_many(session, [d.id for d in found])
    out = []
    for d in found:
        item = DeliveryOut.model_validate(d)
        item.history = [AttemptOut.model_validate(a) for a in history[d.id]]
        out.append(item)
    return out


@router.post("/deliveries/{delivery_id}/requeue", response_model=DeliveryOut)
def requeue_delivery(
    delivery_id: int, principal: CurrentPrincipal, session: DbSession
) -> DeliveryOut:
    """Send a dead letter again, with a fresh count of attempts."""
    return DeliveryOut.model_validate(webhooks.requeue(session, delivery_id, actor=principal))
