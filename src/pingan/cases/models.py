"""Tables of the cases domain."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from pingan.kit.db import Base, BigIntPK, UTCDateTime, utcnow


class CaseCategory(Base):
    """A configurable category (component or event) with its handling deadline and route."""

    __tablename__ = "case_categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_type: Mapped[str] = mapped_column(String(40), index=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # "component" | "event"
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    # Routing: which department handles it, at which org level.
    department: Mapped[str] = mapped_column(String(100))
    handling_level: Mapped[str] = mapped_column(String(20))
    deadline_amount: Mapped[int] = mapped_column(Integer)
    deadline_basis: Mapped[str] = mapped_column(String(20))  # see cases.calendar.Basis
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class CaseHoliday(Base):
    """A day off (or a make-up working day on a weekend) in the city's calendar."""

    __tablename__ = "case_holidays"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    is_workday: Mapped[bool] = mapped_column(Boolean, default=False)


class CaseCounter(Base):
    """The last number issued per prefix and year (GE-2026-000123)."""

    __tablename__ = "case_counters"

    prefix: Mapped[str] = mapped_column(String(10), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    case_type: Mapped[str] = mapped_column(String(40), index=True)
    state: Mapped[str] = mapped_column(String(30), index=True)
    is_open: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("case_categories.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    # Projected metres in the city CRS, for the 50 m duplicate search.
    x: Mapped[float | None] = mapped_column(Float)
    y: Mapped[float | None] = mapped_column(Float)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    grid_path: Mapped[str] = mapped_column(String(200), default="", index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    unit_path: Mapped[str] = mapped_column(String(200), index=True)
    department: Mapped[str] = mapped_column(String(100), default="")
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    reporter_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Personal fields of a public reporter: never returned by public endpoints.
    reporter_name: Mapped[str | None] = mapped_column(String(200))
    reporter_email: Mapped[str | None] = mapped_column(String(200))
    reporter_phone: Mapped[str | None] = mapped_column(String(50))
    source: Mapped[str] = mapped_column(String(30), default="api")
    public_token: Mapped[str] = mapped_column(String(40), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    supervision_flag: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    rating: Mapped[int | None] = mapped_column(Integer)
    status_note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class CaseEvent(Base):
    """One line of a case's timeline: transition, comment, assignment, attachment, escalation."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(30))
    to_state: Mapped[str | None] = mapped_column(String(30))
    detail: Mapped[str] = mapped_column(Text, default="{}")


class CaseAttachment(Base):
    __tablename__ = "case_attachments"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(30), default="evidence")
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaseClock(Base):
    """One run of an SLA clock; a restarted clock is a new row (a new cycle).

    ``remaining_s`` is counted time (working or calendar seconds, per basis)
    left when the clock last (re)started; ``due_at`` and ``warn_at`` are
    derived from it with the calendar whenever the clock starts or resumes.
    """

    __tablename__ = "case_clocks"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    basis: Mapped[str] = mapped_column(String(20))
    total_s: Mapped[int] = mapped_column(Integer)
    remaining_s: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    running_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    paused_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    stopped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    warn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[str] = mapped_column(String(10), index=True)  # running|paused|stopped


class CaseEscalation(Base):
    """An escalation rule applied to one clock run; the unique key makes it once only.

    Once per budget: an extension grows the clock's ``total_s``, which re-arms
    the reminder and the breach rule for the new deadline.
    """

    __tablename__ = "case_escalations"
    __table_args__ = (UniqueConstraint("clock_id", "rule", "budget_s"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    clock_id: Mapped[int] = mapped_column(ForeignKey("case_clocks.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    rule: Mapped[str] = mapped_column(String(60))
    # The clock's total_s when the rule was applied.
    budget_s: Mapped[int] = mapped_column(Integer, default=0)
    applied_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    actions: Mapped[str] = mapped_column(String(200))


class PatrolCheckin(Base):
    """A grid worker's patrol check-in: who was in which grid, when."""

    __tablename__ = "patrol_checkins"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    grid_path: Mapped[str] = mapped_column(String(200), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(String(500), default="")
