"""A hand-built road network with a river inside the test city, and responders on it.

Metres east/north of ORIGIN (in grid W1 of tests/citykit.py); all roads are
primary (50 km/h = 13.889 m/s)::

    N3 (0,400) ---- N2 (1000,400) ----------- N5 (3000,400)
     north bank                                 | bridge (400 m)
    ~~~~~~~~~~~~~~~~~~~~ river ~~~~~~~~~~~~~~~~ |
    N0 (0,0) ------ N1 (1000,0) ------------- N4 (3000,0)

A responder at N3 is 400 m from N0 as the crow flies but 6,400 m by road;
one at N1 is 1,000 m away either way, so N1 wins on travel time.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from shapely import LineString
from sqlalchemy.orm import Session

from pingan.dispatch import responders as responders_service
from pingan.dispatch.positions import ingest_positions
from pingan.dispatch.responder_models import Availability, ResponderKind
from pingan.dispatch.routing import ROADS_VERSION_KEY
from pingan.dispatch.schemas import ResponderIn
from pingan.dispatch.service import RoadGraphIn, add_road_graph
from pingan.incidents import service as incidents_service
from pingan.incidents.schemas import IncidentIn
from pingan.kit import meta
from pingan.org.principal import Principal
from pingan.org.service import require_projector

ORIGIN = (120.005, 30.005)
NODES_M = [(0, 0), (1000, 0), (1000, 400), (0, 400), (3000, 0), (3000, 400)]
EDGES = [(0, 1), (1, 4), (4, 5), (5, 2), (2, 3)]
SPEED_MS = 50 / 3.6
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
    length = np.hypot(x[frm] - x[to], y[frm] - y[to])
    graph = RoadGraphIn(
        node_lon=lon, node_lat=lat, node_x=x, node_y=y, edge_from=frm, edge_to=to,
        edge_class=["primary"] * len(EDGES), edge_name=[None] * len(EDGES),
        edge_speed_kmh=np.full(len(EDGES), 50.0), edge_length_m=length,
        edge_oneway=np.zeros(len(EDGES), dtype=bool),
        edge_geom=[LineString([pts[a], pts[b]]) for a, b in EDGES],
    )  # fmt: skip
    add_road_graph(session, graph, source="test", actor=SYSTEM)
    meta.bump_version(session, ROADS_VERSION_KEY)


def add_responder(
    session: Session,
    *,
    name: str,
    kind: ResponderKind,
    org_unit_id: int,
    at_m: tuple[float, float] | None,
    now: dt.datetime,
    skills: list[str] | None = None,
    travel_mode: str = "drive",
    user_id: int | None = None,
) -> int:
    responder = responders_service.create_responder(
        session,
        responder_in=ResponderIn(
            display_name=name, kind=kind, org_unit_id=org_unit_id, skills=skills or [],
            travel_mode=travel_mode, availability=Availability.AVAILABLE, user_id=user_id,
        ),
        actor=SYSTEM,
    )  # fmt: skip
    if at_m is not None:
        lon, lat = lonlat(session, *at_m)
        report = ingest_positions(
            session, responder_ids=[responder.id], lon=[lon], lat=[lat], at=[now], actor=SYSTEM,
            now=now,
        )  # fmt: skip
        assert report.accepted == 1, report.rejected
    return responder.id


def add_incident(
    session: Session, *, type_code: str, at_m: tuple[float, float], reported: dt.datetime
) -> int:
    lon, lat = lonlat(session, *at_m)
    incident = incidents_service.create(
        session,
        incident_in=IncidentIn(
            type=type_code, occurred_at=reported, reported_at=reported, lon=lon, lat=lat
        ),
        actor=SYSTEM,
    )
    return incident.id
