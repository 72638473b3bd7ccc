"""key-site watch rules

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pingan.kit.db

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_watch_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("incident_types", sa.JSON(), nullable=False),
        sa.Column("max_level", sa.SmallInteger(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=True),
        sa.Column("radius_m", sa.Float(), nullable=False),
        sa.Column("window_hours", sa.Float(), nullable=False),
        sa.Column("baseline_days", sa.Integer(), nullable=False),
        sa.Column("alpha", sa.Float(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["place_id"], ["places.id"], name=op.f("fk_alert_watch_rules_place_id_places")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_watch_rules")),
    )


def downgrade() -> None:
    op.drop_table("alert_watch_rules")
