"""The k best available responders for a place, by road travel time.

Candidates are the available responders in the caller's dispatch scope with
a fresh position, filtered by tier, skill, kind and an optional straight-line
radius. One Dijkstra per travel mode (from the target on the reversed graph)
times them all; the route is traced only for the k kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from shapely import LineString
from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.dispatch.candidate_index import Snapshot, index_for, still_available
from pingan.dispatch.responder_models import Availability, Responder, ResponderPosition
from pingan.dispatch.responders import scope_condition
from pingan.dispatch.routing import (
    OFFROAD_SPEED_MS,
    WALK_SPEED_MS,
    RoadGraph,
    TravelMode,
    point_times_to,
    road_graph,
)
from pingan.kit import audit
from pingan.kit.db import utcnow
from pingan.org.models import OrgUnit
from pingan.org.permissions import Perm
from pingan.org.principal import Principal
from pingan.org.service import require_projector
from pingan.settings import get_settings

# A position older than this says little about where the responder is now.
MAX_POSITION_AGE = dt.timedelta(minutes=10)
# Smallest first search radius; widened until the answer is provably the k quickest.
FIRST_RADIUS_M = 2000.0
# The radius the last answers needed, per road graph: the next search starts there, so
# a sparse city does not pay for a second road search on every request. Any start is
# exact; this only saves work.
_radius_hint: dict[tuple[int, int], float] = {}


@dataclass(frozen=True)
class Filters:
    tier: int | None = None
    skill: str | None = None
    kind: str | None = None
    within_m: float | None = None


@dataclass(frozen=True)
class Candidate:
    responder_id: int
    display_name: str
    tier: int
    kind: str
    eta_s: float
    straight_m: float
    route: LineString | None


def recommend(
    session: Session,
    *,
    lon: float,
    lat: float,
    actor: Principal,
    k: int = 5,
    filters: Filters = Filters(),
    exclude: Collection[int] = (),
    now: dt.datetime | None = None,
    with_routes: bool = True,
) -> list[Candidate]:
    now = now or utcnow()
    snapshot = _index(session)
    if snapshot is None:
        projector, graph = require_projector(session), road_graph(session)
    else:  # the snapshot carries the projection and road graph it was loaded with
        projector, graph = snapshot.projector, snapshot.graph
    tx, ty = projector.to_metric(np.array([lon]), np.array([lat]))
    target = (float(tx[0]), float(ty[0]))
    skip = set(exclude)
    while True:
        found = _widen(session, graph, snapshot, target, actor=actor, k=k, filters=filters,
                       exclude=skip, now=now)  # fmt: skip
        if snapshot is None:
            break
        # The snapshot may be seconds old: keep only those the database says are still
        # available (one primary-key read), and look again without the others.
        ok = still_available(
            session, [f.responder_id for f in found], fresh_since=now - MAX_POSITION_AGE
        )
        gone = {f.responder_id for f in found} - set(ok)
        if not gone:
            break
        skip |= gone
    return [_candidate(graph, f, (lon, lat), with_routes) for f in found]


def _widen(
    session: Session,
    graph: RoadGraph,
    snapshot: Snapshot | None,
    target: tuple[float, float],
    *,
    actor: Principal,
    k: int,
    filters: Filters,
    exclude: Collection[int],
    now: dt.datetime,
) -> list[_Found]:
    """The k quickest, exactly: a square around the target, widened until nobody outside
    can beat the k-th best inside.

    Nobody covers ground faster than the fastest road, so whoever is farther than R in
    a straight line needs at least R / top_speed; once the k-th best inside R is quicker
    than that, nobody outside can beat it.
    """
    top_speed = max(graph.top_speed_ms, OFFROAD_SPEED_MS, WALK_SPEED_MS)
    hint = _radius_hint.get(graph.version, FIRST_RADIUS_M)
    radius = filters.within_m or hint
    whole_city = graph.reach_m(target) + FIRST_RADIUS_M
    while True:
        box = None if radius >= whole_city and filters.within_m is None else radius
        # Only ETAs up to radius / top_speed can end the widening, so the road search need
        # not go further (a big city's full search is ~100 ms, this one ~1 ms).
        limit = radius / top_speed if box is not None and filters.within_m is None else np.inf
        found, kth = _best_within(
            session, graph, snapshot, target, box, actor=actor, k=k, filters=filters,
            exclude=exclude, now=now, limit_s=limit,
        )  # fmt: skip
        if box is None or filters.within_m is not None:
            return found
        if len(found) == k and kth * top_speed <= radius:
            # Next time start near what was needed (a moving average, never below the floor).
            needed = max(FIRST_RADIUS_M, kth * top_speed * 1.25)
            _radius_hint[graph.version] = 0.8 * hint + 0.2 * needed
            return found
        radius = max(2 * radius, kth * top_speed if len(found) == k else 0.0)


@dataclass(frozen=True)
class _Found:
    responder_id: int
    name: str
    tier: int
    kind: str
    eta_s: float
    straight_m: float
    lon: float
    lat: float
    node: int
    next_hop: NDArray[np.int32]


def _best_within(
    session: Session,
    graph: RoadGraph,
    snapshot: Snapshot | None,
    target: tuple[float, float],
    radius: float | None,
    *,
    actor: Principal,
    k: int,
    filters: Filters,
    exclude: Collection[int],
    now: dt.datetime,
    limit_s: float = np.inf,
) -> tuple[list[_Found], float]:
    """The k quickest candidates within ``radius`` (None: anywhere), and the k-th time.

    The road search stops at ``limit_s``: whoever needs longer is left out.
    """
    if snapshot is None:
        c = _candidates(
            session, actor=actor, filters=filters, now=now, target=target, radius=radius
        )
    else:
        c = _from_snapshot(snapshot, actor=actor, filters=filters, now=now, target=target,
                           radius=radius)  # fmt: skip
    keep = ~np.isin(c.ids, np.fromiter(exclude, dtype=np.int64, count=len(exclude)))
    straight = np.hypot(c.x - target[0], c.y - target[1])
    if radius is not None:
        keep &= straight <= radius
    idx = np.flatnonzero(keep)
    if len(idx) == 0:
        return [], np.inf
    eta = np.full(len(idx), np.inf)
    nodes = np.zeros(len(idx), dtype=np.int64)
    hops: dict[str, NDArray[np.int32]] = {}
    modes = c.modes[idx]
    for mode in (TravelMode.DRIVE, TravelMode.WALK):
        pick = modes == mode
        if not pick.any():
            continue
        seconds, snapped, next_hop, _ = point_times_to(
            graph, target_xy=target, source_x=c.x[idx[pick]], source_y=c.y[idx[pick]], mode=mode,
            limit=limit_s,
        )  # fmt: skip
        eta[pick], nodes[pick] = seconds, snapped
        hops[mode] = next_hop
    # Ties (responders at the same spot) go to the lower id, so answers are repeatable.
    order = np.lexsort((c.ids[idx], eta))
    best = [int(j) for j in order[np.isfinite(eta[order])][:k]]
    found = [
        _Found(
            responder_id=int(c.ids[idx[j]]), name=c.names[idx[j]], tier=int(c.tiers[idx[j]]),
            kind=c.kinds[idx[j]], eta_s=float(eta[j]), straight_m=float(straight[idx[j]]),
            lon=float(c.lon[idx[j]]), lat=float(c.lat[idx[j]]), node=int(nodes[j]),
            next_hop=hops[str(modes[j])],
        )
        for j in best
    ]  # fmt: skip
    return found, (found[-1].eta_s if found else np.inf)


def _candidate(
    graph: RoadGraph, f: _Found, end: tuple[float, float], with_routes: bool
) -> Candidate:
    route = None
    if with_routes:
        route = graph.line(graph.path_to_target(f.node, f.next_hop), (f.lon, f.lat), end)
    return Candidate(
        responder_id=f.responder_id, display_name=f.name, tier=f.tier, kind=f.kind,
        eta_s=round(f.eta_s, 1), straight_m=f.straight_m, route=route,
    )  # fmt: skip


@dataclass(frozen=True)
class _Columns:
    """Candidates as parallel arrays: thousands of rows without per-row objects."""

    ids: NDArray[np.int64]
    names: list[str]
    tiers: NDArray[np.int64]
    kinds: list[str]
    modes: NDArray[np.str_]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]


def _candidates(
    session: Session,
    *,
    actor: Principal,
    filters: Filters,
    now: dt.datetime,
    target: tuple[float, float],
    radius: float | None,
) -> _Columns:
    stmt = (
        select(
            Responder.id, Responder.display_name, Responder.tier, Responder.kind,
            Responder.travel_mode, ResponderPosition.lon, ResponderPosition.lat,
            ResponderPosition.x, ResponderPosition.y,
        )
        .join(ResponderPosition, ResponderPosition.responder_id == Responder.id)
        .join(OrgUnit, OrgUnit.id == Responder.org_unit_id)
        .where(
            Responder.availability == Availability.AVAILABLE,
            ResponderPosition.at >= now - MAX_POSITION_AGE,
            scope_condition(actor, Perm.DISPATCH_WRITE),
        )
    )  # fmt: skip
    if radius is not None:
        stmt = stmt.where(
            ResponderPosition.x.between(target[0] - radius, target[0] + radius),
            ResponderPosition.y.between(target[1] - radius, target[1] + radius),
        )
    if filters.tier is not None:
        stmt = stmt.where(Responder.tier == filters.tier)
    if filters.kind is not None:
        stmt = stmt.where(Responder.kind == filters.kind)
    if filters.skill is not None:
        # Skills are a short JSON list; filtering the few rows that pass the rest is cheap.
        stmt = stmt.add_columns(Responder.skills)
    rows: list[tuple[Any, ...]] = [tuple(r) for r in session.execute(stmt).all()]
    if filters.skill is not None:
        skill = filters.skill
        rows = [r for r in rows if skill in list(r[-1] or [])]
    cols: list[tuple[Any, ...]] = list(zip(*rows, strict=True)) if rows else [()] * 9
    return _Columns(
        ids=np.asarray(cols[0], dtype=np.int64), names=list(cols[1]),
        tiers=np.asarray(cols[2], dtype=np.int64), kinds=list(cols[3]),
        modes=np.asarray(cols[4], dtype=np.str_), lon=np.asarray(cols[5], dtype=np.float64),
        lat=np.asarray(cols[6], dtype=np.float64), x=np.asarray(cols[7], dtype=np.float64),
        y=np.asarray(cols[8], dtype=np.float64),
    )  # fmt: skip


def _index(session: Session) -> Snapshot | None:
    refresh = get_settings().dispatch_index_refresh_s
    if refresh <= 0:
        return None
    engine = session.get_bind().engine
    return index_for(engine, refresh).snapshot()


def _from_snapshot(
    snap: Snapshot,
    *,
    actor: Principal,
    filters: Filters,
    now: dt.datetime,
    target: tuple[float, float],
    radius: float | None,
) -> _Columns:
    """The same candidates as ``_candidates``, from the in-memory snapshot."""
    if radius is None:
        rows = slice(0, len(snap))
    else:
        rows = snap.x_range(target[0] - radius, target[0] + radius)
    keep = snap.scope_mask(actor, Perm.DISPATCH_WRITE, rows)
    keep &= snap.at[rows] >= (now - MAX_POSITION_AGE).timestamp()
    if radius is not None:
        keep &= np.abs(snap.y[rows] - target[1]) <= radius
    if filters.tier is not None:
        keep &= snap.tiers[rows] == filters.tier
    if filters.kind is not None:
        keep &= snap.kinds[rows] == filters.kind
    idx = rows.start + np.flatnonzero(keep)
    if filters.skill is not None:
        idx = np.array([i for i in idx if filters.skill in snap.skills[i]], dtype=np.int64)
    return _Columns(
        ids=snap.ids[idx], names=[snap.names[i] for i in idx], tiers=snap.tiers[idx],
        kinds=[str(v) for v in snap.kinds[idx]], modes=snap.modes[idx], lon=snap.lon[idx],
        lat=snap.lat[idx], x=snap.x[idx], y=snap.y[idx],
    )  # fmt: skip


def record_read(
    session: Session, *, actor: Principal, target: tuple[float, float], found: list[Candidate]
) -> None:
    """Recommendations reveal where responders are: log who looked, and at whom."""
    audit.record(
        session, actor=actor.actor, action="dispatch.recommend", object_type="responder_positions",
        detail={"lon": target[0], "lat": target[1], "responders": [c.responder_id for c in found]},
    )  # fmt: skip
