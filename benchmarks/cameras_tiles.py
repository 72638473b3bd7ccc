"""Camera and coverage map tiles at 830,000 cameras: vector tiles (MVT) against the PNG tiles.

For each backend, a fresh database holds the full-scale synthetic city's
cameras: ``--cameras`` cameras scattered along its streets (as in
``cameras_coverage.py``), 2 % in maintenance, 1 % retired, each with a live
health state (3 % offline). The street pieces (10 m, with their real cover
counts) are stored for a ``--window`` km square around the centre, where the
coverage tiles are measured. Bulk inserts: the registry is not what is timed.
On PostgreSQL the tables are then vacuumed and analysed, as autovacuum does
to a live database (without statistics the planner guesses one row per box
and picks nested loops).

Timed, per tile, through the service functions the routes call (system actor):

* cameras MVT (``cameras.mvt.cameras_tile``) at zoom 10 (every tile of the
  city), 12 and 15 (a 4 x 4 block at the centre);
* coverage MVT (``cameras.mvt_coverage.coverage_tile``) at zoom 12, 14, 16;
* peer, the same tiles from the PNG routes (``cameras.tiles``): they read
  every row in the box (sampled past 400,000) and paint dots.

Each tile set is read once to warm the caches, then timed; the median and
p90 per tile and the ratio of medians are printed.

    .venv/bin/python benchmarks/cameras_tiles.py                          # both backends
    .venv/bin/python benchmarks/cameras_tiles.py --backend sqlite --cameras 100000
    .venv/bin/python benchmarks/cameras_tiles.py --database sqlite:////tmp/tiles.db  # no setup
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pgdb import drop_database, fresh_database
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from pingan.analytics.coverage import Sectors, cover_counts, split_lines
from pingan.analytics.tiles import lonlat_to_tile
from pingan.bootstrap import seed_reference_data
from pingan.cameras import mvt, mvt_coverage, tiles
from pingan.cameras.health_models import CameraLiveState
from pingan.cameras.models import Camera, CameraOwner, StreetSegment
from pingan.dispatch.models import RoadEdge, RoadNode
from pingan.kit.db import engine_for, session_scope, utcnow
from pingan.kit.migrate import upgrade
from pingan.org.principal import Principal
from pingan.org.service import require_projector, set_city_crs
from pingan.sim.names import NamePool
from pingan.sim.population import city_outline
from pingan.sim.rng import stream
from pingan.sim.roads import build_roads
from pingan.sim.scales import SCALES

SYSTEM = Principal.system("bench")
DB_PREFIX = "pingan_bench_tiles"
CENTRE_LONLAT = (120.2, 30.25)
CHUNK = 20_000
TileFn = Callable[..., bytes]


def populate(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Cameras, live states and the central street pieces; returns what the timing needs."""
    scale = SCALES[args.scale]
    outline = city_outline(stream(args.seed, "outline"), (0.0, 0.0), scale)
    roads = build_roads(stream(args.seed, "roads"), scale, outline, (0.0, 0.0),
                        NamePool(stream(args.seed, "names")))  # fmt: skip
    pieces = split_lines(roads.edge_geom, 10.0)
    rng = np.random.default_rng(args.seed)
    n = args.cameras
    at = rng.integers(0, len(pieces), n)
    cam_x = pieces.mid_x[at] + rng.normal(0, 4, n)
    cam_y = pieces.mid_y[at] + rng.normal(0, 4, n)
    heading, fov = rng.uniform(0, 360, n), rng.uniform(30, 120, n)
    range_m = rng.choice([20.0, 30.0, 50.0, 80.0], n, p=[0.3, 0.4, 0.2, 0.1])
    ptz = rng.random(n) < 0.2
    status = rng.choice(["active", "maintenance", "retired"], n, p=[0.97, 0.02, 0.01])
    offline = rng.random(n) < 0.03
    with session_scope(engine_for(url)) as s:
        seed_reference_data(s)
        set_city_crs(s, "EPSG:32651")
        proj = require_projector(s)
        ox, oy = proj.to_metric(np.array([CENTRE_LONLAT[0]]), np.array([CENTRE_LONLAT[1]]))
        ox0, oy0 = float(ox[0]), float(oy[0])
        owner = CameraOwner(code="bench", name="Bench owner")
        s.add(owner)
        s.flush()
        lon, lat = proj.to_lonlat(cam_x + ox0, cam_y + oy0)
        now = utcnow()
        for start in range(0, n, CHUNK):
            idx = range(start, min(n, start + CHUNK))
            s.execute(
                insert(Camera),
                [
                    {"id": i + 1, "owner_id": owner.id, "owner_camera_id": f"c{i}",
                     "network": "public_hd" if i % 3 else "social", "status": str(status[i]),
                     "location": shapely.Point(lon[i], lat[i]), "x": float(cam_x[i] + ox0),
                     "y": float(cam_y[i] + oy0), "heading_deg": float(heading[i]),
                     "fov_deg": float(fov[i]), "range_m": float(range_m[i]),
                     "ptz": bool(ptz[i])}
                    for i in idx
                ],
            )  # fmt: skip
            s.execute(
                insert(CameraLiveState),
                [
                    {"camera_id": i + 1, "state": "offline" if offline[i] else "online",
                     "state_since": now, "first_seen_at": now, "last_seen_at": now,
                     "last_online": not offline[i], "reports": 1}
                    for i in idx
                ],
            )  # fmt: skip
        active = status == "active"
        sectors = Sectors.build(cam_x[active], cam_y[active], heading[active], fov[active],
                                range_m[active], ptz[active])  # fmt: skip
        segments = _street_pieces(s, roads, pieces, (ox0, oy0), sectors, args.window)
    print(f"  {n:,} cameras, {segments:,} street pieces in the central "
          f"{args.window:g} km square")  # fmt: skip
    return {"city_bounds_m": roads_bounds(roads, (ox0, oy0)), "proj": proj}


