"""Tables of compound remediation: the compound's three "no"s and the steps done.

The project itself is a case (``compound_remediation``): state, responsible
unit, clocks, timeline. ``Remediation`` is the compound's side of it, one row
per compound: the three "no" flags, the residents who benefit, and the case
now working on it (a cancelled project may be followed by a new one).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pingan.kit.db import Base, UTCDateTime, utcnow


class Remediation(Base):
    """The remediation record of one residential compound (places domain)."""

    __tablename__ = "compound_remediations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    compound_id: Mapped[int] = mapped_column(
        ForeignKey("residential_compounds.id", ondelete="CASCADE"), unique=True
    )
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), unique=True
    )
    # The compound's grid path, where it lies (the case's unit is the subdistrict's).
    grid_path: Mapped[str] = mapped_column(String(200), index=True)
    no_property_management: Mapped[bool] = mapped_column(Boolean)
    no_responsible_department: Mapped[bool] = mapped_column(Boolean)
    no_self_governance: Mapped[bool] = mapped_column(Boolean)
    residents: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RemediationStep(Base):
    """One of the four steps, recorded on the case with its evidence."""

    __tablename__ = "compound_remediation_steps"
    __table_args__ = (UniqueConstraint("case_id", "step"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    remediation_id: Mapped[int] = mapped_column(
        ForeignKey("compound_remediations.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(String(30))
    done_on: Mapped[dt.date] = mapped_column(Date)
    # The evidence: what shows the step is done (a filing receipt, a contract...).
    note: Mapped[str] = mapped_column(Text, default="")
    attachment_id: Mapped[int | None] = mapped_column(
        ForeignKey("case_attachments.id", ondelete="SET NULL")
    )
    recorded_by: Mapped[str] = mapped_column(String(100))
