"""Helpers for the camera health tests: owners and cameras in the small test city.

Cameras are registered through the registry's own service, so health sees
exactly what production code writes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.cameras import registry
from pingan.cameras.models import Camera
from pingan.cameras.schemas import CameraIn, OwnerIn
from pingan.org.principal import Principal
from tests.citykit import grid_centre

SYSTEM = Principal.system("test")
T0 = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)


def add_owner(session: Session, code: str, **contact: Any) -> int:
    owner = registry.create_owner(
        session, OwnerIn(code=code, name=code.title(), **contact), actor=SYSTEM
    )
    return int(owner.id)


def add_cameras(
    session: Session,
    owner_code: str,
    grid: str,
    count: int,
    *,
    network: str = "public_hd",
    prefix: str = "c",
    status: str = "active",
    contact: str | None = None,
) -> list[int]:
    """``count`` cameras in grid ``grid``; returns their ids in order."""
    lon, lat = grid_centre(grid)
    rows = [
        (i + 1, CameraIn(owner_code=owner_code, owner_camera_id=f"{prefix}{i}", network=network,
                         lon=lon + 0.0001 * i, lat=lat, status=status, sharing_contact=contact))
        for i in range(count)
    ]  # fmt: skip
    report = registry.upsert_cameras(session, rows, actor=SYSTEM)
    assert report.rejected == 0, report.errors
    owner_id = registry.owner_by_code(session, owner_code).id
    names = [r.owner_camera_id for _, r in rows]
    found = session.scalars(
        select(Camera.id)
        .where(Camera.owner_id == owner_id, Camera.owner_camera_id.in_(names))
        .order_by(Camera.id)
    )
    return [int(i) for i in found]


def beat(camera_id: int, at: dt.datetime, online: bool = True, **extra: Any) -> dict[str, Any]:
    return {
        "camera_id": camera_id,
        "at": at.isoformat().replace("+00:00", "Z"),
        "online": online,
        **extra,
    }