def roads_bounds(roads: Any, origin: tuple[float, float]) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = shapely.total_bounds(roads.edge_geom)
    return (x0 + origin[0], y0 + origin[1], x1 + origin[0], y1 + origin[1])


def _street_pieces(
    s: Session, roads: Any, pieces: Any, origin: tuple[float, float], sectors: Sectors,
    window_km: float,
) -> int:  # fmt: skip
    """The central pieces with their real cover counts; edges hang on one placeholder node."""
    half = window_km * 500.0
    keep = (np.abs(pieces.mid_x) <= half) & (np.abs(pieces.mid_y) <= half)
    counts = cover_counts(sectors, pieces.mid_x[keep], pieces.mid_y[keep])
    proj = require_projector(s)

    def to_lonlat(c: np.ndarray) -> np.ndarray:
        return np.column_stack(proj.to_lonlat(c[:, 0] + origin[0], c[:, 1] + origin[1]))

    chords = shapely.transform(pieces.geometries()[keep], to_lonlat)
    s.execute(insert(RoadNode), [{"id": 1, "source": "bench", "lon": 0.0, "lat": 0.0,
                                  "x": 0.0, "y": 0.0}])  # fmt: skip
    lines = np.unique(pieces.line[keep])
    s.execute(
        insert(RoadEdge),
        [
            {"id": int(e) + 1, "source": "bench", "from_node_id": 1, "to_node_id": 1,
             "road_class": str(roads.edge_class[e]), "speed_kmh": 40.0, "length_m": 1.0,
             "geom": shapely.transform(roads.edge_geom[e], to_lonlat)}
            for e in lines.tolist()
        ],
    )  # fmt: skip
    line, seq = pieces.line[keep], pieces.seq[keep]
    mid_x, mid_y, length = pieces.mid_x[keep], pieces.mid_y[keep], pieces.length[keep]
    wkb = shapely.to_wkb(chords)
    for start in range(0, len(line), CHUNK):
        s.execute(
            insert(StreetSegment.__table__),  # type: ignore[arg-type]
            [
                {"edge_id": int(line[i]) + 1, "seq": int(seq[i]),
                 "road_class": str(roads.edge_class[line[i]]), "length_m": float(length[i]),
                 "x": float(mid_x[i] + origin[0]), "y": float(mid_y[i] + origin[1]),
                 "grid_id": None, "geom": bytes(wkb[i]), "cover_count": int(counts[i])}
                for i in range(start, min(len(line), start + CHUNK))
            ],
        )  # fmt: skip
    return int(keep.sum())


def block(z: int, side: int) -> list[tuple[int, int, int]]:
    """A side x side block of tiles around the centre."""
    tx, ty = lonlat_to_tile(np.array([CENTRE_LONLAT[0]]), np.array([CENTRE_LONLAT[1]]), z)
    lo = side // 2
    return [(z, int(tx[0]) + dx - lo, int(ty[0]) + dy - lo)
            for dx in range(side) for dy in range(side)]  # fmt: skip


def city_tiles(z: int, bounds_m: tuple[float, float, float, float], proj: Any) -> list[Any]:
    x0, y0, x1, y1 = bounds_m
    lon, lat = proj.to_lonlat(np.array([x0, x1]), np.array([y0, y1]))
    tx, ty = lonlat_to_tile(lon, lat, z)
    return [(z, x, y) for x in range(int(tx.min()), int(tx.max()) + 1)
            for y in range(int(ty.min()), int(ty.max()) + 1)]  # fmt: skip


