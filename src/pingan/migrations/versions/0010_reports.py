"""reports

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 12:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pingan.kit.db

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_briefings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("org_unit_id", sa.Integer(), nullable=False),
        sa.Column("org_path", sa.String(length=200), nullable=False),
        sa.Column("period_label", sa.String(length=60), nullable=False),
        sa.Column("period_start", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("period_end", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=100), nullable=True),
        sa.Column("published_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_unit_id"],
            ["org_units.id"],
            name=op.f("fk_report_briefings_org_unit_id_org_units"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_briefings")),
        sa.UniqueConstraint(
            "kind",
            "org_unit_id",
            "period_start",
            "version",
            name=op.f("uq_report_briefings_kind_org_unit_id_period_start_version"),
        ),
    )
    with op.batch_alter_table("report_briefings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_briefings_kind"), ["kind"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_report_briefings_org_path"), ["org_path"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_report_briefings_org_unit_id"), ["org_unit_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_report_briefings_status"), ["status"], unique=False)

    op.create_table(
        "report_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("briefing_id", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(length=40), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["briefing_id"],
            ["report_briefings.id"],
            name=op.f("fk_report_comments_briefing_id_report_briefings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_comments")),
    )
    with op.batch_alter_table("report_comments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_comments_briefing_id"), ["briefing_id"], unique=False
        )

    op.create_table(
        "report_campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("org_unit_id", sa.Integer(), nullable=False),
        sa.Column("org_path", sa.String(length=200), nullable=False),
        sa.Column("area", pingan.kit.db.Geometry(geometry_type="MULTIPOLYGON"), nullable=False),
        sa.Column("incident_types", sa.Text(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("band_m", sa.Float(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("evaluation", sa.Text(), nullable=True),
        sa.Column("evaluated_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_unit_id"],
            ["org_units.id"],
            name=op.f("fk_report_campaigns_org_unit_id_org_units"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_campaigns")),
    )
    with op.batch_alter_table("report_campaigns", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_campaigns_org_path"), ["org_path"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_report_campaigns_org_unit_id"), ["org_unit_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("report_campaigns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_campaigns_org_unit_id"))
        batch_op.drop_index(batch_op.f("ix_report_campaigns_org_path"))
    op.drop_table("report_campaigns")
    with op.batch_alter_table("report_comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_comments_briefing_id"))
    op.drop_table("report_comments")
    with op.batch_alter_table("report_briefings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_briefings_status"))
        batch_op.drop_index(batch_op.f("ix_report_briefings_org_unit_id"))
        batch_op.drop_index(batch_op.f("ix_report_briefings_org_path"))
        batch_op.drop_index(batch_op.f("ix_report_briefings_kind"))
    op.drop_table("report_briefings")
