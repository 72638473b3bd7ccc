"""duty rosters: responder shifts

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 12:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pingan.kit.db

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = pingan.kit.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "responder_shifts",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("responder_id", BIGID, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("starts_at", WHEN, nullable=False),
        sa.Column("ends_at", WHEN, nullable=False),
        sa.Column("started_applied_at", WHEN, nullable=True),
        sa.Column("ended_applied_at", WHEN, nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["responder_id"],
            ["responders.id"],
            ondelete="CASCADE",
            name=op.f("fk_responder_shifts_responder_id_responders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_responder_shifts")),
    )
    with op.batch_alter_table("responder_shifts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_responder_shifts_responder_start", ["responder_id", "starts_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_responder_shifts_starts_at"), ["starts_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_responder_shifts_ends_at"), ["ends_at"], unique=False)


def downgrade() -> None:
    op.drop_table("responder_shifts")
