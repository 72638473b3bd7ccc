"""Roads, owners and cameras in the test city, laid out in metres so coverage is hand-computable.

Metres east/north of ORIGIN (grid W1 of tests/citykit.py)::

    N2 (0,400)
     |  400 m road R1 (district W)
    N0 (0,0) ---- 1000 m road R0 ---- N1 (1000,0)        N3 (2000,0) ---- R2 ---- N4 (3000,0)
                  (district W)                                  (district E)

Cut into 10 m pieces: R0 has midpoints at x = 5, 15, ..., 995; R1 at y = 5 ... 395.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from shapely import LineString, Point
from sqlalchemy.orm import Session

from pingan.cameras import registry
from pingan.cameras.schemas import CameraIn, OwnerIn
from pingan.dispatch.routing import ROADS_VERSION_KEY
from pingan.dispatch.service import RoadGraphIn, add_road_graph
from pingan.incidents import service as incidents_service
from pingan.incidents.schemas import IncidentIn
from pingan.kit import meta
from pingan.org.principal import Principal
from pingan.org.service import require_projector
from pingan.places.models import PlaceKind
from pingan.places.service import PlaceIn, add_places

ORIGIN = (120.005, 30.005)
NODES_M = [(0, 0), (1000, 0), (0, 400), (2000, 0), (3000, 0)]
EDGES = [(0, 1), (2, 0), (3, 4)]
SYSTEM = Principal.system("test")


def lonlat(session: Session, east_m: float, north_m: float) -> tuple[float, float]:
    proj = require_projector(session)
    ox, oy = proj.to_metric(np.array([ORIGIN[0]]), np.array([ORIGIN[1]]))
    lon, lat = proj.to_lonlat(np.array([ox[0] + east_m]), np.array([oy[0] + north_m]))
    return float(lon[0]), float(lat[0])


def build_roads(session: Session) -> None:
    proj = require_projector(session)
    pts = [lonlat(session, e, n) for e, n in NODES_M]
    lon = np.array([p[0] for p in pts])
    lat = np.array([p[1] for p in pts])
    x, y = proj.to_metric(lon, lat)
    frm = np.array([a for a, _ in EDGES])
    to = np.array([b for _, b in EDGES])
    graph = RoadGraphIn(
        node_lon=lon, node_lat=lat, node_x=x, node_y=y, edge_from=frm, edge_to=to,
        edge_class=["primary", "residential", "primary"], edge_name=[None] * len(EDGES),
        edge_speed_kmh=np.full(len(EDGES), 50.0),
        edge_length_m=np.hypot(x[frm] - x[to], y[frm] - y[to]),
        edge_oneway=np.zeros(len(EDGES), dtype=bool),
        edge_geom=[LineString([pts[a], pts[b]]) for a, b in EDGES],
    )  # fmt: skip
    add_road_graph(session, graph, source="test", actor=SYSTEM)
    meta.bump_version(session, ROADS_VERSION_KEY)


def add_owner(session: Session, code: str = "PSB", name: str = "Public security bureau") -> int:
    return registry.create_owner(session, OwnerIn(code=code, name=name), actor=SYSTEM).id


def camera(
    session: Session,
    cid: str,
    at_m: tuple[float, float],
    *,
    owner: str = "PSB",
    heading: float = 0.0,
    fov: float = 90.0,
    range_m: float = 50.0,
    ptz: bool = False,
    network: str = "public_hd",
) -> CameraIn:
    lon, lat = lonlat(session, *at_m)
    return CameraIn(
        owner_code=owner, owner_camera_id=cid, network=network, lon=lon, lat=lat,
        heading_deg=heading, fov_deg=fov, range_m=range_m, ptz=ptz,
    )  # fmt: skip


def standard_cameras(session: Session) -> list[CameraIn]:
    """East-facing 90 degrees x 50 m at (100, 0): sees x 105..145 of R0 (50 m).
    A dome of 30 m at (0, 200): sees y 175..225 of R1 (60 m)."""
    return [
        camera(session, "c1", (100, 0), heading=90.0),
        camera(session, "c2", (0, 200), fov=60.0, range_m=30.0, ptz=True),
    ]


def add_incident(session: Session, at_m: tuple[float, float], when: dt.datetime) -> None:
    lon, lat = lonlat(session, *at_m)
    incidents_service.create(
        session,
        incident_in=IncidentIn(type="theft", occurred_at=when, reported_at=when, lon=lon, lat=lat),
        actor=SYSTEM,
    )


def add_site(
    session: Session, code: str, at_m: tuple[float, float], level: int, grid_id: int | None = None
) -> None:
    lon, lat = lonlat(session, *at_m)
    add_places(
        session,
        [PlaceIn(code=code, kind=PlaceKind.SCHOOL, name_zh=code, name_en=code,
                 protection_level=level, geom=Point(lon, lat), grid_id=grid_id)],
        actor=SYSTEM,
    )  # fmt: skip
