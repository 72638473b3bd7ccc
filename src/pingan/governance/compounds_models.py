"""Tables of compound remediation: the three "no" flags and the project's steps."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pingan.kit.db import Base, UTCDateTime, utcnow


class Remediation(Base):
    """The remediation project of one residential compound (places domain)."""

    __tablename__ = "compound_remediations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    compound_id: Mapped[int] = mapped_column(
        ForeignKey("residential_compounds.id", ondelete="CASCADE"), unique=True
    )
    # The compound's grid path, for org scope and totals by area.
    grid_path: Mapped[str] = mapped_column(String(200), index=True)
    no_property_management: Mapped[bool] = mapped_column(Boolean)
    no_responsible_department: Mapped[bool] = mapped_column(Boolean)
    no_self_governance: Mapped[bool] = mapped_column(Boolean)
    residents: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), index=True)
    started_on: Mapped[dt.date | None] = mapped_column(Date)
    completed_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RemediationStep(Base):
    __tablename__ = "compound_remediation_steps"
    __table_args__ = (UniqueConstraint("remediation_id", "step"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    remediation_id: Mapped[int] = mapped_column(
        ForeignKey("compound_remediations.id", ondelete="CASCADE"), index=True
    )
    step: Mapped[str] = mapped_column(String(30))
    done_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(100))
