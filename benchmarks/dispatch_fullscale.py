"""Recommendation latency at full city scale: ~500,000 road nodes, 200,000 responders.

The issue's measure: the 5 best available responders by road travel time, p99
per incident through the service layer (``dispatch.recommend.recommend``, with
routes), on a graph of about 500,000 nodes with 200,000 responders of whom 20 %
are available. Building the full synthetic city takes hours here, so the road
network is a lattice of ``--side`` x ``--side`` nodes (150 m apart; every
tenth street a 50 km/h primary road, the rest 25 km/h residential streets)
laid beside the tiny synthetic city (for its org tree and map projection).

Both candidate sources run: the database per request
(``PINGAN_DISPATCH_INDEX_REFRESH_S=0``, the default) and the in-memory index.
Peers in the same run on the same graph: scipy.sparse.csgraph ``dijkstra``
from one target, full and with a 600 s limit, and networkx
``single_source_dijkstra_path_length`` (3 targets: it takes seconds each).

    .venv/bin/python -m benchmarks.dispatch_fullscale                  # SQLite, 708 x 708
    .venv/bin/python -m benchmarks.dispatch_fullscale --backend postgres
    .venv/bin/python -m benchmarks.dispatch_fullscale --side 200 --responders 20000   # quick
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely
from benchmarks.dispatch import drop, fresh_url
from sqlalchemy import insert

from pingan.bootstrap import seed_reference_data
from pingan.dispatch.models import RoadEdge, RoadNode
from pingan.dispatch.recommend import recommend
from pingan.dispatch.responder_models import Availability, Responder, ResponderPosition
from pingan.dispatch.routing import road_graph
from pingan.kit.db import engine_for, session_scope, utcnow
from pingan.kit.migrate import upgrade
from pingan.org.models import OrgUnit
from pingan.org.principal import Principal
from pingan.org.service import require_projector
from pingan.settings import get_settings
from pingan.sim.city import build_city

SYSTEM = Principal.system("bench")
SPACING_M = 150.0


def add_lattice(url: str, side: int) -> tuple[np.ndarray, np.ndarray]:
    """The lattice's nodes and edges, written straight to the tables; returns node x, y."""
    with session_scope(engine_for(url)) as s:
        proj = require_projector(s)
        city = s.query(OrgUnit).filter(OrgUnit.level == "city").one()
        assert city.boundary is not None
        centre = city.boundary.centroid
        cx, cy = proj.to_metric(np.array([centre.x]), np.array([centre.y]))
        max_node = s.query(RoadNode.id).order_by(RoadNode.id.desc()).limit(1).scalar() or 0
    # Beside the tiny city (east of it), so its own small network does not interfere.
    gx, gy = np.meshgrid(np.arange(side), np.arange(side))
    x = (cx[0] + 40_000.0 + gx.ravel() * SPACING_M).astype(np.float64)
    y = (cy[0] - side * SPACING_M / 2 + gy.ravel() * SPACING_M).astype(np.float64)
    lon, lat = proj.to_lonlat(x, y)
    ids = max_node + 1 + np.arange(side * side)
    idx = np.arange(side * side).reshape(side, side)
    frm = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    to = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    # Every tenth row / column is a primary road.
    primary = np.concatenate([(gy[:, :-1] % 10 == 0).ravel(), (gx[:-1, :] % 10 == 0).ravel()])
    lines = shapely.linestrings(
        np.stack([np.column_stack([lon[frm], lat[frm]]), np.column_stack([lon[to], lat[to]])], 1)
    )
    with session_scope(engine_for(url)) as s:
        s.execute(
            insert(RoadNode),
            [{"id": int(i), "source": "lattice", "lon": a, "lat": b, "x": c, "y": d}
             for i, a, b, c, d in zip(ids.tolist(), lon.tolist(), lat.tolist(), x.tolist(),
                                      y.tolist(), strict=True)],
        )  # fmt: skip
        s.execute(
            insert(RoadEdge),
            [{"source": "lattice", "from_node_id": int(ids[a]), "to_node_id": int(ids[b]),
              "road_class": "primary" if p else "residential", "speed_kmh": 50.0 if p else 25.0,
              "length_m": SPACING_M, "oneway": False, "geom": g}
             for a, b, p, g in zip(frm.tolist(), to.tolist(), primary.tolist(), lines.tolist(),
                                   strict=True)],
        )  # fmt: skip
    return x, y


