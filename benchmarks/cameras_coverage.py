"""Camera coverage at city scale: whole recompute, one-camera updates, and the shapely peer.

The full-scale synthetic road network (``pingan.sim``, 14,000 km²) is cut
into ``--piece`` m segments; ``--cameras`` cameras are scattered along the
streets (within a few metres of a segment, random heading, 30-120 degree
lenses, 20 % domes, ranges 20-80 m). Timed, in one process:

* recompute: sectors from the camera columns, the cut of the roads into
  segments, the sector x segment join (``analytics.coverage``), and per-area
  totals (covered and total length over 1 km cells, standing in for the
  stored grid id of each segment).
* incremental: ``--moves`` single-camera moves through ``CoverageIndex.move``
  (remove the old sector, add the new): median and p99 per move.
* peer: shapely 2 ``STRtree`` over the segment lines and a bulk
  ``query(sectors, predicate="intersects")`` with the same sectors as
  polygons (16-step arcs): the join alone, then the ratio. The two
  definitions differ (midpoint in sector vs any part of the segment touches
  it), so the covered shares are printed side by side.

    .venv/bin/python benchmarks/cameras_coverage.py                      # full city, 830k cameras
    .venv/bin/python benchmarks/cameras_coverage.py --scale city --cameras 100000
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import shapely

from pingan.analytics.coverage import CoverageIndex, Sectors, cover_counts, split_lines
from pingan.sim.names import NamePool
from pingan.sim.population import city_outline
from pingan.sim.rng import stream
from pingan.sim.roads import build_roads
from pingan.sim.scales import SCALES


def scatter_cameras(
    rng: np.random.Generator, mid_x: np.ndarray, mid_y: np.ndarray, n: int
) -> Sectors:
    at = rng.integers(0, len(mid_x), n)
    return Sectors.build(
        mid_x[at] + rng.normal(0, 4, n), mid_y[at] + rng.normal(0, 4, n), rng.uniform(0, 360, n),
        rng.uniform(30, 120, n), rng.choice([20.0, 30.0, 50.0, 80.0], n, p=[0.3, 0.4, 0.2, 0.1]),
        rng.random(n) < 0.2,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="full", choices=sorted(SCALES))
    parser.add_argument("--cameras", type=int, default=830_000)
    parser.add_argument("--piece", type=float, default=10.0, help="segment length, metres")
    parser.add_argument("--moves", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--repeat", type=int, default=1, help="best of N for each join")
    args = parser.parse_args()

    scale = SCALES[args.scale]
    outline = city_outline(stream(args.seed, "outline"), (0.0, 0.0), scale)
    roads = build_roads(stream(args.seed, "roads"), scale, outline, (0.0, 0.0),
                        NamePool(stream(args.seed, "names")))  # fmt: skip
    rng = np.random.default_rng(args.seed)
    # Camera columns as the service reads them from the table.
    probe = split_lines(roads.edge_geom, args.piece)
    sectors_in = scatter_cameras(rng, probe.mid_x, probe.mid_y, args.cameras)
    cols = (sectors_in.x, sectors_in.y, sectors_in.heading_deg, 2 * sectors_in.half_angle_deg,
            sectors_in.range_m)  # fmt: skip
    print(f"{args.scale}: {len(roads.edge_geom):,} road edges, "
          f"{roads.edge_length.sum() / 1000:,.0f} km; {args.cameras:,} cameras; "
          f"workers={args.workers}")  # fmt: skip

    t0 = time.perf_counter()
    sectors = Sectors.build(*cols)
    t_sectors = time.perf_counter() - t0
    t0 = time.perf_counter()
    pieces = split_lines(roads.edge_geom, args.piece)
    t_segments = time.perf_counter() - t0
    t_join = float("inf")
    for _ in range(args.repeat):  # on a loaded machine, keep the best of N
        t0 = time.perf_counter()
        counts = cover_counts(sectors, pieces.mid_x, pieces.mid_y, workers=args.workers)
        t_join = min(t_join, time.perf_counter() - t0)
    t0 = time.perf_counter()
    covered = counts > 0
    cell = (np.floor(pieces.mid_x / 1000).astype(np.int64) * 100_003
            + np.floor(pieces.mid_y / 1000).astype(np.int64))  # fmt: skip
    _keys, area = np.unique(cell, return_inverse=True)
    total = np.bincount(area, weights=pieces.length)
    seen = np.bincount(area, weights=np.where(covered, pieces.length, 0.0))
    t_totals = time.perf_counter() - t0
    recompute = t_sectors + t_segments + t_join + t_totals
    share = float(seen.sum() / total.sum())
    print(f"segments: {len(pieces):,} of {args.piece:g} m; covered share {share:.1%}")
    print(f"recompute: {recompute:.2f} s  (sectors {t_sectors:.2f}, segments {t_segments:.2f}, "
          f"join {t_join:.2f}, per-area totals {t_totals:.2f}; {len(total):,} areas)")  # fmt: skip

    index = CoverageIndex.build(pieces.mid_x, pieces.mid_y, sectors, workers=args.workers)
    new = scatter_cameras(rng, pieces.mid_x, pieces.mid_y, args.moves)
    times = []
    for k in range(args.moves):
        t = time.perf_counter()
        index.move(sectors.subset([k]), new.subset([k]))
        times.append(time.perf_counter() - t)
    ms = sorted(1000 * x for x in times)
    print(
        f"incremental: one-camera move median {statistics.median(ms):.3f} ms, "
        f"p99 {ms[int(0.99 * (len(ms) - 1))]:.3f} ms over {args.moves} moves"
    )

    if args.no_peer:
        return
    t = time.perf_counter()
    polys = sectors.polygons(arc_steps=16)
    lines = pieces.geometries()
    t_geom = time.perf_counter() - t
    t_peer = float("inf")
    for _ in range(args.repeat):
        t = time.perf_counter()
        tree = shapely.STRtree(lines)
        _sec_idx, seg_idx = tree.query(polys, predicate="intersects")
        t_peer = min(t_peer, time.perf_counter() - t)
    peer_covered = np.zeros(len(pieces), dtype=bool)
    peer_covered[seg_idx] = True
    peer_share = float(pieces.length[peer_covered].sum() / pieces.length.sum())
    print(
        f"peer shapely STRtree intersects: join {t_peer:.2f} s (+ {t_geom:.2f} s building "
        f"polygons and lines); covered share {peer_share:.1%}"
    )
    print(
        f"ratio, join: peer {t_peer:.2f} s / ours {t_join:.2f} s = {t_peer / t_join:.1f}x; "
        f"whole recompute vs peer join alone: {t_peer / recompute:.1f}x"
    )


if __name__ == "__main__":
    main()
