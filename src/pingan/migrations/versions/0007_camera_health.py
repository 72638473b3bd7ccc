"""camera health

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 12:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pingan.kit.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "camera_health_state",
        sa.Column("camera_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("state_since", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("first_seen_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_online", sa.Boolean(), nullable=False),
        sa.Column("fps", sa.Float(), nullable=True),
        sa.Column("bitrate_kbps", sa.Float(), nullable=True),
        sa.Column("reports", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_camera_health_state_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("camera_id", name=op.f("pk_camera_health_state")),
    )
    op.create_index("ix_camera_health_state_state", "camera_health_state", ["state"])
    if op.get_bind().dialect.name == "postgresql":
        # Room in each page for HOT updates: every heartbeat rewrites its camera's row.
        op.execute("ALTER TABLE camera_health_state SET (fillfactor = 50)")
    op.create_table(
        "camera_outages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("camera_id", sa.BigInteger(), nullable=False),
        sa.Column("started_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cause", sa.String(length=20), nullable=False),
        sa.Column("detected_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_camera_outages_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_camera_outages")),
    )
    op.create_index("ix_camera_outages_camera", "camera_outages", ["camera_id", "started_at"])
    op.create_index("ix_camera_outages_ended_at", "camera_outages", ["ended_at"])
    op.create_table(
        "camera_outage_notices",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("outage_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("recipient", sa.String(length=300), nullable=False),
        sa.Column("created_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["outage_id"],
            ["camera_outages.id"],
            name=op.f("fk_camera_outage_notices_outage_id_camera_outages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_camera_outage_notices")),
        sa.UniqueConstraint(
            "outage_id", "kind", name=op.f("uq_camera_outage_notices_outage_id_kind")
        ),
    )
    op.create_index(
        op.f("ix_camera_outage_notices_outage_id"), "camera_outage_notices", ["outage_id"]
    )
    op.create_index(
        op.f("ix_camera_outage_notices_created_at"), "camera_outage_notices", ["created_at"]
    )
    op.create_table(
        "camera_probe_targets",
        sa.Column("camera_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("last_probe_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_ok", sa.Boolean(), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("clock_offset_s", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cameras.id"],
            name=op.f("fk_camera_probe_targets_camera_id_cameras"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("camera_id", name=op.f("pk_camera_probe_targets")),
    )


def downgrade() -> None:
    op.drop_table("camera_probe_targets")
    op.drop_index(op.f("ix_camera_outage_notices_created_at"), table_name="camera_outage_notices")
    op.drop_index(op.f("ix_camera_outage_notices_outage_id"), table_name="camera_outage_notices")
    op.drop_table("camera_outage_notices")
    op.drop_index("ix_camera_outages_ended_at", table_name="camera_outages")
    op.drop_index("ix_camera_outages_camera", table_name="camera_outages")
    op.drop_table("camera_outages")
    op.drop_index("ix_camera_health_state_state", table_name="camera_health_state")
    op.drop_table("camera_health_state")