def add_responders(url: str, n: int, share: float, x: np.ndarray, y: np.ndarray) -> int:
    rng = np.random.default_rng(1)
    with session_scope(engine_for(url)) as s:
        proj = require_projector(s)
        grids = [g for (g,) in s.query(OrgUnit.id).filter(OrgUnit.level == "grid").all()]
        now = utcnow()
        at = rng.integers(0, len(x), size=n)
        px = x[at] + rng.uniform(-60, 60, size=n)
        py = y[at] + rng.uniform(-60, 60, size=n)
        lon, lat = proj.to_lonlat(px, py)
        available = rng.random(n) < share
        first = s.query(Responder.id).order_by(Responder.id.desc()).limit(1).scalar() or 0
        ids = first + 1 + np.arange(n)
        s.execute(
            insert(Responder),
            [{"id": int(i), "display_name": f"Unit {i}", "kind": "police_unit", "tier": 1,
              "org_unit_id": int(grids[int(i) % len(grids)]), "skills": [],
              "travel_mode": "drive",
              "availability": Availability.AVAILABLE if a else Availability.OFF_DUTY,
              "created_at": now, "updated_at": now}
             for i, a in zip(ids.tolist(), available.tolist(), strict=True)],
        )  # fmt: skip
        on = np.flatnonzero(available)
        s.execute(
            insert(ResponderPosition),
            [{"responder_id": int(ids[j]), "at": now, "lon": float(lon[j]), "lat": float(lat[j]),
              "x": float(px[j]), "y": float(py[j])} for j in on.tolist()],
        )  # fmt: skip
    return int(available.sum())


def latency(url: str, points: list[tuple[float, float]], refresh_s: float) -> tuple[float, float]:
    os.environ["PINGAN_DISPATCH_INDEX_REFRESH_S"] = str(refresh_s)
    get_settings.cache_clear()
    engine = engine_for(url)
    with session_scope(engine) as s:  # warm: graph, projector, index
        recommend(s, lon=points[0][0], lat=points[0][1], actor=SYSTEM, k=5)
    times = []
    for lon, lat in points:
        began = time.perf_counter()
        with session_scope(engine) as s:
            found = recommend(s, lon=lon, lat=lat, actor=SYSTEM, k=5)
        times.append((time.perf_counter() - began) * 1000)
        assert len(found) == 5
    return float(np.percentile(times, 50)), float(np.percentile(times, 99))


def peers(url: str, seed: int) -> dict[str, float]:
    import networkx as nx
    from scipy.sparse.csgraph import dijkstra

    with session_scope(engine_for(url)) as s:
        graph = road_graph(s)
    rng = np.random.default_rng(seed)
    targets = rng.choice(graph.n_nodes, size=20, replace=False).tolist()
    full, limited = [], []
    for t in targets:
        began = time.perf_counter()
        dijkstra(graph.drive, directed=True, indices=t)
        full.append(time.perf_counter() - began)
        began = time.perf_counter()
        dijkstra(graph.drive, directed=True, indices=t, limit=600.0)
        limited.append(time.perf_counter() - began)
    coo = graph.drive.tocoo()
    g = nx.DiGraph()
    g.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(),
                                  strict=True))  # fmt: skip
    nx_s = []
    for t in targets[:3]:
        began = time.perf_counter()
        nx.single_source_dijkstra_path_length(g, t)
        nx_s.append(time.perf_counter() - began)
    return {
        "nodes": graph.n_nodes,
        "csgraph_full_ms": statistics.median(full) * 1000,
        "csgraph_600s_ms": statistics.median(limited) * 1000,
        "networkx_ms": statistics.median(nx_s) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--side", type=int, default=708)
    parser.add_argument("--responders", type=int, default=200_000)
    parser.add_argument("--available", type=float, default=0.2)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--db-queries", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_url(args.backend, Path(tmp))
        try:
            upgrade(url)
            with session_scope(engine_for(url)) as s:
                seed_reference_data(s)
            build_city(engine_for(url), scale="tiny", seed=args.seed, days=28)
            began = time.perf_counter()
            x, y = add_lattice(url, args.side)
            on = add_responders(url, args.responders, args.available, x, y)
            print(f"[{args.backend}] lattice {args.side}x{args.side}, {args.responders:,} "
                  f"responders ({on:,} available), written in "
                  f"{time.perf_counter() - began:.0f} s")  # fmt: skip
            rng = np.random.default_rng(args.seed)
            pick = rng.integers(0, len(x), size=args.queries)
            with session_scope(engine_for(url)) as s:
                proj = require_projector(s)
            lon, lat = proj.to_lonlat(x[pick] + 40.0, y[pick] + 40.0)
            points = list(zip(lon.tolist(), lat.tolist(), strict=True))
            p = peers(url, args.seed)
            print(f"graph {p['nodes']:,} nodes; one-target Dijkstra, median of 20: csgraph full "
                  f"{p['csgraph_full_ms']:.1f} ms, csgraph 600 s limit "
                  f"{p['csgraph_600s_ms']:.2f} ms; networkx (median of 3) "
                  f"{p['networkx_ms']:.0f} ms")  # fmt: skip
            p50, p99 = latency(url, points, 60.0)
            print(f"[{args.backend}] recommend k=5 with routes, in-memory index: p50 {p50:.2f} ms, "
                  f"p99 {p99:.2f} ms over {len(points)} incidents; "
                  f"networkx one search / p99 = {p['networkx_ms'] / p99:.0f}x")  # fmt: skip
            p50, p99 = latency(url, points[: args.db_queries], 0.0)
            print(f"[{args.backend}] recommend k=5 with routes, database per request: "
                  f"p50 {p50:.2f} ms, p99 {p99:.2f} ms over {args.db_queries} "
                  "incidents")  # fmt: skip
        finally:
            drop(url)


if __name__ == "__main__":
    main()
