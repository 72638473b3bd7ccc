"""command mode: commands, the shared command log, one-tap acknowledgement links

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 13:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pingan.kit.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "dispatch_commands",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("org_unit_id", sa.Integer(), nullable=False),
        sa.Column("org_path", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("tiers", sa.JSON(), nullable=False),
        sa.Column("site_kind", sa.String(length=50), nullable=True),
        sa.Column("posts", sa.JSON(), nullable=False),
        sa.Column("activated_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("activated_by", sa.String(length=100), nullable=False),
        sa.Column("deactivated_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deactivated_by", sa.String(length=100), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_unit_id"],
            ["org_units.id"],
            name=op.f("fk_dispatch_commands_org_unit_id_org_units"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_commands")),
    )
    with op.batch_alter_table("dispatch_commands", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dispatch_commands_org_unit_id"), ["org_unit_id"], unique=False
        )
        batch_op.create_index(
            "ix_dispatch_commands_status_unit", ["status", "org_unit_id"], unique=False
        )

    op.create_table(
        "dispatch_command_log",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("command_id", BIGID, nullable=False),
        sa.Column("at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["command_id"],
            ["dispatch_commands.id"],
            name=op.f("fk_dispatch_command_log_command_id_dispatch_commands"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_command_log")),
    )
    with op.batch_alter_table("dispatch_command_log", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dispatch_command_log_command_id"), ["command_id"], unique=False
        )

    op.create_table(
        "dispatch_ack_links",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("assignment_id", BIGID, nullable=False),
        sa.Column("expires_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["dispatch_assignments.id"],
            name=op.f("fk_dispatch_ack_links_assignment_id_dispatch_assignments"),
        ),
        sa.PrimaryKeyConstraint("token_sha256", name=op.f("pk_dispatch_ack_links")),
    )
    with op.batch_alter_table("dispatch_ack_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dispatch_ack_links_assignment_id"), ["assignment_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("dispatch_ack_links")
    op.drop_table("dispatch_command_log")
    op.drop_table("dispatch_commands")
