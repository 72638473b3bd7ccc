"""intake indexes: drop the index on incidents.type_id

Every insert into ``incidents`` pays for each of its indexes, and at a
million stored rows that is most of the server's time per intake batch.
The type index earns nothing back: a taxonomy has tens of codes, so a type
filter alone matches too much of the table for an index scan, and every
query that filters by type also filters by time or area, which have their
own indexes. No incident type is ever deleted (the taxonomy only grows), so
the foreign key needs no index either.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 16:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incidents_type_id"))


def downgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incidents_type_id"), ["type_id"], unique=False)
