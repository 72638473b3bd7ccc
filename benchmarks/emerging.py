"""Emerging hotspot analysis on 10,000 cells x 52 weeks.

Ours: ``pingan.analytics.emerging.emerging_hotspots`` (Gi* on every bin of the
space-time cube, Mann-Kendall per cell, classification), with and without a
one-week temporal window. There is no Python package for the whole analysis, so
the peer in the same run is the way one would assemble it from PySAL and SciPy:
``esda.G_Local(star=True, permutations=0)`` once per week, then
``scipy.stats.kendalltau`` against time once per cell (the classification
itself is negligible and left out of the peer). The peer's Gi* standardises
within each week rather than over the cube, so only its time is compared.

    .venv/bin/python benchmarks/emerging.py
    .venv/bin/python benchmarks/emerging.py --side 50 --weeks 26
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import warnings
from collections import Counter

import numpy as np
import scipy.stats

from pingan.analytics.emerging import CATEGORY_NAMES, emerging_hotspots
from pingan.analytics.weights import distance_band


def lattice_cube(side: int, weeks: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Weekly counts per cell: a Poisson background with growing, fading and steady patches."""
    rng = np.random.default_rng(seed)
    gx, gy = np.meshgrid(np.arange(side), np.arange(side))
    pts = np.column_stack([gx.ravel(), gy.ravel()]).astype(float)
    t = np.arange(weeks) / max(weeks - 1, 1)
    rate = np.full((pts.shape[0], weeks), 1.5)
    for kind, (cx, cy, r) in zip(
        ["grow", "fade", "steady", "new"] * 5,
        rng.uniform([0, 0, 2], [side, side, 6], (20, 3)),
        strict=True,
    ):
        patch = np.hypot(pts[:, 0] - cx, pts[:, 1] - cy) < r
        shape = {
            "grow": 1 + 3 * t,
            "fade": 4 - 3 * t,
            "steady": np.full(weeks, 3.0),
            "new": np.where(t > 0.9, 4.0, 1.0),
        }[kind]
        rate[patch] *= shape
    return pts, rng.poisson(rate).astype(float)


def median_time(fn: object, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=100)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    pts, cube = lattice_cube(args.side, args.weeks, seed=1)
    w = distance_band(pts, 1.5)  # queen neighbours on the lattice
    n = pts.shape[0]
    print(f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs")
    print(f"{n:,} cells x {args.weeks} weeks, queen neighbours, Gi* per bin + Mann-Kendall")

    result = emerging_hotspots(cube, w)
    ours_s = median_time(lambda: emerging_hotspots(cube, w), args.repeats)
    window_s = median_time(lambda: emerging_hotspots(cube, w, time_window=1), args.repeats)

    warnings.simplefilter("ignore")
    import esda
    import libpysal

    peer_w = libpysal.weights.DistanceBand(pts, threshold=1.5, silence_warnings=True)
    steps = np.arange(args.weeks)

    def peer() -> None:
        z = np.column_stack(
            [
                esda.G_Local(cube[:, k], peer_w, transform="B", star=True, permutations=0).Zs
                for k in range(args.weeks)
            ]
        )
        for row in z:
            scipy.stats.kendalltau(steps, row)

    peer_s = median_time(peer, 1)

    print()
    print(f"{'':<52}{'seconds':>10}")
    print(f"{f'pingan emerging_hotspots (median of {args.repeats})':<52}{ours_s:>10.3f}")
    print(f"{'pingan emerging_hotspots, 1-week temporal window':<52}{window_s:>10.3f}")
    print(f"{'esda G_Local per week + scipy kendalltau per cell':<52}{peer_s:>10.3f}")
    print()
    print(f"peer / pingan: {peer_s / ours_s:.1f} x")
    counts = Counter(result.category_names())
    print(
        "categories: "
        + ", ".join(f"{name} {counts[name]}" for name in CATEGORY_NAMES.values() if counts[name])
    )


if __name__ == "__main__":
    main()
