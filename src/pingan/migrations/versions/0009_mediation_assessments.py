"""mediation assessments

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 12:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pingan.kit.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Issue 8: dispute mediation, decision risk assessments, compound remediation,
    # legal outreach. No spatial columns, so nothing differs between backends.
    op.create_table(
        "legal_outreach_activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("unit_path", sa.String(length=200), nullable=False),
        sa.Column("attendance", sa.Integer(), nullable=False),
        sa.Column("hours", sa.Float(), nullable=True),
        sa.Column("organiser", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["org_units.id"],
            name=op.f("fk_legal_outreach_activities_unit_id_org_units"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_outreach_activities")),
    )
    with op.batch_alter_table("legal_outreach_activities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_legal_outreach_activities_held_on"), ["held_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_legal_outreach_activities_kind"), ["kind"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_legal_outreach_activities_unit_id"), ["unit_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_legal_outreach_activities_unit_path"), ["unit_path"], unique=False
        )

    op.create_table(
        "risk_experts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("field", sa.String(length=50), nullable=False),
        sa.Column("affiliation", sa.String(length=200), nullable=False),
        sa.Column("affiliation_unit_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["affiliation_unit_id"],
            ["org_units.id"],
            name=op.f("fk_risk_experts_affiliation_unit_id_org_units"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_experts")),
    )
    with op.batch_alter_table("risk_experts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_risk_experts_field"), ["field"], unique=False)

    op.create_table(
        "compound_remediations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("compound_id", sa.Integer(), nullable=False),
        sa.Column("grid_path", sa.String(length=200), nullable=False),
        sa.Column("no_property_management", sa.Boolean(), nullable=False),
        sa.Column("no_responsible_department", sa.Boolean(), nullable=False),
        sa.Column("no_self_governance", sa.Boolean(), nullable=False),
        sa.Column("residents", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("created_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["compound_id"],
            ["residential_compounds.id"],
            name=op.f("fk_compound_remediations_compound_id_residential_compounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compound_remediations")),
        sa.UniqueConstraint("compound_id", name=op.f("uq_compound_remediations_compound_id")),
    )
    with op.batch_alter_table("compound_remediations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compound_remediations_grid_path"), ["grid_path"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_compound_remediations_status"), ["status"], unique=False
        )

    op.create_table(
        "mediation_disputes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("scale", sa.String(length=20), nullable=False),
        sa.Column("people_involved", sa.Integer(), nullable=False),
        sa.Column("risk_level", sa.String(length=10), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=True),
        sa.Column("mediator_body", sa.String(length=200), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("outcome_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("follow_up_on", sa.Date(), nullable=True),
        sa.Column("referred_to", sa.String(length=30), nullable=True),
        sa.Column("followed_up_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("follow_up_result", sa.String(length=20), nullable=True),
        sa.Column("follow_up_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_mediation_disputes_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediation_disputes")),
        sa.UniqueConstraint("case_id", name=op.f("uq_mediation_disputes_case_id")),
    )
    with op.batch_alter_table("mediation_disputes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mediation_disputes_channel"), ["channel"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_mediation_disputes_level"), ["level"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_mediation_disputes_outcome"), ["outcome"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_mediation_disputes_risk_level"), ["risk_level"], unique=False
        )

    op.create_table(
        "risk_assessments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("project", sa.String(length=200), nullable=False),
        sa.Column("proposing_org", sa.String(length=200), nullable=False),
        sa.Column("proposing_unit_id", sa.Integer(), nullable=True),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("risk_level", sa.String(length=10), nullable=True),
        sa.Column("risk_reasons", sa.Text(), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=True),
        sa.Column("decision_body", sa.String(length=200), nullable=False),
        sa.Column("decision_ref", sa.String(length=100), nullable=False),
        sa.Column("decided_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_risk_assessments_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposing_unit_id"],
            ["org_units.id"],
            name=op.f("fk_risk_assessments_proposing_unit_id_org_units"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_assessments")),
        sa.UniqueConstraint("case_id", name=op.f("uq_risk_assessments_case_id")),
    )
    with op.batch_alter_table("risk_assessments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_risk_assessments_risk_level"), ["risk_level"], unique=False
        )

    op.create_table(
        "compound_remediation_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("remediation_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=30), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["remediation_id"],
            ["compound_remediations.id"],
            name=op.f("fk_compound_remediation_steps_remediation_id_compound_remediations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compound_remediation_steps")),
        sa.UniqueConstraint(
            "remediation_id", "step", name=op.f("uq_compound_remediation_steps_remediation_id_step")
        ),
    )
    with op.batch_alter_table("compound_remediation_steps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compound_remediation_steps_remediation_id"),
            ["remediation_id"],
            unique=False,
        )

    op.create_table(
        "mediation_channel_moves",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "dispute_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("from_channel", sa.String(length=20), nullable=True),
        sa.Column("to_channel", sa.String(length=30), nullable=False),
        sa.Column("body", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dispute_id"],
            ["mediation_disputes.id"],
            name=op.f("fk_mediation_channel_moves_dispute_id_mediation_disputes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediation_channel_moves")),
    )
    with op.batch_alter_table("mediation_channel_moves", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mediation_channel_moves_dispute_id"), ["dispute_id"], unique=False
        )

    op.create_table(
        "mediation_parties",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "dispute_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.ForeignKeyConstraint(
            ["dispute_id"],
            ["mediation_disputes.id"],
            name=op.f("fk_mediation_parties_dispute_id_mediation_disputes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediation_parties")),
    )
    with op.batch_alter_table("mediation_parties", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mediation_parties_dispute_id"), ["dispute_id"], unique=False
        )

    op.create_table(
        "risk_consultations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "assessment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("participants", sa.Integer(), nullable=False),
        sa.Column("support", sa.Integer(), nullable=False),
        sa.Column("oppose", sa.Integer(), nullable=False),
        sa.Column("neutral", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["risk_assessments.id"],
            name=op.f("fk_risk_consultations_assessment_id_risk_assessments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_consultations")),
    )
    with op.batch_alter_table("risk_consultations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_risk_consultations_assessment_id"), ["assessment_id"], unique=False
        )

    op.create_table(
        "risk_expert_interests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("expert_id", sa.Integer(), nullable=False),
        sa.Column(
            "assessment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("organisation", sa.String(length=200), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("declared_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["risk_assessments.id"],
            name=op.f("fk_risk_expert_interests_assessment_id_risk_assessments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["expert_id"],
            ["risk_experts.id"],
            name=op.f("fk_risk_expert_interests_expert_id_risk_experts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_expert_interests")),
    )
    with op.batch_alter_table("risk_expert_interests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_risk_expert_interests_expert_id"), ["expert_id"], unique=False
        )

    op.create_table(
        "risk_mitigations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "assessment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("measure", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["risk_assessments.id"],
            name=op.f("fk_risk_mitigations_assessment_id_risk_assessments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_mitigations")),
    )
    with op.batch_alter_table("risk_mitigations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_risk_mitigations_assessment_id"), ["assessment_id"], unique=False
        )

    op.create_table(
        "risk_monitoring",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "assessment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["risk_assessments.id"],
            name=op.f("fk_risk_monitoring_assessment_id_risk_assessments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_monitoring")),
    )
    with op.batch_alter_table("risk_monitoring", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_risk_monitoring_assessment_id"), ["assessment_id"], unique=False
        )

    op.create_table(
        "risk_panel_seats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "assessment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("expert_id", sa.Integer(), nullable=False),
        sa.Column("assigned_by", sa.String(length=100), nullable=False),
        sa.Column("assigned_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["risk_assessments.id"],
            name=op.f("fk_risk_panel_seats_assessment_id_risk_assessments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["expert_id"],
            ["risk_experts.id"],
            name=op.f("fk_risk_panel_seats_expert_id_risk_experts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_panel_seats")),
        sa.UniqueConstraint(
            "assessment_id", "expert_id", name=op.f("uq_risk_panel_seats_assessment_id_expert_id")
        ),
    )
    with op.batch_alter_table("risk_panel_seats", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_risk_panel_seats_assessment_id"), ["assessment_id"], unique=False
        )

    op.create_table(
        "risk_scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "assessment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("expert_id", sa.Integer(), nullable=False),
        sa.Column("dimension", sa.String(length=20), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["risk_assessments.id"],
            name=op.f("fk_risk_scores_assessment_id_risk_assessments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["expert_id"], ["risk_experts.id"], name=op.f("fk_risk_scores_expert_id_risk_experts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_scores")),
        sa.UniqueConstraint(
            "assessment_id",
            "round",
            "expert_id",
            "dimension",
            name=op.f("uq_risk_scores_assessment_id_round_expert_id_dimension"),
        ),
    )
    with op.batch_alter_table("risk_scores", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_risk_scores_assessment_id"), ["assessment_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("risk_scores", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_scores_assessment_id"))

    op.drop_table("risk_scores")
    with op.batch_alter_table("risk_panel_seats", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_panel_seats_assessment_id"))

    op.drop_table("risk_panel_seats")
    with op.batch_alter_table("risk_monitoring", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_monitoring_assessment_id"))

    op.drop_table("risk_monitoring")
    with op.batch_alter_table("risk_mitigations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_mitigations_assessment_id"))

    op.drop_table("risk_mitigations")
    with op.batch_alter_table("risk_expert_interests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_expert_interests_expert_id"))

    op.drop_table("risk_expert_interests")
    with op.batch_alter_table("risk_consultations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_consultations_assessment_id"))

    op.drop_table("risk_consultations")
    with op.batch_alter_table("mediation_parties", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mediation_parties_dispute_id"))

    op.drop_table("mediation_parties")
    with op.batch_alter_table("mediation_channel_moves", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mediation_channel_moves_dispute_id"))

    op.drop_table("mediation_channel_moves")
    with op.batch_alter_table("compound_remediation_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compound_remediation_steps_remediation_id"))

    op.drop_table("compound_remediation_steps")
    with op.batch_alter_table("risk_assessments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_assessments_risk_level"))

    op.drop_table("risk_assessments")
    with op.batch_alter_table("mediation_disputes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mediation_disputes_risk_level"))
        batch_op.drop_index(batch_op.f("ix_mediation_disputes_outcome"))
        batch_op.drop_index(batch_op.f("ix_mediation_disputes_level"))
        batch_op.drop_index(batch_op.f("ix_mediation_disputes_channel"))

    op.drop_table("mediation_disputes")
    with op.batch_alter_table("compound_remediations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compound_remediations_status"))
        batch_op.drop_index(batch_op.f("ix_compound_remediations_grid_path"))

    op.drop_table("compound_remediations")
    with op.batch_alter_table("risk_experts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_experts_field"))

    op.drop_table("risk_experts")
    with op.batch_alter_table("legal_outreach_activities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_outreach_activities_unit_path"))
        batch_op.drop_index(batch_op.f("ix_legal_outreach_activities_unit_id"))
        batch_op.drop_index(batch_op.f("ix_legal_outreach_activities_kind"))
        batch_op.drop_index(batch_op.f("ix_legal_outreach_activities_held_on"))

    op.drop_table("legal_outreach_activities")
