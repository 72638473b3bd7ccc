"""alert delivery

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pingan.kit.db

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_webhooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("methods", sa.JSON(), nullable=False),
        sa.Column("org_unit_id", sa.Integer(), nullable=False),
        sa.Column("org_path", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_unit_id"], ["org_units.id"], name=op.f("fk_alert_webhooks_org_unit_id_org_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_webhooks")),
    )
    op.create_table(
        "alert_webhook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("lease_until", pingan.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_alert_webhook_deliveries_alert_id_alerts")
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["alert_webhooks.id"],
            name=op.f("fk_alert_webhook_deliveries_subscription_id_alert_webhooks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_webhook_deliveries")),
    )
    op.create_index(
        "ix_alert_webhook_deliveries_due",
        "alert_webhook_deliveries",
        ["status", "next_attempt_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_alert_webhook_deliveries_subscription_id"),
        "alert_webhook_deliveries",
        ["subscription_id"],
        unique=False,
    )
    op.create_table(
        "alert_webhook_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=100), nullable=False),
        sa.Column("at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["alert_webhook_deliveries.id"],
            name=op.f("fk_alert_webhook_attempts_delivery_id_alert_webhook_deliveries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_webhook_attempts")),
    )
    op.create_index(
        op.f("ix_alert_webhook_attempts_delivery_id"),
        "alert_webhook_attempts",
        ["delivery_id"],
        unique=False,
    )
    op.create_table(
        "alert_federation_peers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("public_key", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("layer", sa.Text(), nullable=True),
        sa.Column("layer_generated_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_polled_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_ok_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_federation_peers")),
        sa.UniqueConstraint("name", name=op.f("uq_alert_federation_peers_name")),
    )


def downgrade() -> None:
    op.drop_table("alert_federation_peers")
    op.drop_index(
        op.f("ix_alert_webhook_attempts_delivery_id"), table_name="alert_webhook_attempts"
    )
    op.drop_table("alert_webhook_attempts")
    op.drop_index(
        op.f("ix_alert_webhook_deliveries_subscription_id"), table_name="alert_webhook_deliveries"
    )
    op.drop_index("ix_alert_webhook_deliveries_due", table_name="alert_webhook_deliveries")
    op.drop_table("alert_webhook_deliveries")
    op.drop_table("alert_webhooks")
