"""Tables of anonymous tips, the dialogue with the tipster, rewards and their ledger.

Nothing here identifies the tipster: no user, no address, no device, no
original file name. The tip number (the case number) and an argon2 hash of
the PIN the tipster chose are all that tie a reader to a tip.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pingan.kit.db import Base, BigIntPK, UTCDateTime


class Tip(Base):
    __tablename__ = "tips"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    channel: Mapped[str] = mapped_column(String(10), index=True)  # web | app
    content: Mapped[str] = mapped_column(Text)
    place: Mapped[str] = mapped_column(String(300), default="")
    pin_hash: Mapped[str] = mapped_column(String(200))
    # Wrong PINs in a row; a run of them locks the tip for a while.
    failed_pins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    level: Mapped[str] = mapped_column(String(10), default="", index=True)
    outcome: Mapped[str | None] = mapped_column(String(30), index=True)


class TipMessage(Base):
    """One line of the two-way dialogue; a tipster's line has no actor."""

    __tablename__ = "tip_messages"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("tips.case_id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    sender: Mapped[str] = mapped_column(String(10))  # tipster | staff
    staff_actor: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)


class TipAttachment(Base):
    """An image from the tipster, re-encoded so that no metadata survives."""

    __tablename__ = "tip_attachments"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("tips.case_id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    content_type: Mapped[str] = mapped_column(String(30))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class TipReward(Base):
    """A reward proposed for a concluded tip; approved by someone else; paid against the PIN."""

    __tablename__ = "tip_rewards"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("tips.case_id", ondelete="CASCADE"), index=True)
    tier: Mapped[str] = mapped_column(String(20))
    amount_fen: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), index=True)
    proposed_by: Mapped[str] = mapped_column(String(100))
    proposed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(String(500), default="")
    paid_by: Mapped[str | None] = mapped_column(String(100))
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class RewardLedgerEntry(Base):
    """Double entry: each transaction's lines sum to zero (debit +, credit -), in fen."""

    __tablename__ = "tip_reward_ledger"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    txn: Mapped[str] = mapped_column(String(40), index=True)
    reward_id: Mapped[int] = mapped_column(ForeignKey("tip_rewards.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    account: Mapped[str] = mapped_column(String(30), index=True)
    amount_fen: Mapped[int] = mapped_column(Integer)
    memo: Mapped[str] = mapped_column(String(200), default="")
