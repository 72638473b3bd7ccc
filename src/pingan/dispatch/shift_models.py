"""Duty rosters: when each responder is on duty or on call."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from pingan.kit.db import Base, BigIntPK, UTCDateTime, utcnow


class ShiftKind(StrEnum):
    ON_DUTY = "on_duty"  # working: patrols, posts, dispatchable
    ON_CALL = "on_call"  # at home but reachable: dispatchable too


class Shift(Base):
    """One shift; the roster job makes the responder available at its start and off
    duty at its end, each exactly once (the ``*_applied_at`` stamps are conditional)."""

    __tablename__ = "responder_shifts"
    __table_args__ = (Index("ix_responder_shifts_responder_start", "responder_id", "starts_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    responder_id: Mapped[int] = mapped_column(ForeignKey("responders.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20), default=ShiftKind.ON_DUTY)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    started_applied_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    ended_applied_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
