"""Ground truth the generator planted, so analytics can be scored against it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pingan.kit.db import Base, UTCDateTime


class PlantedCluster(Base):
    """One planted outbreak, persistent hotspot or emerging hotspot.

    The cluster is a disc (centre, radius) active in [starts_at, ends_at);
    ``extra_per_day`` is its added rate at full strength and ``n_events`` the
    number of incidents the generator actually drew from it.
    """

    __tablename__ = "sim_planted_clusters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seed: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(30))
    type_code: Mapped[str] = mapped_column(String(80))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    x: Mapped[float] = mapped_column(Float)
    y: Mapped[float] = mapped_column(Float)
    radius_m: Mapped[float] = mapped_column(Float)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    extra_per_day: Mapped[float] = mapped_column(Float)
    n_events: Mapped[int] = mapped_column(Integer)
