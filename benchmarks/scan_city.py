"""City-scale prospective space-time scan: 10,000 grids, 90 days, 100,000 cases, 999 reps.

Grid centroids on a 100 x 100 lattice of 300 m cells (a 30 km city), case
weights uneven (gamma), days uniform; windows of 1..14 days ending on the
last day. Maximum spatial size: ``--fraction`` of all cases (default 10 %,
about 1,000 grids or 3 km across, the issue's setting for the small scan;
SaTScan's default of 50 % would let one "cluster" cover half the city).

In the same run, the same scan three ways, all with the same seed and so
the same replicate maxima (checked, and printed):

- local threads (``workers=--workers``), the goal's setting (2 cores);
- a Dask ``LocalCluster`` of ``--dask-workers`` worker processes, one thread
  each (``scheduler=``), timed after the cluster is up and warm;
- optionally (``--peer``) one thread, the baseline for the speed-ups.

    .venv/bin/python benchmarks/scan_city.py
    .venv/bin/python benchmarks/scan_city.py --fraction 0.01 --peer
    .venv/bin/python benchmarks/scan_city.py --replications 99   # a quick look
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from pingan.analytics.scan import ScanResult, build_circles, space_time_permutation_scan


def make_city(grids: int, days: int, cases: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    side = round(float(np.sqrt(grids)))
    xs, ys = np.meshgrid(np.arange(side) * 300.0 + 150.0, np.arange(side) * 300.0 + 150.0)
    coords = np.column_stack((xs.ravel(), ys.ravel()))[:grids]
    weight = rng.gamma(2.0, 1.0, size=coords.shape[0])
    loc = rng.choice(coords.shape[0], size=cases, p=weight / weight.sum())
    day = rng.integers(0, days, size=cases)
    return coords, loc, day


def _timed(label: str, run: object) -> tuple[ScanResult, float, float]:
    start, start_cpu = time.perf_counter(), time.process_time()
    result = run()  # type: ignore[operator]
    wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    print(f"{label}: {wall:.1f} s wall, {cpu:.1f} CPU s in this process", flush=True)
    return result, wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--grids", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--windows", type=int, default=14)
    parser.add_argument("--fraction", type=float, default=0.10)
    parser.add_argument("--replications", type=int, default=999)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dask-workers", type=int, default=2)
    parser.add_argument("--peer", action="store_true", help="also run on one thread")
    args = parser.parse_args()
    coords, loc, day = make_city(args.grids, args.days, args.cases, seed=1)
    circles = build_circles(
        coords, np.bincount(loc, minlength=coords.shape[0]), max_case_fraction=args.fraction
    )
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs visible")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"{args.grids} grids, {args.days} days, {args.cases} cases, windows 1..{args.windows}, "
        f"circles up to {args.fraction:.0%} of cases: {circles.sizes.mean():.0f} grids on "
        f"average ({circles.sizes.max()} at most), radius up to "
        f"{circles.distances.max() / 1000:.1f} km; {args.replications} replications"
    )
    opts = {
        "max_window_days": args.windows,
        "max_case_fraction": args.fraction,
        "replications": args.replications,
        "seed": 1,
    }
    start = time.perf_counter()
    space_time_permutation_scan(coords, loc, day, **{**opts, "replications": 1})  # type: ignore[arg-type]
    first_s = time.perf_counter() - start
    print(f"first call (compile or cache load + 1 replication): {first_s:.1f} s")

    runs: dict[str, tuple[ScanResult, float, float]] = {}
    runs["threads"] = _timed(
        f"local, {args.workers} threads",
        lambda: space_time_permutation_scan(coords, loc, day, workers=args.workers, **opts),  # type: ignore[arg-type]
    )
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=args.dask_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
        ) as cluster,
        Client(cluster) as client,
    ):
        start = time.perf_counter()
        # Each worker process loads the cached kernels on its first block.
        space_time_permutation_scan(
            coords,
            loc,
            day,
            scheduler=client,
            **{**opts, "replications": 32 * args.dask_workers},  # type: ignore[arg-type]
        )
        warm_s = time.perf_counter() - start
        print(f"dask warm-up (import + kernel cache load per worker): {warm_s:.1f} s")
        # The blocks run in the worker processes: count their CPU seconds too.
        before = client.run(time.process_time)
        runs["dask"] = _timed(
            f"dask LocalCluster, {args.dask_workers} worker processes",
            lambda: space_time_permutation_scan(coords, loc, day, scheduler=client, **opts),  # type: ignore[arg-type]
        )
        after = client.run(time.process_time)
        worker_cpu = sum(after[w] - before[w] for w in after)
        print(f"dask worker processes: {worker_cpu:.1f} CPU s together")
    if args.peer:
        runs["one"] = _timed(
            "local, 1 thread",
            lambda: space_time_permutation_scan(coords, loc, day, workers=1, **opts),  # type: ignore[arg-type]
        )
    base = runs["threads"][0]
    for name, (result, _, _) in runs.items():
        same = np.array_equal(result.replicate_maxima, base.replicate_maxima) and [
            (c.centre, c.llr, c.p_value) for c in result.clusters
        ] == [(c.centre, c.llr, c.p_value) for c in base.clusters]
        print(f"{name}: same statistic, replicates and p-values as local threads: {same}")
    top = base.clusters[0]
    print(f"top cluster: {top.locations.size} grids, llr {top.llr:.6f}, p {top.p_value:.3f}")
    threads_s, dask_s = runs["threads"][1], runs["dask"][1]
    print(f"threads / dask wall: {threads_s / dask_s:.2f} x (> 1: dask faster)")
    if "one" in runs:
        one_s = runs["one"][1]
        print(
            f"speed-up over 1 thread: threads {one_s / threads_s:.2f} x, "
            f"dask {one_s / dask_s:.2f} x"
        )
    goal = 300.0
    print(f"goal <= {goal:.0f} s on 2 cores: local threads {threads_s:.0f} s")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
