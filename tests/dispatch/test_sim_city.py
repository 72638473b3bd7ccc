"""Routing, seeding and recommendation on the synthetic tiny city."""

from __future__ import annotations

import heapq

import numpy as np
import pytest
from sqlalchemy import func, select, update

from pingan.dispatch.models import RoadEdge
from pingan.dispatch.recommend import recommend
from pingan.dispatch.responder_models import Responder, ResponderPosition
from pingan.dispatch.routing import road_graph
from pingan.dispatch.seed import seed_responders
from pingan.incidents.models import Incident
from pingan.kit.db import engine_for, session_scope, utcnow
from pingan.org.principal import Principal
from pingan.sim.city import CitySummary

SYSTEM = Principal.system("test")


def heap_dijkstra(adj: dict[int, list[tuple[int, float]]], source: int) -> dict[int, float]:
    """A plain textbook Dijkstra, as an independent check on the csgraph one."""
    best = {source: 0.0}
    queue = [(0.0, source)]
    while queue:
        d, u = heapq.heappop(queue)
        if d > best.get(u, np.inf):
            continue
        for v, w in adj.get(u, []):
            if d + w < best.get(v, np.inf):
                best[v] = d + w
                heapq.heappush(queue, (d + w, v))
    return best


def test_graph_matches_the_city_and_a_textbook_dijkstra(
    tiny_city: tuple[str, CitySummary],
) -> None:
    url, summary = tiny_city
    with session_scope(engine_for(url)) as s:
        graph = road_graph(s)
        assert road_graph(s) is graph  # cached while the roads are unchanged
        edges = s.execute(
            select(RoadEdge.from_node_id, RoadEdge.to_node_id, RoadEdge.length_m,
                   RoadEdge.speed_kmh, RoadEdge.oneway)
        ).all()  # fmt: skip
    assert graph.n_nodes == summary.road_nodes
    index = {int(n): i for i, n in enumerate(graph.node_ids)}
    # Reversed adjacency: times *to* the target, as the service computes them.
    adj: dict[int, list[tuple[int, float]]] = {}
    for a, b, length, speed, oneway in edges:
        w = max(length / (speed / 3.6), 1e-3)
        adj.setdefault(index[b], []).append((index[a], w))
        if not oneway:
            adj.setdefault(index[a], []).append((index[b], w))
    rng = np.random.default_rng(3)
    for target in rng.choice(graph.n_nodes, size=3, replace=False):
        fast, _ = graph.times_to(int(target))
        slow = heap_dijkstra(adj, int(target))
        reached = np.isfinite(fast)
        assert reached.sum() == len(slow)
        for node, seconds in slow.items():
            assert fast[node] == pytest.approx(seconds, rel=1e-9, abs=1e-6)


def test_seeded_city_recommends_by_road_time(tiny_city: tuple[str, CitySummary]) -> None:
    url, _ = tiny_city
    now = utcnow()
    with session_scope(engine_for(url)) as s:
        report = seed_responders(s, actor=SYSTEM, seed=5, now=now)
        assert report.responders > 0 and 0 < report.available <= report.responders
        incident = s.scalars(select(Incident).order_by(Incident.id).limit(1)).one()
        found = recommend(s, lon=incident.lon, lat=incident.lat, actor=SYSTEM, k=5, now=now)
    etas = [c.eta_s for c in found]
    assert len(found) == 5 and etas == sorted(etas)
    # Nobody beats the straight line at motorway speed.
    assert all(c.eta_s >= c.straight_m / (90 / 3.6) - 1e-6 for c in found)
    assert all(c.route is not None and len(c.route.coords) >= 2 for c in found)


def test_widening_search_gives_the_same_answer_as_reading_everyone(
    tiny_city: tuple[str, CitySummary], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pingan.dispatch import recommend as recommend_module

    url, _ = tiny_city
    now = utcnow()
    with session_scope(engine_for(url)) as s:
        if not s.scalar(select(func.count()).select_from(Responder)):
            seed_responders(s, actor=SYSTEM, seed=5, now=now)
        else:  # refresh positions seeded by the test before
            s.execute(update(ResponderPosition).values(at=now))
        points = s.execute(select(Incident.lon, Incident.lat).limit(25)).all()

    def answers(first_radius: float) -> list[list[tuple[int, float]]]:
        monkeypatch.setattr(recommend_module, "FIRST_RADIUS_M", first_radius)
        with session_scope(engine_for(url)) as s:
            return [
                [(c.responder_id, c.eta_s) for c in recommend(
                    s, lon=lon, lat=lat, actor=SYSTEM, k=5, now=now, with_routes=False
                )]
                for lon, lat in points
            ]  # fmt: skip

    assert answers(150.0) == answers(1e9)
