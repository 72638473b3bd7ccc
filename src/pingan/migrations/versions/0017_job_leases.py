"""job leases: the runner of a running job, until when its lease holds, and the attempt count

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pingan.kit.db

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN works on both backends; jobs already running keep a NULL lease,
    # so no worker takes them over (they are finished by whoever runs them).
    op.add_column("jobs", sa.Column("runner", sa.String(length=120), nullable=True))
    op.add_column(
        "jobs",
        sa.Column("lease_expires_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=True),
    )
    op.add_column("jobs", sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("attempts")
        batch.drop_column("lease_expires_at")
        batch.drop_column("runner")
