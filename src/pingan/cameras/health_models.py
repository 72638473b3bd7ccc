"""Tables of camera health: live state per camera, outage intervals, notices, probe targets.

Heartbeats are not stored one by one: a million a minute would be a million
rows a minute. Each camera keeps one live-state row (last seen, last fps and
bitrate, a report counter) and every change of state becomes an outage
interval; availability is computed from those intervals.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from pingan.kit.db import Base, BigIntPK, UTCDateTime, utcnow


class LiveState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


class OutageCause(StrEnum):
    SILENT = "silent"  # no heartbeat for longer than the configured silence
    REPORTED = "reported"  # the camera or its video system said it is offline
    PROBE = "probe"  # the ONVIF probe got no answer


class NoticeKind(StrEnum):
    OPENED = "opened"  # to the operations centre, when the outage is found
    REMINDER_1H = "reminder_1h"  # to the owner's contact, still down after an hour
    REMINDER_1D = "reminder_1d"  # to the owner's contact, still down after a day
    RECOVERED = "recovered"


class CameraLiveState(Base):
    """The latest heartbeat of one camera and whether it counts as online now."""

    __tablename__ = "camera_health_state"
    # Only ``state`` is indexed: it rarely changes, so the update of last_seen_at
    # that every heartbeat makes stays a HOT update on PostgreSQL (no index
    # writes). The once-a-minute silence scan reads the table instead.
    __table_args__ = (Index("ix_camera_health_state_state", "state"),)

    camera_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True,
        autoincrement=False,
    )  # fmt: skip
    state: Mapped[str] = mapped_column(String(10))
    state_since: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    first_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_online: Mapped[bool] = mapped_column(Boolean)
    fps: Mapped[float | None] = mapped_column(Float)
    bitrate_kbps: Mapped[float | None] = mapped_column(Float)
    reports: Mapped[int] = mapped_column(BigInteger, default=0)


class CameraOutage(Base):
    """One interval during which a camera was offline; ``ended_at`` is None while it lasts."""

    __tablename__ = "camera_outages"
    __table_args__ = (
        Index("ix_camera_outages_camera", "camera_id", "started_at"),
        Index("ix_camera_outages_ended_at", "ended_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    camera_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cameras.id", ondelete="CASCADE"))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    cause: Mapped[str] = mapped_column(String(20))
    detected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CameraOutageNotice(Base):
    """A notice about an outage, addressed to a recipient; one of each kind per outage."""

    __tablename__ = "camera_outage_notices"
    __table_args__ = (UniqueConstraint("outage_id", "kind"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    outage_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("camera_outages.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class CameraProbeTarget(Base):
    """Where a camera answers ONVIF, and what the last probe found."""

    __tablename__ = "camera_probe_targets"

    camera_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True,
        autoincrement=False,
    )  # fmt: skip
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer, default=80)
    last_probe_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_ok: Mapped[bool | None] = mapped_column(Boolean)
    last_error: Mapped[str | None] = mapped_column(String(300))
    clock_offset_s: Mapped[float | None] = mapped_column(Float)
