"""Tables of dispute mediation: the dispute's details beside its case, parties, channels."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pingan.kit.db import Base, BigIntPK, UTCDateTime


class Dispute(Base):
    """What a mediation case needs beyond the generic case: level, scale, risk, outcome."""

    __tablename__ = "mediation_disputes"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    level: Mapped[str] = mapped_column(String(20), index=True)
    source: Mapped[str] = mapped_column(String(20))
    scale: Mapped[str] = mapped_column(String(20))
    people_involved: Mapped[int] = mapped_column(Integer)
    risk_level: Mapped[str] = mapped_column(String(10), index=True)
    # The channel mediating now (people | administrative | judicial); None until accepted.
    channel: Mapped[str | None] = mapped_column(String(20), index=True)
    mediator_body: Mapped[str] = mapped_column(String(200), default="")
    outcome: Mapped[str | None] = mapped_column(String(20), index=True)
    outcome_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    terms: Mapped[str] = mapped_column(Text, default="")
    follow_up_on: Mapped[dt.date | None] = mapped_column(Date)
    referred_to: Mapped[str | None] = mapped_column(String(30))
    followed_up_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    follow_up_result: Mapped[str | None] = mapped_column(String(20))
    follow_up_note: Mapped[str] = mapped_column(Text, default="")


class DisputeParty(Base):
    """A party with the least personal data mediation needs: a name, a phone if given."""

    __tablename__ = "mediation_parties"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    dispute_id: Mapped[int] = mapped_column(
        ForeignKey("mediation_disputes.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(50))


class ChannelMove(Base):
    """One entry of the dispute's single channel history: accepted, referred, sent out."""

    __tablename__ = "mediation_channel_moves"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    dispute_id: Mapped[int] = mapped_column(
        ForeignKey("mediation_disputes.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    from_channel: Mapped[str | None] = mapped_column(String(20))
    to_channel: Mapped[str] = mapped_column(String(30))
    body: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
