"""``pingan alerts webhooks add|list|pause|resume|deliveries|requeue|deliver``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from pingan.alerts import webhooks
from pingan.kit.cli import cli_session, console, operator_name
from pingan.org.principal import Principal

webhooks_app = typer.Typer(help="Alert webhooks: subscriptions, deliveries and dead letters.")


def _actor() -> Principal:
    return Principal.system(operator_name())


@webhooks_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="A name for the receiver")],
    url: Annotated[str, typer.Argument(help="http(s) URL the alerts are POSTed to")],
    org_unit: Annotated[int, typer.Option(help="Alerts inside this org unit id")],
    event: Annotated[
        list[str] | None, typer.Option("--event", help="Event name (repeatable; default all)")
    ] = None,
    method: Annotated[
        list[str] | None, typer.Option("--method", help="Detection method (repeatable)")
    ] = None,
) -> None:
    """Subscribe a URL; prints the signing secret once."""
    data = webhooks.SubscriptionIn(
        name=name, url=url, org_unit_id=org_unit, events=tuple(event or ()),
        methods=tuple(method or ()),
    )  # fmt: skip
    with cli_session() as session:
        sub = webhooks.create_subscription(session, data, actor=_actor())
        console.print(f"webhook {sub.id} -> {escape(sub.url)}")
        console.print(f"secret (shown once): {sub.secret}")


@webhooks_app.command("list")
def list_() -> None:
    """The subscriptions."""
    with cli_session() as session:
        table = Table("id", "name", "url", "org unit", "events", "methods", "active")
        for s in webhooks.list_subscriptions(session, actor=_actor()):
            table.add_row(
                str(s.id), escape(s.name), escape(s.url), str(s.org_unit_id),
                ",".join(s.events) or "all", ",".join(s.methods) or "all",
                "yes" if s.active else "no",
            )  # fmt: skip
    console.print(table)


@webhooks_app.command("pause")
def pause(webhook_id: int) -> None:
    """Stop sending to a subscription (its deliveries wait)."""
    with cli_session() as session:
        webhooks.set_active(session, webhook_id, False, actor=_actor())
    console.print(f"webhook {webhook_id} paused")


@webhooks_app.command("resume")
def resume(webhook_id: int) -> None:
    """Send to a paused subscription again."""
    with cli_session() as session:
        webhooks.set_active(session, webhook_id, True, actor=_actor())
    console.print(f"webhook {webhook_id} resumed")


@webhooks_app.command("deliveries")
def deliveries(
    status: Annotated[str | None, typer.Option(help="pending, sending, delivered or dead")] = None,
    limit: Annotated[int, typer.Option(help="At most this many")] = 50,
) -> None:
    """Deliveries, newest first (``--status dead`` for the dead letters)."""
    with cli_session() as session:
        table = Table("id", "webhook", "alert", "event", "status", "attempts", "last error")
        for d in webhooks.list_deliveries(session, actor=_actor(), status=status, limit=limit):
            table.add_row(
                str(d.id), str(d.subscription_id), str(d.alert_id), d.event, d.status,
                str(d.attempts), escape((d.last_error or "")[:60]),
            )  # fmt: skip
    console.print(table)


@webhooks_app.command("requeue")
def requeue(delivery_id: int) -> None:
    """Put a dead letter back in the queue."""
    with cli_session() as session:
        webhooks.requeue(session, delivery_id, actor=_actor())
    console.print(f"delivery {delivery_id} requeued")


@webhooks_app.command("deliver")
def deliver() -> None:
    """Send the due deliveries now (the scheduler does this every 15 seconds)."""
    from pingan.kit.db import get_engine

    report = webhooks.deliver_due(get_engine())
    console.print(
        f"{report.claimed} claimed: {report.delivered} delivered, "
        f"{report.retrying} to retry, {report.dead} dead"
    )
