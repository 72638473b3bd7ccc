"""Recommendations from the in-memory index equal a brute-force search over the database."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import func, select

from pingan.dispatch import responders
from pingan.dispatch.candidate_index import index_for
from pingan.dispatch.recommend import MAX_POSITION_AGE, Filters, recommend
from pingan.dispatch.responder_models import Availability, Responder, ResponderPosition
from pingan.dispatch.routing import point_times_to, road_graph
from pingan.dispatch.seed import seed_responders
from pingan.incidents.models import Incident
from pingan.kit.db import engine_for, session_scope, utcnow
from pingan.org.principal import Principal
from pingan.org.service import require_projector
from pingan.settings import get_settings
from pingan.sim.city import CitySummary

SYSTEM = Principal.system("test")


@pytest.fixture
def seeded(tiny_city: tuple[str, CitySummary], monkeypatch: pytest.MonkeyPatch) -> str:
    url = tiny_city[0]
    with session_scope(engine_for(url)) as s:
        if not s.scalar(select(func.count()).select_from(Responder)):
            seed_responders(s, actor=SYSTEM, seed=11, available_share=0.7)
    monkeypatch.setenv("PINGAN_DATABASE_URL", url)
    get_settings.cache_clear()
    return url


def _brute_force(url: str, lon: float, lat: float, k: int, tier: int | None) -> list[int]:
    """Full road search to every available, fresh responder; the k quickest by (ETA, id)."""
    with session_scope(engine_for(url)) as s:
        proj = require_projector(s)
        graph = road_graph(s)
        query = (
            select(Responder.id, Responder.travel_mode, ResponderPosition.x, ResponderPosition.y)
            .join(ResponderPosition, ResponderPosition.responder_id == Responder.id)
            .where(Responder.availability == Availability.AVAILABLE,
                   ResponderPosition.at >= utcnow() - MAX_POSITION_AGE)
        )  # fmt: skip
        if tier is not None:
            query = query.where(Responder.tier == tier)
        rows = s.execute(query).all()
    tx, ty = proj.to_metric(np.array([lon]), np.array([lat]))
    ranked: list[tuple[float, int]] = []
    for mode in ("drive", "walk"):
        mine = [r for r in rows if r[1] == mode]
        if not mine:
            continue
        seconds, *_ = point_times_to(
            graph, target_xy=(float(tx[0]), float(ty[0])), mode=mode,
            source_x=np.array([r[2] for r in mine]), source_y=np.array([r[3] for r in mine]),
        )  # fmt: skip
        ranked += [(float(t), int(r[0])) for t, r in zip(seconds, mine, strict=True)]
    return [rid for _, rid in sorted(ranked)[:k]]


@pytest.mark.parametrize("refresh_s", [0.0, 60.0], ids=["database", "index"])
def test_same_answers_as_brute_force(
    seeded: str, monkeypatch: pytest.MonkeyPatch, refresh_s: float
) -> None:
    monkeypatch.setenv("PINGAN_DISPATCH_INDEX_REFRESH_S", str(refresh_s))
    get_settings.cache_clear()
    with session_scope(engine_for(seeded)) as s:
        points = s.execute(select(Incident.lon, Incident.lat).order_by(Incident.id).limit(12)).all()
    for i, (lon, lat) in enumerate(points):
        tier = (None, 1, 2)[i % 3]
        with session_scope(engine_for(seeded)) as s:
            found = recommend(s, lon=lon, lat=lat, actor=SYSTEM, k=5, filters=Filters(tier=tier),
                              with_routes=False)  # fmt: skip
        assert len(found) == 5
        assert [c.responder_id for c in found] == _brute_force(seeded, lon, lat, 5, tier)


def test_index_never_offers_a_responder_taken_since(
    seeded: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PINGAN_DISPATCH_INDEX_REFRESH_S", "3600")
    get_settings.cache_clear()
    engine = engine_for(seeded)
    with session_scope(engine) as s:
        lon, lat = s.execute(select(Incident.lon, Incident.lat).limit(1)).one()
        before = recommend(s, lon=lon, lat=lat, actor=SYSTEM, k=3, with_routes=False)
        taken = before[0].responder_id
        responders.set_availability(
            s, responder_id=taken, availability=Availability.BUSY, actor=SYSTEM
        )
    with session_scope(engine) as s:
        after = recommend(s, lon=lon, lat=lat, actor=SYSTEM, k=3, with_routes=False)
    # The snapshot still lists them as available; the check by primary key drops them.
    assert taken not in [c.responder_id for c in after]
    assert [c.responder_id for c in after][:2] == [c.responder_id for c in before][1:]
    index = index_for(engine, 3600)
    assert taken in index.snapshot().ids.tolist()
    index.reload()
    assert taken not in index.snapshot().ids.tolist()
    with session_scope(engine) as s:  # put them back for the other tests of this module
        responders.set_availability(
            s, responder_id=taken, availability=Availability.AVAILABLE, actor=SYSTEM
        )
    index.reload()
