"""The SaTScan NYC fever sample through ``space_time_permutation_scan``; prints the cluster table.

Settings of the sample's prospective analysis (see the data README): analysis
day 2001-11-24, windows up to 7 days, circles up to 3 km and 50 % of cases,
at least 2 cases, 999 replications; SaTScan's sphere of radius 6367 km.

    .venv/bin/python benchmarks/nycfever.py [--data ../shared/data/nycfever]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import time
from pathlib import Path

import numpy as np

from pingan.analytics.scan import ScanResult, lonlat_to_xyz, space_time_permutation_scan

START = dt.date(2001, 11, 1)


def load(folder: Path) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    with open(folder / "nycfever_coordinates.csv", newline="") as fh:
        geo = list(csv.DictReader(fh))
    zips = [g["zip"] for g in geo]
    index = {z: i for i, z in enumerate(zips)}
    xyz = lonlat_to_xyz([float(g["long"]) for g in geo], [float(g["lat"]) for g in geo])
    with open(folder / "nycfever_cases.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    counts = [int(r["cases"]) for r in rows]
    loc = np.repeat([index[r["zip"]] for r in rows], counts)
    day = np.repeat([(dt.date.fromisoformat(r["date"]) - START).days for r in rows], counts)
    return zips, xyz, loc, day


def scan(folder: Path, seed: int = 1) -> tuple[list[str], ScanResult]:
    zips, xyz, loc, day = load(folder)
    result = space_time_permutation_scan(
        xyz, loc, day, analysis_day=23, max_window_days=7, max_case_fraction=0.5,
        max_radius=3.0, min_cases=2, replications=999, seed=seed, gumbel=True,
    )  # fmt: skip
    return zips, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    default = Path(__file__).resolve().parents[2] / "shared" / "data" / "nycfever"
    parser.add_argument("--data", type=Path, default=default)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    start = time.perf_counter()
    zips, result = scan(args.data, args.seed)
    print(f"{result.total_cases} cases, {time.perf_counter() - start:.2f} s")
    print(
        "| # | centre ZIP | radius km | ZIPs | window | obs | exp | obs/exp | LLR | p "
        "| Gumbel p | RI days |"
    )
    print("|---|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for n, c in enumerate(result.clusters, 1):
        window = (
            f"{START + dt.timedelta(c.window_start_day)}..{START + dt.timedelta(c.window_end_day)}"
        )
        print(
            f"| {n} | {zips[c.centre]} | {c.radius:.2f} | {' '.join(zips[i] for i in c.locations)} "
            f"| {window} | {c.observed} | {c.expected:.3f} | {c.relative_risk:.2f} | {c.llr:.4f} "
            f"| {c.p_value:.3f} | {c.gumbel_p_value:.3f} | {c.recurrence_days:.1f} |"
        )


if __name__ == "__main__":
    main()
