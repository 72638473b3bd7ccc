"""Reading a generated city back out of the database, for the checks."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.incidents.models import Incident, IncidentType
from pingan.kit.db import engine_for, session_scope
from pingan.org.models import OrgUnit
from pingan.org.service import require_projector
from pingan.sim.models import PlantedCluster


@dataclass
class IncidentArrays:
    type_code: NDArray[np.str_]
    occurred_us: NDArray[np.int64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]


def units(url: str) -> list[OrgUnit]:
    with session_scope(engine_for(url)) as session:
        return list(session.scalars(select(OrgUnit).order_by(OrgUnit.code)))


def shape(geom: BaseGeometry | None) -> BaseGeometry:
    assert geom is not None
    return geom


def metric(url: str, geoms: Sequence[BaseGeometry | None]) -> list[BaseGeometry]:
    """Stored lon/lat geometries in the city's metric CRS."""
    with session_scope(engine_for(url)) as session:
        projector = require_projector(session)
    return [projector.geometry_to_metric(shape(g)) for g in geoms]


def incidents(session: Session) -> IncidentArrays:
    rows = session.execute(
        select(IncidentType.code, Incident.occurred_at, Incident.x, Incident.y)
        .join(IncidentType, IncidentType.id == Incident.type_id)
        .order_by(Incident.id)
    ).all()
    occurred = np.array([round(r[1].timestamp() * 1e6) for r in rows], dtype=np.int64)
    return IncidentArrays(
        type_code=np.array([r[0] for r in rows]),
        occurred_us=occurred,
        x=np.array([r[2] for r in rows]),
        y=np.array([r[3] for r in rows]),
    )


def incident_fingerprint(session: Session) -> str:
    """Hash of the sorted (type, occurred_at, lon, lat) of every incident."""
    rows = session.execute(
        select(IncidentType.code, Incident.occurred_at, Incident.lon, Incident.lat).join(
            IncidentType, IncidentType.id == Incident.type_id
        )
    ).all()
    text = sorted(
        f"{c}|{t.astimezone(dt.UTC).isoformat()}|{lon!r}|{lat!r}" for c, t, lon, lat in rows
    )
    return hashlib.sha256("\n".join(text).encode()).hexdigest()


def clusters(session: Session) -> list[PlantedCluster]:
    return list(session.scalars(select(PlantedCluster).order_by(PlantedCluster.id)))
