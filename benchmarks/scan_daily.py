"""The ``alerts.daily`` scan at full scale: 10,000 grids, 60 days, ~1.64 M cases, 999 reps.

Times the space-time permutation scan with the daily job's parameters
(``alerts.detect.DailyParams``: windows of 1..7 days, 999 replications,
every core) on the grids of ``pingan sim city --scale full``: their polygons'
centroids and populations, built in memory by the simulator (about a minute,
then cached under /tmp). Cases: a 60-day window at the full city's rate
(10 M incidents a year, so about 1.64 M), each grid drawing in proportion to
its population, days uniform; plus an outbreak planted on the last 3 days in
the 3 grids nearest the most populous grid (``--outbreak`` cases).

In one run:

- before: the old daily setting (circles up to 50 % of the cases, no
  distance limit) with ``--before-replications`` replications; the time per
  replication is extrapolated to 999, because the whole run does not end in
  a usable time (it was stopped after 23.5 min at full scale, issue 11);
- after: the new default (circles up to ``MAX_RADIUS_KM_DEFAULT`` km) with
  the full replications, and each radius in ``--radii`` with
  ``--radii-replications`` for the trade-off.

Each line says whether the most likely cluster holds the planted grids.

    .venv/bin/python -m benchmarks.scan_daily
    .venv/bin/python -m benchmarks.scan_daily --before-replications 0 --radii 1,2,5
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from pingan.alerts.detect import MAX_RADIUS_KM_DEFAULT
from pingan.analytics.scan import ScanResult, build_circles, space_time_permutation_scan

CACHE = Path("/tmp/pingan_bench_full_grids_seed{seed}.npz")
LOOKBACK_DAYS = 60
WINDOW_DAYS = 7


def full_scale_grids(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Centroids (metres) and populations of the full-scale synthetic city's grids."""
    path = Path(str(CACHE).format(seed=seed))
    if path.exists():
        saved = np.load(path)
        return saved["coords"], saved["population"]
    from pingan.org.levels import Level
    from pingan.sim.boundaries import build_org_tree
    from pingan.sim.names import NamePool
    from pingan.sim.population import build_population, city_outline
    from pingan.sim.rng import stream
    from pingan.sim.scales import SCALES

    scale = SCALES["full"]
    outline = city_outline(stream(seed, "outline"), (0.0, 0.0), scale)
    model = build_population(stream(seed, "population"), scale, outline, (0.0, 0.0))
    units = build_org_tree(stream(seed, "org"), scale, model, NamePool(stream(seed, "names")))
    grids = [u for u in units if u.level == Level.GRID]
    coords = np.array([(g.geom.centroid.x, g.geom.centroid.y) for g in grids])
    population = np.array([g.population for g in grids], dtype=np.float64)
    np.savez(path, coords=coords, population=population)
    return coords, population


