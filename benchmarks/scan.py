"""Prospective space-time permutation scan: 1,000 locations, 60 days, 5,000 cases.

Circles up to 10 % of cases, windows of 1..14 days ending on the last day,
999 replications. Ours: ``pingan.analytics.scan.space_time_permutation_scan``
(compiled cylinder loop with an upper-bound cut, replication blocks on threads).
The peer in the same run is a plain vectorised numpy scan: per replication,
counts by ``bincount``, cylinder counts by gathering the nearest-location lists
and ``cumsum``, the ratio on every cylinder, then the maximum. The peer runs
``--peer-replications`` replications and its time is scaled to the full count
(stated in the output); both compute the same observed statistic.

    .venv/bin/python benchmarks/scan.py
    .venv/bin/python benchmarks/scan.py --workers 1 --peer-replications 99
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from pingan.analytics.scan import build_circles, space_time_permutation_scan


def make_cases(n_loc: int, days: int, cases: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    coords = rng.uniform(0, 20_000, size=(n_loc, 2))
    weight = rng.gamma(2.0, 1.0, size=n_loc)  # uneven populations, as in a city
    loc = rng.choice(n_loc, size=cases, p=weight / weight.sum())
    day = rng.integers(0, days, size=cases)
    return coords, loc, day


def numpy_scan(coords, loc, day, n_win, fraction, reps, seed) -> tuple[float, np.ndarray]:
    """Plain vectorised numpy: every cylinder's ratio for the data and each replicate."""
    n_loc, end, total = coords.shape[0], int(day.max()), loc.size
    totals = np.bincount(loc, minlength=n_loc)
    circles = build_circles(coords, totals, max_case_fraction=fraction)
    nb = np.where(circles.neighbours >= 0, circles.neighbours, 0)
    valid = (circles.neighbours >= 0)[:, :, None]
    space = np.cumsum(np.where(circles.neighbours >= 0, totals[nb], 0), axis=1)
    offsets = end - day
    wtot = np.cumsum(np.bincount(offsets[offsets < n_win], minlength=n_win)[:n_win])
    mu = space[:, :, None] * wtot[None, None, :] / total

    def max_ratio(days: np.ndarray) -> float:
        off = end - days
        inside = off < n_win
        counts = np.zeros((n_loc, n_win))
        np.add.at(counts, (loc[inside], off[inside]), 1)
        counts = np.cumsum(counts, axis=1)
        n = np.cumsum(counts[nb] * valid, axis=1)
        ok = (n > mu) & (n >= 2)
        n_ok, mu_ok = n[ok], mu[ok]
        llr = n_ok * np.log(n_ok / mu_ok) + (total - n_ok) * np.log(
            (total - n_ok) / (total - mu_ok)
        )
        return float(llr.max()) if llr.size else 0.0

    rng = np.random.default_rng(seed)
    observed = max_ratio(day)
    maxima = np.array([max_ratio(rng.permutation(day)) for _ in range(reps)])
    return observed, maxima


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--locations", type=int, default=1000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--windows", type=int, default=14)
    parser.add_argument("--fraction", type=float, default=0.10)
    parser.add_argument("--replications", type=int, default=999)
    parser.add_argument("--peer-replications", type=int, default=999)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    coords, loc, day = make_cases(args.locations, args.days, args.cases, seed=1)
    opts = {
        "max_window_days": args.windows,
        "max_case_fraction": args.fraction,
        "replications": args.replications,
        "seed": 1,
        "workers": args.workers,
    }
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs visible")
    start = time.perf_counter()
    space_time_permutation_scan(coords, loc, day, **{**opts, "replications": 1})
    print(
        "first call (JIT compile or cache load + 1 replication): "
        f"{time.perf_counter() - start:.2f} s"
    )
    times, cpu = [], []
    for _ in range(args.repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        ours = space_time_permutation_scan(coords, loc, day, **opts)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    ours_s = min(times)
    # CPU seconds of the whole process (all threads): robust to other load on the machine.
    median_cpu = sorted(cpu)[len(cpu) // 2]
    print(f"pingan CPU seconds (all threads): best {min(cpu):.2f}, median {median_cpu:.2f}")
    print(
        f"pingan scan, {args.workers} workers, {args.replications} reps: best of "
        f"{args.repeats} = {ours_s:.2f} s (all: {', '.join(f'{t:.2f}' for t in times)})"
    )
    if args.peer_replications == 0:
        return
    start = time.perf_counter()
    observed, _ = numpy_scan(
        coords, loc, day, args.windows, args.fraction, args.peer_replications, seed=1
    )
    peer_s = time.perf_counter() - start
    scaled = peer_s * (1 + args.replications) / (1 + args.peer_replications)
    print(
        f"numpy peer, {args.peer_replications} reps: {peer_s:.2f} s; "
        f"scaled to {args.replications} reps: {scaled:.1f} s"
    )
    print(f"observed statistic: pingan {ours.clusters[0].llr:.10f}, numpy {observed:.10f}")
    print(f"peer / pingan: {scaled / ours_s:.1f} x")


if __name__ == "__main__":
    main()
