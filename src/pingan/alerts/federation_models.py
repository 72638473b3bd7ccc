"""Neighbouring jurisdictions whose signed alert feeds we poll, with their latest layer."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pingan.kit.db import Base, UTCDateTime, utcnow


class FederationPeer(Base):
    __tablename__ = "alert_federation_peers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    url: Mapped[str] = mapped_column(String(500))
    public_key: Mapped[str] = mapped_column(String(100))  # Ed25519, base64 of the 32 raw bytes
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The latest feed that verified (a FeatureCollection as JSON) and when the peer made it.
    layer: Mapped[str | None] = mapped_column(Text)
    layer_generated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_polled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_ok_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