def make_cases(
    coords: np.ndarray, population: np.ndarray, cases: int, outbreak: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    weight = np.maximum(population, 1.0)
    loc = rng.choice(coords.shape[0], size=cases, p=weight / weight.sum())
    day = rng.integers(0, LOOKBACK_DAYS, size=cases)
    busiest = int(np.argmax(population))
    planted = np.argsort(np.hypot(*(coords - coords[busiest]).T))[:3]
    extra_loc = rng.choice(planted, size=outbreak)
    extra_day = LOOKBACK_DAYS - 1 - rng.integers(0, 3, size=outbreak)
    return np.concatenate([loc, extra_loc]), np.concatenate([day, extra_day]), planted


def _describe(coords: np.ndarray, loc: np.ndarray, fraction: float, radius_m: float | None) -> str:
    circles = build_circles(
        coords,
        np.bincount(loc, minlength=coords.shape[0]),
        max_case_fraction=fraction,
        max_radius=radius_m,
    )
    reach = np.where(circles.neighbours >= 0, circles.distances, 0.0).max()
    return (
        f"circles: {circles.sizes.mean():,.0f} grids on average, {circles.sizes.max():,} at "
        f"most, radius up to {reach / 1000:.1f} km"
    )


def _scan(
    coords: np.ndarray,
    loc: np.ndarray,
    day: np.ndarray,
    radius_km: float,
    replications: int,
    workers: int,
) -> tuple[ScanResult, float, float]:
    start, start_cpu = time.perf_counter(), time.process_time()
    result = space_time_permutation_scan(
        coords,
        loc,
        day,
        analysis_day=LOOKBACK_DAYS - 1,
        max_window_days=WINDOW_DAYS,
        max_case_fraction=0.5,
        max_radius=radius_km * 1000.0 if radius_km > 0 else None,
        replications=replications,
        seed=0,
        workers=workers,
    )
    return result, time.perf_counter() - start, time.process_time() - start_cpu


def _found(result: ScanResult, planted: np.ndarray) -> str:
    if not result.clusters:
        return "no cluster"
    top = result.clusters[0]
    hit = np.isin(planted, top.locations).all()
    return (
        f"top cluster {top.locations.size} grids, radius {top.radius / 1000:.2f} km, "
        f"obs {top.observed} / exp {top.expected:.1f}, p {top.p_value:.3f}; "
        f"holds the planted grids: {bool(hit)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cases", type=int, default=round(10_000_000 * LOOKBACK_DAYS / 365))
    parser.add_argument("--outbreak", type=int, default=60)
    parser.add_argument("--replications", type=int, default=999)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--before-replications", type=int, default=2)
    parser.add_argument("--radii", default="2,5", help="more radii (km) for the trade-off")
    parser.add_argument("--radii-replications", type=int, default=99)
    args = parser.parse_args()

    coords, population = full_scale_grids(args.seed)
    loc, day, planted = make_cases(coords, population, args.cases, args.outbreak, args.seed)
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"{coords.shape[0]:,} grids, {LOOKBACK_DAYS} days, {loc.size:,} cases "
        f"({args.outbreak} planted), windows 1..{WINDOW_DAYS}, workers={args.workers}"
    )
    # Compile (or load the cached kernels) outside the timings.
    _scan(coords[:100], loc[loc < 100], day[loc < 100], 0.0, 1, 1)

    if args.before_replications >= 0:
        print(f"before (50 % of cases, no distance limit): {_describe(coords, loc, 0.5, None)}")
        _, t0, c0 = _scan(coords, loc, day, 0.0, 0, args.workers)
        print(f"  observed data only: {t0:.1f} s wall, {c0:.1f} CPU s", flush=True)
        if args.before_replications > 0:
            reps = args.before_replications
            result, t, c = _scan(coords, loc, day, 0.0, reps, args.workers)
            per_rep, per_rep_cpu = (t - t0) / reps, (c - c0) / reps
            print(f"  {reps} replications: {t:.1f} s wall, {c:.1f} CPU s; per replication "
                  f"{per_rep:.1f} s wall, {per_rep_cpu:.1f} CPU s -> extrapolated to "
                  f"{args.replications}: {t0 + per_rep * args.replications:,.0f} s wall, "
                  f"{c0 + per_rep_cpu * args.replications:,.0f} CPU s; "
                  f"{_found(result, planted)}", flush=True)  # fmt: skip

    radius = MAX_RADIUS_KM_DEFAULT
    print(f"after ({radius:g} km): {_describe(coords, loc, 0.5, radius * 1000)}")
    result, t, c = _scan(coords, loc, day, radius, args.replications, args.workers)
    print(f"  {args.replications} replications: {t:.1f} s wall, {c:.1f} CPU s; "
          f"{_found(result, planted)}", flush=True)  # fmt: skip
    for km in [float(r) for r in args.radii.split(",") if r.strip()]:
        print(f"radius {km:g} km: {_describe(coords, loc, 0.5, km * 1000)}")
        result, t, c = _scan(coords, loc, day, km, args.radii_replications, args.workers)
        print(f"  {args.radii_replications} replications: {t:.1f} s wall, {c:.1f} CPU s; "
              f"{_found(result, planted)}", flush=True)  # fmt: skip
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