def time_tiles(url: str, fn: TileFn, tile_list: list[Any]) -> tuple[list[float], int]:
    """Seconds per tile (after one warm-up pass) and the total bytes."""
    engine = engine_for(url)
    with Session(engine) as s:
        for z, x, y in tile_list:
            fn(s, actor=SYSTEM, z=z, x=x, y=y)
        times, size = [], 0
        for z, x, y in tile_list:
            t = time.perf_counter()
            body = fn(s, actor=SYSTEM, z=z, x=x, y=y)
            times.append(time.perf_counter() - t)
            size += len(body)
    return times, size


def report(label: str, tile_list: list[Any], ours: Any, peer: Any) -> None:
    (t_ours, b_ours), (t_peer, b_peer) = ours, peer
    med_o, med_p = statistics.median(t_ours), statistics.median(t_peer)
    p90_o = sorted(t_ours)[int(0.9 * (len(t_ours) - 1))]
    p90_p = sorted(t_peer)[int(0.9 * (len(t_peer) - 1))]
    n = len(tile_list)
    print(f"  {label:<20} {n:>3} tiles | MVT median {1000 * med_o:7.1f} ms "
          f"p90 {1000 * p90_o:7.1f} ms {b_ours / n / 1024:6.1f} KiB | PNG median "
          f"{1000 * med_p:7.1f} ms p90 {1000 * p90_p:7.1f} ms {b_peer / n / 1024:6.1f} KiB "
          f"| PNG/MVT {med_p / med_o:5.1f}x")  # fmt: skip


def bench(backend: str, args: argparse.Namespace) -> None:
    print(f"{backend}:")
    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database(backend, Path(args.keep or tmp) / "tiles.db", prefix=DB_PREFIX)
        try:
            upgrade(url)
            t = time.perf_counter()
            setup = populate(url, args)
            if backend == "postgres":
                settle(url)
            print(f"  setup {time.perf_counter() - t:.0f} s")
            run_cases(url, setup)
        finally:
            engine_for(url).dispose()
            if args.keep:
                print(f"  kept: --database {url}")
            else:
                drop_database(url)


def settle(url: str) -> None:
    """What autovacuum does to a live database after a bulk load: statistics, visibility map."""
    engine = engine_for(url).execution_options(isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for table in ("cameras", "camera_health_state", "camera_street_segments"):
            conn.exec_driver_sql(f"VACUUM ANALYZE {table}")


def existing(url: str) -> dict[str, Any]:
    """The city box of a database this script populated before (see ``--database``)."""
    with Session(engine_for(url)) as s:
        box = s.execute(select(func.min(Camera.x), func.min(Camera.y), func.max(Camera.x),
                               func.max(Camera.y))).one()  # fmt: skip
        return {"city_bounds_m": tuple(float(v) for v in box), "proj": require_projector(s)}


def run_cases(url: str, setup: dict[str, Any]) -> None:
    cases = [
        ("cameras z10 (city)", city_tiles(10, setup["city_bounds_m"], setup["proj"]),
         mvt.cameras_tile, tiles.cameras_tile),
        ("cameras z12", block(12, 4), mvt.cameras_tile, tiles.cameras_tile),
        ("cameras z15", block(15, 4), mvt.cameras_tile, tiles.cameras_tile),
        ("coverage z12", block(12, 2), mvt_coverage.coverage_tile, tiles.coverage_tile),
        ("coverage z14", block(14, 4), mvt_coverage.coverage_tile, tiles.coverage_tile),
        ("coverage z16", block(16, 4), mvt_coverage.coverage_tile, tiles.coverage_tile),
    ]  # fmt: skip
    for label, tile_list, ours, peer in cases:
        report(label, tile_list, time_tiles(url, ours, tile_list),
               time_tiles(url, peer, tile_list))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--scale", default="full", choices=sorted(SCALES))
    parser.add_argument("--cameras", type=int, default=830_000)
    parser.add_argument("--window", type=float, default=20.0, help="km square of street pieces")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", help="time this already populated database (no setup)")
    parser.add_argument("--keep", help="keep the database (SQLite file in this folder) to re-time")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} at start")
    if args.database:
        print(args.database.split("@")[-1])
        run_cases(args.database, existing(args.database))
        return
    for backend in ["sqlite", "postgres"] if args.backend == "both" else [args.backend]:
        bench(backend, args)
    print(f"load average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()
