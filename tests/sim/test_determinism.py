"""The same seed gives the same city, byte for byte; another seed another city."""

from __future__ import annotations

from collections.abc import Callable

import shapely
from sqlalchemy import func, select

from pingan.dispatch.models import RoadEdge, RoadNode
from pingan.kit.db import engine_for, session_scope
from pingan.places.models import Place, ResidentialCompound
from pingan.sim.city import CitySummary, build_city
from tests.sim import readback
from tests.sim.conftest import SEED


def _snapshot(url: str) -> dict[str, object]:
    units = readback.units(url)
    with session_scope(engine_for(url)) as session:
        roads = (
            session.scalar(select(func.count(RoadNode.id))),
            session.scalar(select(func.count(RoadEdge.id))),
            round(session.scalar(select(func.sum(RoadEdge.length_m))) or 0.0, 3),
        )
        places = sorted(
            (p.code, p.kind, shapely.to_wkb(p.geom)) for p in session.scalars(select(Place))
        )
        compounds = sorted(
            (c.code, c.households, c.management, shapely.to_wkb(c.geom))
            for c in session.scalars(select(ResidentialCompound))
        )
        clusters = [
            (c.kind, c.type_code, c.lon, c.lat, c.radius_m, c.starts_at, c.ends_at, c.n_events)
            for c in readback.clusters(session)
        ]
        fingerprint = readback.incident_fingerprint(session)
    return {
        "units": [
            (
                u.code,
                u.level,
                u.name_zh,
                u.name_en,
                u.population,
                u.households,
                shapely.to_wkb(u.boundary),
            )
            for u in units
        ],
        "roads": roads,
        "places": places,
        "compounds": compounds,
        "clusters": clusters,
        "incidents": fingerprint,
    }


def test_same_seed_same_city(
    tiny_city: tuple[str, CitySummary], spare_db: Callable[[], str]
) -> None:
    url, summary = tiny_city
    again_url = spare_db()
    again = build_city(engine_for(again_url), scale="tiny", seed=SEED)
    assert again.incidents == summary.incidents and again.road_edges == summary.road_edges
    first, second = _snapshot(url), _snapshot(again_url)
    for key in first:
        assert first[key] == second[key], key


def test_another_seed_another_city(
    tiny_city: tuple[str, CitySummary], spare_db: Callable[[], str]
) -> None:
    url, _ = tiny_city
    other_url = spare_db()
    build_city(engine_for(other_url), scale="tiny", seed=SEED + 1)
    first, other = _snapshot(url), _snapshot(other_url)
    assert first["units"] != other["units"]
    assert first["incidents"] != other["incidents"]
    assert first["clusters"] != other["clusters"]
