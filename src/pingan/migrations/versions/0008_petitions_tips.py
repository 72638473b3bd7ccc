"""petitions tips

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 12:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pingan.kit.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "petitions",
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("received_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("is_group", sa.Boolean(), nullable=False),
        sa.Column("headcount", sa.Integer(), nullable=False),
        sa.Column("petitioner_name", sa.String(length=200), nullable=True),
        sa.Column("petitioner_phone", sa.String(length=50), nullable=True),
        sa.Column("petitioner_address", sa.String(length=300), nullable=True),
        sa.Column("person_key", sa.String(length=64), nullable=True),
        sa.Column("place", sa.String(length=300), nullable=False),
        sa.Column("place_key", sa.String(length=300), nullable=False),
        sa.Column("matter", sa.Text(), nullable=False),
        sa.Column("requests", sa.Text(), nullable=False),
        sa.Column("accused_name", sa.String(length=200), nullable=True),
        sa.Column("accused_user_id", sa.Integer(), nullable=True),
        sa.Column("accused_unit_id", sa.Integer(), nullable=True),
        sa.Column(
            "same_matter_as_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("same_matter_score", sa.Float(), nullable=True),
        sa.Column("lookup_hash", sa.String(length=200), nullable=False),
        sa.Column("leader_user_id", sa.Integer(), nullable=True),
        sa.Column("joint", sa.Boolean(), nullable=False),
        sa.Column("extension_days", sa.Integer(), nullable=True),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("extended_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("exhausted", sa.Boolean(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rating_comment", sa.String(length=500), nullable=False),
        sa.Column("rated_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["accused_unit_id"],
            ["org_units.id"],
            name=op.f("fk_petitions_accused_unit_id_org_units"),
        ),
        sa.ForeignKeyConstraint(
            ["accused_user_id"], ["users.id"], name=op.f("fk_petitions_accused_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_petitions_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["leader_user_id"], ["users.id"], name=op.f("fk_petitions_leader_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["same_matter_as_id"], ["cases.id"], name=op.f("fk_petitions_same_matter_as_id_cases")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_petitions")),
    )
    op.create_index(op.f("ix_petitions_channel"), "petitions", ["channel"], unique=False)
    op.create_index(op.f("ix_petitions_exhausted"), "petitions", ["exhausted"], unique=False)
    op.create_index(
        op.f("ix_petitions_leader_user_id"), "petitions", ["leader_user_id"], unique=False
    )
    op.create_index(op.f("ix_petitions_person_key"), "petitions", ["person_key"], unique=False)
    op.create_index(op.f("ix_petitions_place_key"), "petitions", ["place_key"], unique=False)
    op.create_index(op.f("ix_petitions_received_at"), "petitions", ["received_at"], unique=False)
    op.create_table(
        "tips",
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("place", sa.String(length=300), nullable=False),
        sa.Column("pin_hash", sa.String(length=200), nullable=False),
        sa.Column("failed_pins", sa.Integer(), nullable=False),
        sa.Column("locked_until", pingan.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("outcome", sa.String(length=30), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_tips_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_tips")),
    )
    op.create_index(op.f("ix_tips_channel"), "tips", ["channel"], unique=False)
    op.create_index(op.f("ix_tips_level"), "tips", ["level"], unique=False)
    op.create_index(op.f("ix_tips_outcome"), "tips", ["outcome"], unique=False)
    op.create_table(
        "petition_letters",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("issued_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("dates", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["petitions.case_id"],
            name=op.f("fk_petition_letters_case_id_petitions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_petition_letters")),
    )
    op.create_index(
        op.f("ix_petition_letters_case_id"), "petition_letters", ["case_id"], unique=False
    )
    op.create_table(
        "petition_materials",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("accuses", sa.Boolean(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("added_by", sa.String(length=100), nullable=False),
        sa.Column("added_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["petitions.case_id"],
            name=op.f("fk_petition_materials_case_id_petitions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_petition_materials")),
    )
    op.create_index(
        op.f("ix_petition_materials_case_id"), "petition_materials", ["case_id"], unique=False
    )
    op.create_table(
        "petition_participants",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("unit_path", sa.String(length=200), nullable=False),
        sa.Column("department", sa.String(length=100), nullable=False),
        sa.Column("added_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["petitions.case_id"],
            name=op.f("fk_petition_participants_case_id_petitions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["org_units.id"], name=op.f("fk_petition_participants_unit_id_org_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_petition_participants")),
    )
    op.create_index(
        op.f("ix_petition_participants_case_id"), "petition_participants", ["case_id"], unique=False
    )
    op.create_index(
        op.f("ix_petition_participants_unit_id"), "petition_participants", ["unit_id"], unique=False
    )
    op.create_index(
        op.f("ix_petition_participants_unit_path"),
        "petition_participants",
        ["unit_path"],
        unique=False,
    )
    op.create_table(
        "petition_representatives",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["petitions.case_id"],
            name=op.f("fk_petition_representatives_case_id_petitions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_petition_representatives")),
    )
    op.create_index(
        op.f("ix_petition_representatives_case_id"),
        "petition_representatives",
        ["case_id"],
        unique=False,
    )
    op.create_table(
        "tip_attachments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("content_type", sa.String(length=30), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["tips.case_id"],
            name=op.f("fk_tip_attachments_case_id_tips"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tip_attachments")),
    )
    op.create_index(
        op.f("ix_tip_attachments_case_id"), "tip_attachments", ["case_id"], unique=False
    )
    op.create_table(
        "tip_messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sender", sa.String(length=10), nullable=False),
        sa.Column("staff_actor", sa.String(length=100), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["tips.case_id"],
            name=op.f("fk_tip_messages_case_id_tips"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tip_messages")),
    )
    op.create_index(op.f("ix_tip_messages_case_id"), "tip_messages", ["case_id"], unique=False)
    op.create_table(
        "tip_rewards",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tier", sa.String(length=20), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("proposed_by", sa.String(length=100), nullable=False),
        sa.Column("proposed_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("paid_by", sa.String(length=100), nullable=True),
        sa.Column("paid_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["tips.case_id"],
            name=op.f("fk_tip_rewards_case_id_tips"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tip_rewards")),
    )
    op.create_index(op.f("ix_tip_rewards_case_id"), "tip_rewards", ["case_id"], unique=False)
    op.create_index(op.f("ix_tip_rewards_status"), "tip_rewards", ["status"], unique=False)
    op.create_table(
        "tip_reward_ledger",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("txn", sa.String(length=40), nullable=False),
        sa.Column(
            "reward_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("account", sa.String(length=30), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("memo", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["reward_id"],
            ["tip_rewards.id"],
            name=op.f("fk_tip_reward_ledger_reward_id_tip_rewards"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tip_reward_ledger")),
    )
    op.create_index(
        op.f("ix_tip_reward_ledger_account"), "tip_reward_ledger", ["account"], unique=False
    )
    op.create_index(op.f("ix_tip_reward_ledger_at"), "tip_reward_ledger", ["at"], unique=False)
    op.create_index(
        op.f("ix_tip_reward_ledger_reward_id"), "tip_reward_ledger", ["reward_id"], unique=False
    )
    op.create_index(op.f("ix_tip_reward_ledger_txn"), "tip_reward_ledger", ["txn"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_tip_reward_ledger_txn"), table_name="tip_reward_ledger")
    op.drop_index(op.f("ix_tip_reward_ledger_reward_id"), table_name="tip_reward_ledger")
    op.drop_index(op.f("ix_tip_reward_ledger_at"), table_name="tip_reward_ledger")
    op.drop_index(op.f("ix_tip_reward_ledger_account"), table_name="tip_reward_ledger")
    op.drop_table("tip_reward_ledger")
    op.drop_index(op.f("ix_tip_rewards_status"), table_name="tip_rewards")
    op.drop_index(op.f("ix_tip_rewards_case_id"), table_name="tip_rewards")
    op.drop_table("tip_rewards")
    op.drop_index(op.f("ix_tip_messages_case_id"), table_name="tip_messages")
    op.drop_table("tip_messages")
    op.drop_index(op.f("ix_tip_attachments_case_id"), table_name="tip_attachments")
    op.drop_table("tip_attachments")
    op.drop_index(
        op.f("ix_petition_representatives_case_id"), table_name="petition_representatives"
    )
    op.drop_table("petition_representatives")
    op.drop_index(op.f("ix_petition_participants_unit_path"), table_name="petition_participants")
    op.drop_index(op.f("ix_petition_participants_unit_id"), table_name="petition_participants")
    op.drop_index(op.f("ix_petition_participants_case_id"), table_name="petition_participants")
    op.drop_table("petition_participants")
    op.drop_index(op.f("ix_petition_materials_case_id"), table_name="petition_materials")
    op.drop_table("petition_materials")
    op.drop_index(op.f("ix_petition_letters_case_id"), table_name="petition_letters")
    op.drop_table("petition_letters")
    op.drop_index(op.f("ix_tips_outcome"), table_name="tips")
    op.drop_index(op.f("ix_tips_level"), table_name="tips")
    op.drop_index(op.f("ix_tips_channel"), table_name="tips")
    op.drop_table("tips")
    op.drop_index(op.f("ix_petitions_received_at"), table_name="petitions")
    op.drop_index(op.f("ix_petitions_place_key"), table_name="petitions")
    op.drop_index(op.f("ix_petitions_person_key"), table_name="petitions")
    op.drop_index(op.f("ix_petitions_leader_user_id"), table_name="petitions")
    op.drop_index(op.f("ix_petitions_exhausted"), table_name="petitions")
    op.drop_index(op.f("ix_petitions_channel"), table_name="petitions")
    op.drop_table("petitions")
