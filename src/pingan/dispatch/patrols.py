"""Patrol planning: routes for units that cover an area's hotspots within a shift.

The hotspots are the hot cells of a Getis-Ord Gi* map of the area's recent
incidents (the hotspot analysis of ``incidents.analysis``); each is worth its
z-score. Units start and end at their current position. The tours come from
``analytics.patrol`` on road travel times between the units and the hot
cells' nearest road nodes.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse.csgraph import dijkstra
from shapely import LineString
from shapely.geometry import shape
from sqlalchemy.orm import Session

from pingan.analytics.patrol import plan_tours
from pingan.dispatch.responder_models import Responder, ResponderPosition
from pingan.dispatch.responders import get_responder
from pingan.dispatch.routing import RoadGraph, road_graph
from pingan.incidents.analysis.hotspots import hotspots
from pingan.incidents.analysis.params import HotspotParams
from pingan.kit import audit
from pingan.kit.db import utcnow
from pingan.kit.errors import ValidationFailed
from pingan.org.principal import Principal
from pingan.org.service import require_projector

MAX_UNITS = 50
MAX_STOPS = 300


@dataclass
class Stop:
    lon: float
    lat: float
    z: float
    count: int
    arrive_s: float


@dataclass
class PatrolRoute:
    responder_id: int
    name: str
    stops: list[Stop] = field(default_factory=list)
    seconds: float = 0.0
    route: LineString | None = None


@dataclass
class PatrolPlan:
    routes: list[PatrolRoute]
    hotspots: int
    covered: int
    prize_share: float
    shift_s: float
    dwell_s: float


def _path(graph: RoadGraph, pred_row: np.ndarray, source: int, target: int) -> list[int]:
    """Node chain source -> target from one row of csgraph predecessors."""
    chain = [target]
    node = target
    while node != source:
        node = int(pred_row[node])
        if node < 0:
            return [source, target]  # unreachable: the planner never picks such a leg
        chain.append(node)
    return chain[::-1]


def plan_patrols(
    session: Session,
    *,
    actor: Principal,
    responder_ids: list[int],
    org_unit_id: int | None = None,
    place_id: int | None = None,
    days: int = 28,
    cell_size_m: float = 250.0,
    shift_s: float = 4 * 3600.0,
    dwell_s: float = 600.0,
    now: dt.datetime | None = None,
) -> PatrolPlan:
    if not 1 <= len(responder_ids) <= MAX_UNITS:
        raise ValidationFailed(f"give 1-{MAX_UNITS} units", field="responder_ids")
    if org_unit_id is None and place_id is None:
        raise ValidationFailed("give the area: an org unit or a key area", field="org_unit_id")
    if not 600 <= shift_s <= 24 * 3600 or not 0 <= dwell_s <= 3600:
        raise ValidationFailed("shift is 10 min to 24 h, dwell 0 to 1 h", field="shift_s")
    now = now or utcnow()
    units: list[tuple[Responder, ResponderPosition]] = []
    for rid in dict.fromkeys(responder_ids):
        responder = get_responder(session, rid, actor=actor)
        position = session.get(ResponderPosition, rid)
        if position is None:
            raise ValidationFailed(
                f"responder {rid} has no known position to start from", field="responder_ids"
            )
        units.append((responder, position))
    params = HotspotParams(
        since=now - dt.timedelta(days=days), until=now, org_unit_id=org_unit_id,
        place_id=place_id, unit="cell", cell_size_m=cell_size_m, statistic="gi_star",
        permutations=0, significant_only=True,
    )  # fmt: skip
    collection = hotspots(session, params, actor=actor, sync=True)
    hot = [f for f in collection["features"] if str(f["properties"]["label"]).startswith("hot")]
    hot.sort(key=lambda f: -float(f["properties"]["z"]))
    hot = hot[:MAX_STOPS]
    routes = [PatrolRoute(responder_id=r.id, name=r.display_name) for r, _ in units]
    if not hot:
        return PatrolPlan(routes, 0, 0, 0.0, shift_s, dwell_s)

    projector = require_projector(session)
    graph = road_graph(session)
    centres = [shape(f["geometry"]).centroid for f in hot]
    hx, hy = projector.to_metric(np.array([c.x for c in centres]), np.array([c.y for c in centres]))
    stop_nodes, _ = graph.snap(hx, hy)
    base_nodes, _ = graph.snap(np.array([p.x for _, p in units]), np.array([p.y for _, p in units]))
    points = np.concatenate([base_nodes, stop_nodes])
    dist, pred = dijkstra(graph.drive, directed=True, indices=points, return_predecessors=True)
    times = np.asarray(dist)[:, points]
    bases = list(range(len(units)))
    stops = list(range(len(units), len(points)))
    prizes = np.array([float(f["properties"]["z"]) for f in hot])
    tours = plan_tours(times, bases, stops, prizes, dwell_s=dwell_s, budget_s=shift_s)

    for u, order in enumerate(tours.order):
        route = routes[u]
        cycle = [u, *(len(units) + s for s in order), u]
        clock = 0.0
        nodes: list[int] = []
        for a, b in itertools.pairwise(cycle):
            clock += float(times[a, b])
            leg = _path(graph, pred[a], int(points[a]), int(points[b]))
            nodes.extend(leg if not nodes else leg[1:])
            if b != u:
                s = b - len(units)
                c = centres[s]
                props = hot[s]["properties"]
                route.stops.append(
                    Stop(lon=c.x, lat=c.y, z=float(props["z"]), count=int(props["count"]),
                         arrive_s=clock)
                )  # fmt: skip
                clock += dwell_s
        route.seconds = tours.seconds[u]
        if len(nodes) >= 2:
            route.route = LineString(
                list(zip(graph.lon[nodes].tolist(), graph.lat[nodes].tolist(), strict=True))
            )
    covered = sum(len(o) for o in tours.order)
    audit.record(
        session, actor=actor.actor, action="dispatch.patrols.plan", object_type="patrol_plan",
        detail={"responders": [r.id for r, _ in units], "org_unit_id": org_unit_id,
                "place_id": place_id, "hotspots": len(hot), "covered": covered},
    )  # fmt: skip
    return PatrolPlan(
        routes=routes, hotspots=len(hot), covered=covered,
        prize_share=tours.prize / float(prizes.sum()), shift_s=shift_s, dwell_s=dwell_s,
    )  # fmt: skip
