"""Tables of decision risk assessments: the decision, experts, panel, scores, records."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pingan.kit.db import Base, BigIntPK, UTCDateTime, utcnow


class Assessment(Base):
    """A major decision or project under assessment, beside its case."""

    __tablename__ = "risk_assessments"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    project: Mapped[str] = mapped_column(String(200))
    proposing_org: Mapped[str] = mapped_column(String(200))
    proposing_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    # Each reassessment after mitigations is a new round of scores.
    round: Mapped[int] = mapped_column(Integer, default=1)
    risk_level: Mapped[str | None] = mapped_column(String(10), index=True)
    risk_reasons: Mapped[str] = mapped_column(Text, default="[]")
    decision: Mapped[str | None] = mapped_column(String(20))
    decision_body: Mapped[str] = mapped_column(String(200), default="")
    decision_ref: Mapped[str] = mapped_column(String(100), default="")
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Expert(Base):
    """A member of the expert pool; affiliation is what conflict checks compare."""

    __tablename__ = "risk_experts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    field: Mapped[str] = mapped_column(String(50), index=True)
    affiliation: Mapped[str] = mapped_column(String(200))
    affiliation_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ExpertInterest(Base):
    """A declared interest: in one assessment, or in an organisation."""

    __tablename__ = "risk_expert_interests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    expert_id: Mapped[int] = mapped_column(
        ForeignKey("risk_experts.id", ondelete="CASCADE"), index=True
    )
    assessment_id: Mapped[int | None] = mapped_column(
        ForeignKey("risk_assessments.id", ondelete="CASCADE")
    )
    organisation: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(String(500), default="")
    declared_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PanelSeat(Base):
    __tablename__ = "risk_panel_seats"
    __table_args__ = (UniqueConstraint("assessment_id", "expert_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("risk_assessments.id", ondelete="CASCADE"), index=True
    )
    expert_id: Mapped[int] = mapped_column(ForeignKey("risk_experts.id"))
    assigned_by: Mapped[str] = mapped_column(String(100))
    assigned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Consultation(Base):
    """A survey or hearing held for this decision, as aggregate counts (no participants' data)."""

    __tablename__ = "risk_consultations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("risk_assessments.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    held_on: Mapped[dt.date] = mapped_column(Date)
    participants: Mapped[int] = mapped_column(Integer)
    support: Mapped[int] = mapped_column(Integer)
    oppose: Mapped[int] = mapped_column(Integer)
    neutral: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(100))


class Score(Base):
    """One expert's score (1 severe concern .. 5 sound) of one dimension, in one round."""

    __tablename__ = "risk_scores"
    __table_args__ = (UniqueConstraint("assessment_id", "round", "expert_id", "dimension"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("risk_assessments.id", ondelete="CASCADE"), index=True
    )
    round: Mapped[int] = mapped_column(Integer)
    expert_id: Mapped[int] = mapped_column(ForeignKey("risk_experts.id"))
    dimension: Mapped[str] = mapped_column(String(20))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")


class Mitigation(Base):
    __tablename__ = "risk_mitigations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("risk_assessments.id", ondelete="CASCADE"), index=True
    )
    round: Mapped[int] = mapped_column(Integer)
    measure: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class MonitoringNote(Base):
    """Follow-up monitoring of an implemented decision."""

    __tablename__ = "risk_monitoring"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("risk_assessments.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(100))
