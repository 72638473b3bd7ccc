"""Camera networks of several owners for the demo city, then street coverage and a plan.

Deterministic by seed and a no-op when any camera exists. Public HD cameras
stand at a share of intersections, city management cameras along main
roads, and schools, hospitals, the metro and residential compounds watch
their own gates, so coverage is uneven in the way real networks are.
"""

from __future__ import annotations

import numpy as np
import shapely
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from pingan.cameras import planning, registry, streets
from pingan.cameras.models import AccessLevel, Camera, CameraOwner, Network
from pingan.cameras.schemas import CameraIn, OwnerIn, PlanIn
from pingan.dispatch.models import RoadEdge, RoadNode
from pingan.kit.db import session_scope
from pingan.org.principal import Principal
from pingan.org.service import require_projector
from pingan.places.models import Place, PlaceKind, ResidentialCompound

OWNERS = [
    ("PSB-HD", "Public Security Bureau (HD)", "bureau", Network.PUBLIC_HD, AccessLevel.FULL),
    ("CITY-MGMT", "City Management Bureau", "bureau", Network.CITY_MANAGEMENT, AccessLevel.FULL),
    ("EDU", "Education Bureau (schools)", "school", Network.SCHOOL, AccessLevel.ON_REQUEST),
    ("HEALTH", "Health Commission", "hospital", Network.HOSPITAL, AccessLevel.ON_REQUEST),
    ("METRO", "Metro Operations", "transport", Network.TRANSPORT, AccessLevel.ON_REQUEST),
    ("COMPOUNDS", "Property companies (compounds)", "community", Network.COMMUNITY,
     AccessLevel.LOCATION_ONLY),
]  # fmt: skip


def seed_demo_cameras(engine: Engine, *, seed: int) -> int:
    actor = Principal.system("demo")
    with session_scope(engine) as session:
        if session.scalar(select(func.count()).select_from(Camera)):
            return 0
        if session.scalar(select(func.count()).select_from(RoadEdge)) == 0:
            return 0
        if streets.segment_count(session) == 0:
            streets.build_segments(session, actor=actor)
        for code, name, kind, _net, _acc in OWNERS:
            if session.scalar(select(func.count()).where(CameraOwner.code == code)) == 0:
                registry.create_owner(session, OwnerIn(code=code, name=name, kind=kind),
                                      actor=actor)  # fmt: skip
        rows = _demo_rows(session, np.random.default_rng(seed))
        report = registry.upsert_cameras(
            session, list(enumerate(rows, 1)), actor=actor, source="demo"
        )
        planning.make_plan(session, PlanIn(name="demo: next 30 cameras", sites=30), actor=actor)
    return report.created


def _demo_rows(session: Session, rng: np.random.Generator) -> list[CameraIn]:
    proj = require_projector(session)
    rows: list[CameraIn] = []

    def add(owner: int, xs: np.ndarray, ys: np.ndarray, *, fov: float, rng_m: float,
            ptz_share: float) -> None:  # fmt: skip
        code, _name, _kind, network, access = OWNERS[owner]
        lon, lat = proj.to_lonlat(xs, ys)
        for k in range(len(xs)):
            ptz = bool(rng.random() < ptz_share)
            rows.append(
                CameraIn(owner_code=code, owner_camera_id=f"{code}-{len(rows) + 1:06d}",
                         network=network, lon=float(lon[k]), lat=float(lat[k]),
                         height_m=float(rng.uniform(3, 8)),
                         heading_deg=float(rng.uniform(0, 360)) % 360, fov_deg=fov,
                         range_m=float(rng_m * rng.uniform(0.8, 1.2)), ptz=ptz,
                         access_level=access, resolution="1920x1080")
            )  # fmt: skip

    nodes = session.execute(select(RoadNode.x, RoadNode.y)).all()
    nx = np.array([n[0] for n in nodes], dtype=np.float64)
    ny = np.array([n[1] for n in nodes], dtype=np.float64)
    pick = rng.random(len(nx)) < 0.25
    add(0, nx[pick], ny[pick], fov=360.0, rng_m=60.0, ptz_share=1.0)

    seg = streets.segment_arrays(session)
    main = np.isin(seg["road_class"], ["primary", "trunk", "secondary"])
    idx = np.flatnonzero(main)
    if len(idx):
        take = rng.choice(idx, size=min(len(idx), max(1, len(idx) // 40)), replace=False)
        jitter = rng.normal(0, 3, (2, len(take)))
        add(1, seg["x"][take] + jitter[0], seg["y"][take] + jitter[1], fov=70.0, rng_m=50.0,
            ptz_share=0.1)  # fmt: skip

    for kind, owner, per_site in ((PlaceKind.SCHOOL, 2, 4), (PlaceKind.HOSPITAL, 3, 6),
                                  (PlaceKind.METRO_STATION, 4, 3)):  # fmt: skip
        geoms = session.scalars(select(Place.geom).where(Place.kind == kind.value)).all()
        for g in geoms:
            c = shapely.centroid(g)
            cx, cy = proj.to_metric(np.array([c.x]), np.array([c.y]))
            ang = rng.uniform(0, 2 * np.pi, per_site)
            add(owner, cx[0] + 40 * np.cos(ang), cy[0] + 40 * np.sin(ang), fov=90.0, rng_m=35.0,
                ptz_share=0.2)  # fmt: skip

    compounds = session.scalars(
        select(ResidentialCompound.geom).where(ResidentialCompound.has_cctv.is_(True))
    ).all()
    if compounds:
        cents = shapely.centroid(np.array(compounds, dtype=object))
        cx, cy = proj.to_metric(shapely.get_x(cents), shapely.get_y(cents))
        add(5, cx, cy, fov=90.0, rng_m=25.0, ptz_share=0.0)
    return rows
