"""Command mode, first part: where to pre-position teams for an event's sites.

The event's sites are key sites (the places domain, read through its query
function so its scope rules apply). Candidate standby posts are the sites
themselves plus ``extra_candidates`` road nodes spread over the city (every
n-th node in id order, deterministic). Posts are chosen by ``placement``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from pingan.dispatch.placement import place, post_to_site_times
from pingan.dispatch.routing import road_graph
from pingan.kit import audit
from pingan.kit.errors import ValidationFailed
from pingan.org.principal import Principal
from pingan.org.service import require_projector
from pingan.places.queries import list_places


@dataclass(frozen=True)
class Post:
    lon: float
    lat: float
    site_code: str | None


@dataclass(frozen=True)
class PrepositionPlan:
    posts: list[Post]
    sites: int
    worst_s: float
    mean_s: float
    exact: bool


def preposition(
    session: Session,
    *,
    actor: Principal,
    p: int,
    objective: str = "center",
    site_kind: str | None = None,
    extra_candidates: int = 50,
) -> PrepositionPlan:
    if objective not in ("center", "median"):
        raise ValidationFailed("objective is center or median", field="objective")
    sites = list_places(session, principal=actor, kind=site_kind, limit=5000)
    if not sites:
        raise ValidationFailed("no key sites in scope for this event", field="site_kind")
    projector = require_projector(session)
    graph = road_graph(session)
    points = [s.geom.representative_point() for s in sites]
    sx, sy = projector.to_metric(np.array([p.x for p in points]), np.array([p.y for p in points]))
    site_nodes, _ = graph.snap(sx, sy)
    step = max(1, graph.n_nodes // max(extra_candidates, 1))
    spread = list(range(0, graph.n_nodes, step))[:extra_candidates]
    candidates = [int(n) for n in site_nodes] + spread
    if p > len(candidates):
        raise ValidationFailed(f"p is larger than the {len(candidates)} candidate posts", field="p")
    times = post_to_site_times(graph, candidates, [int(n) for n in site_nodes])
    result = place(times, p, objective=objective)
    posts = [
        Post(
            lon=float(graph.lon[candidates[i]]), lat=float(graph.lat[candidates[i]]),
            site_code=sites[i].code if i < len(sites) else None,
        )
        for i in result.posts
    ]  # fmt: skip
    audit.record(
        session, actor=actor.actor, action="dispatch.command.preposition",
        object_type="command_plan",
        detail={"p": p, "objective": objective, "site_kind": site_kind, "sites": len(sites)},
    )  # fmt: skip
    return PrepositionPlan(
        posts=posts, sites=len(sites), worst_s=result.worst_s,
        mean_s=result.total_s / len(sites), exact=result.exact,
    )  # fmt: skip
