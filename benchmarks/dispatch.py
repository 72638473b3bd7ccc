"""Dispatch: location-update ingest rate and recommendation latency on the synthetic city.

For each backend: a fresh database with the synthetic city (``--scale``,
28 days of incidents), ``--responders`` responders on random road nodes, all
on duty, then:

* positions: batches of ``--batch`` location updates (one per responder)
  through ``dispatch.positions.ingest_positions`` (lookup, scope and duty
  checks, projection, upsert of the latest position, trail insert, trail
  pruning, audit): positions per second.
* recommendation: ``--available`` of the responders stay available, the rest
  go off duty; then ``dispatch.recommend.recommend`` (k = 5, with routes)
  at ``--queries`` incident locations: latency p50/p99 through the service
  layer (candidate query, snapping, one Dijkstra, routes of the 5).
* peers for the graph search in the same run, on the same graph: networkx
  ``single_source_dijkstra_path_length`` and scipy.sparse.csgraph
  ``dijkstra`` (what ``RoadGraph.times_to`` calls), from the same targets.

    .venv/bin/python benchmarks/dispatch.py                       # demo city, both backends
    .venv/bin/python benchmarks/dispatch.py --scale tiny --backend sqlite
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, insert, select, text, update

from pingan.bootstrap import seed_reference_data
from pingan.dispatch.positions import ingest_positions
from pingan.dispatch.recommend import recommend
from pingan.dispatch.responder_models import Availability, Responder
from pingan.dispatch.routing import road_graph
from pingan.incidents.models import Incident
from pingan.kit.db import engine_for, session_scope, utcnow
from pingan.kit.migrate import upgrade
from pingan.org.principal import Principal
from pingan.org.service import grid_locator
from pingan.sim.city import build_city

PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432"
SYSTEM = Principal.system("bench")


def fresh_url(backend: str, folder: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{folder / f'dispatch-{uuid.uuid4().hex[:6]}.db'}"
    name = f"pingan_bench_dispatch_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{PG_BASE}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{PG_BASE}/{name}"


def drop(url: str) -> None:
    engine_for(url).dispose()
    if url.startswith("postgresql"):
        admin = create_engine(f"{PG_BASE}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
        admin.dispose()


def add_responders(url: str, n: int, rng: np.random.Generator) -> tuple[list[int], np.ndarray]:
    """n on-duty police units on random road nodes inside grids; returns ids and nodes."""
    with session_scope(engine_for(url)) as s:
        graph = road_graph(s)
        grids = grid_locator(s).locate(graph.lon, graph.lat)
        on_grid = np.flatnonzero(grids >= 0)
        nodes = rng.choice(on_grid, size=n)
        now = utcnow()
        rows = [
            {"display_name": f"Unit {i}", "kind": "police_unit", "tier": 1,
             "org_unit_id": int(grids[node]), "skills": [], "travel_mode": "drive",
             "availability": Availability.AVAILABLE, "created_at": now, "updated_at": now}
            for i, node in enumerate(nodes.tolist())
        ]  # fmt: skip
        ids = s.scalars(
            insert(Responder).returning(Responder.id, sort_by_parameter_order=True), rows
        ).all()
    return [int(i) for i in ids], nodes


def bench_positions(
    url: str, ids: list[int], nodes: np.ndarray, batch: int, rounds: int
) -> list[float]:
    engine = engine_for(url)
    with session_scope(engine) as s:
        graph = road_graph(s)
    rates = []
    for r in range(rounds):
        lo = (r * batch) % len(ids)
        pick = [(lo + j) % len(ids) for j in range(batch)]
        lon = (graph.lon[nodes[pick]] + 1e-5 * r).tolist()
        lat = graph.lat[nodes[pick]].tolist()
        now = utcnow()
        began = time.perf_counter()
        with session_scope(engine) as s:
            report = ingest_positions(
                s, responder_ids=[ids[i] for i in pick], lon=lon, lat=lat, at=[now] * batch,
                actor=SYSTEM, now=now,
            )  # fmt: skip
        rates.append(batch / (time.perf_counter() - began))
        assert report.accepted == batch, report.rejected[:3]
    return rates


def bench_recommend(url: str, ids: list[int], available: float, queries: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    engine = engine_for(url)
    off = [i for i in ids if rng.random() >= available]
    with session_scope(engine) as s:
        for start in range(0, len(off), 5000):
            s.execute(
                update(Responder)
                .where(Responder.id.in_(off[start : start + 5000]))
                .values(availability=Availability.OFF_DUTY)
            )
        points = s.execute(select(Incident.lon, Incident.lat).limit(queries * 10)).all()
    points = [points[i] for i in rng.choice(len(points), size=queries, replace=False)]
    times = []
    for lon, lat in points:
        began = time.perf_counter()
        with session_scope(engine) as s:
            found = recommend(s, lon=lon, lat=lat, actor=SYSTEM, k=5)
        times.append(time.perf_counter() - began)
        assert len(found) == 5
    times_ms = np.array(times) * 1000
    return {
        "p50_ms": float(np.percentile(times_ms, 50)),
        "p99_ms": float(np.percentile(times_ms, 99)),
        "available": len(ids) - len(off),
    }


def bench_peers(url: str, targets: int, seed: int) -> dict:
    import networkx as nx

    with session_scope(engine_for(url)) as s:
        graph = road_graph(s)
    rev = graph.drive.transpose().tocoo()
    g = nx.DiGraph()
    g.add_weighted_edges_from(
        zip(rev.row.tolist(), rev.col.tolist(), rev.data.tolist(), strict=True)
    )
    rng = np.random.default_rng(seed)
    picks = rng.choice(graph.n_nodes, size=targets, replace=False).tolist()
    nx_s, sp_s = [], []
    for t in picks:
        began = time.perf_counter()
        lengths = nx.single_source_dijkstra_path_length(g, t)
        nx_s.append(time.perf_counter() - began)
        began = time.perf_counter()
        dist, _ = graph.times_to(t)
        sp_s.append(time.perf_counter() - began)
        # Same answers, or the comparison means nothing.
        probe = list(lengths)[-1]
        assert abs(lengths[probe] - dist[probe]) < 1e-6
    return {
        "nodes": graph.n_nodes,
        "edges": int(graph.drive.nnz),
        "networkx_ms": statistics.median(nx_s) * 1000,
        "csgraph_ms": statistics.median(sp_s) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", default="demo")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--responders", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--available", type=float, default=0.2)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            url = fresh_url(backend, Path(tmp))
            try:
                upgrade(url)
                with session_scope(engine_for(url)) as s:
                    seed_reference_data(s)
                began = time.perf_counter()
                summary = build_city(engine_for(url), scale=args.scale, seed=args.seed, days=28)
                built = time.perf_counter() - began
                print(f"[{backend}] {args.scale} city: {summary.road_nodes} road nodes, "
                      f"{summary.incidents} incidents, built in {built:.0f} s")  # fmt: skip
                rng = np.random.default_rng(args.seed)
                ids, nodes = add_responders(url, args.responders, rng)
                rates = bench_positions(url, ids, nodes, args.batch, args.rounds)
                print(f"[{backend}] positions: batch {args.batch}, median "
                      f"{statistics.median(rates):,.0f}/s (min {min(rates):,.0f}, "
                      f"max {max(rates):,.0f}) over {args.rounds} batches")  # fmt: skip
                rec = bench_recommend(url, ids, args.available, args.queries, args.seed)
                print(f"[{backend}] recommend k=5 with routes, {args.responders} responders "
                      f"({rec['available']} available): p50 {rec['p50_ms']:.1f} ms, "
                      f"p99 {rec['p99_ms']:.1f} ms over {args.queries} queries")  # fmt: skip
                if backend == backends[0]:
                    peers = bench_peers(url, 20, args.seed)
                    print(f"graph {peers['nodes']} nodes / {peers['edges']} directed edges: "
                          f"one-target Dijkstra, median of 20: networkx {peers['networkx_ms']:.1f} "
                          f"ms, scipy csgraph {peers['csgraph_ms']:.2f} ms, ratio "
                          f"{peers['networkx_ms'] / peers['csgraph_ms']:.0f}x")  # fmt: skip
            finally:
                drop(url)


if __name__ == "__main__":
    main()
