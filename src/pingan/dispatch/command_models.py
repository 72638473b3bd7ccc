"""Tables of command mode: an activated command, its shared log, and one-tap links."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pingan.kit.db import Base, BigIntPK, UTCDateTime, utcnow


class CommandKind(StrEnum):
    EVENT = "event"  # a planned major event: a marathon, a festival, a summit
    EMERGENCY = "emergency"  # an unplanned one: a flood, a large fire, a crowd crush


class CommandStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class LogKind(StrEnum):
    DECISION = "decision"
    ORDER = "order"
    REPORT = "report"
    NOTE = "note"
    # Written by Pingan itself: activation, tier call-up, pre-positioning, closing.
    SYSTEM = "system"


class Command(Base):
    """A city- or district-level command, active from activation to deactivation."""

    __tablename__ = "dispatch_commands"
    __table_args__ = (Index("ix_dispatch_commands_status_unit", "status", "org_unit_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    org_path: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default=CommandStatus.ACTIVE)
    # Tiers called up for the command, e.g. [1, 2, 3] when volunteers join.
    tiers: Mapped[list[int]] = mapped_column(JSON, default=list)
    site_kind: Mapped[str | None] = mapped_column(String(50))
    # The pre-positioning plan computed at activation (posts, worst and mean travel time).
    posts: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    activated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    activated_by: Mapped[str] = mapped_column(String(100))
    deactivated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    deactivated_by: Mapped[str | None] = mapped_column(String(100))
    # The after-action summary, written once at deactivation.
    summary: Mapped[dict[str, object] | None] = mapped_column(JSON)


class CommandLogEntry(Base):
    """One line of the shared command log: who decided or ordered what, and when."""

    __tablename__ = "dispatch_command_log"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    command_id: Mapped[int] = mapped_column(ForeignKey("dispatch_commands.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    incident_id: Mapped[int | None] = mapped_column(Integer)


class AckLink(Base):
    """A one-tap acknowledgement link for a responder's phone (volunteers have no login).

    Only the SHA-256 of the token is stored; the link works until it expires
    or is used, and only for its one assignment.
    """

    __tablename__ = "dispatch_ack_links"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("dispatch_assignments.id"), index=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(100))
