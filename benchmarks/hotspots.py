"""Gi* with 999 conditional permutations on 100,000 cells, k = 8 nearest neighbours.

Ours: ``pingan.analytics.hotspots.local_g`` (shared draws, step-function
counting, no JIT). Peer in the same run: ``esda.G_Local(star=True,
permutations=999)`` with its numba engine (default ``n_jobs=-1``, default
``keep_simulations=True``), first call (JIT compile + run) timed apart from
the warm calls. Each side runs in its own process so its peak resident memory
(Linux ``VmHWM`` after resetting it, less the RSS before the run) is its own. Both get the
same cells (jittered lattice centres), the same incident counts and the same
k-nearest-neighbour weights; the run prints how far apart the z-scores are and
how the pseudo p-values correlate.

    .venv/bin/python benchmarks/hotspots.py
    .venv/bin/python benchmarks/hotspots.py --cells 20000 --esda-repeats 1
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np


def cells_and_counts(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Jittered lattice cell centres (no distance ties) and Poisson counts with hot patches."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n)))
    gx, gy = np.meshgrid(np.arange(side), np.arange(side))
    pts = np.column_stack([gx.ravel(), gy.ravel()])[:n].astype(float)
    pts += rng.uniform(-0.3, 0.3, pts.shape)
    rate = np.full(n, 2.0)
    for cx, cy, r in rng.uniform([0, 0, 3], [side, side, 15], (30, 3)):
        rate[np.hypot(pts[:, 0] - cx, pts[:, 1] - cy) < r] *= 2.5
    return pts, rng.poisson(rate).astype(float)


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # reported in kB
    raise RuntimeError(f"no {field} in /proc/self/status")


def start_memory_window() -> float:
    """Reset the peak-RSS mark (Linux ``clear_refs`` 5) and return the RSS now, in MB."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:  # not Linux, or not allowed: fall back to the lifetime peak
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return _status_mb("VmRSS")


def memory_used_mb(rss_before: float) -> float:
    """Peak RSS since ``start_memory_window`` above the RSS at its start."""
    try:
        peak = _status_mb("VmHWM")
    except (OSError, RuntimeError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return max(0.0, peak - rss_before)


def run_ours(n: int, repeats: int, out: Path) -> dict[str, float]:
    from pingan.analytics.hotspots import local_g
    from pingan.analytics.weights import knn

    pts, counts = cells_and_counts(n, seed=1)
    start = time.perf_counter()
    w = knn(pts, 8)
    weights_s = time.perf_counter() - start
    before = start_memory_window()
    start = time.perf_counter()
    # esda's fold of the tails, for a like-for-like comparison of p-values below.
    result = local_g(counts, w, permutations=999, seed=1, alternative="directed-pysal")
    first = time.perf_counter() - start
    memory = memory_used_mb(before)
    times, warm_memory = [], 0.0
    for seed in range(2, repeats + 2):
        before = start_memory_window()
        start = time.perf_counter()
        local_g(counts, w, star=True, permutations=999, seed=seed)
        times.append(time.perf_counter() - start)
        warm_memory = max(warm_memory, memory_used_mb(before))
    rates = counts + np.random.default_rng(3).uniform(0, 1, n)  # non-integer values
    float_times = []
    for seed in range(2, repeats + 2):
        start = time.perf_counter()
        local_g(rates, w, star=True, permutations=999, seed=seed)
        float_times.append(time.perf_counter() - start)
    assert result.p_sim is not None
    np.save(out / "ours_z.npy", result.z)
    np.save(out / "ours_p.npy", result.p_sim)
    return {
        "weights_s": weights_s,
        "first_s": first,
        "median_s": statistics.median(times),
        "float_median_s": statistics.median(float_times),
        "peak_mb": memory,
        "warm_peak_mb": warm_memory,
    }


def run_esda(n: int, repeats: int, out: Path) -> dict[str, float]:
    warnings.simplefilter("ignore")
    import esda
    import libpysal

    pts, counts = cells_and_counts(n, seed=1)
    w = libpysal.weights.KNN(pts, k=8)
    before = start_memory_window()
    start = time.perf_counter()
    result = esda.G_Local(counts, w, transform="B", star=True, permutations=999, seed=1)
    first = time.perf_counter() - start
    memory = memory_used_mb(before)
    times, warm_memory = [], 0.0
    for seed in range(2, repeats + 2):
        before = start_memory_window()
        start = time.perf_counter()
        esda.G_Local(counts, w, transform="B", star=True, permutations=999, seed=seed)
        times.append(time.perf_counter() - start)
        warm_memory = max(warm_memory, memory_used_mb(before))
    np.save(out / "esda_z.npy", result.Zs)
    np.save(out / "esda_p.npy", result.p_sim)
    return {
        "first_s": first,
        "median_s": statistics.median(times) if times else first,
        "peak_mb": memory,
        "warm_peak_mb": warm_memory,
    }


def child(role: str, n: int, repeats: int, out: Path) -> None:
    stats = run_ours(n, repeats, out) if role == "ours" else run_esda(n, repeats, out)
    print(json.dumps(stats))


def spawn(role: str, n: int, repeats: int, out: Path) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--role", role, "--cells", str(n), "--out", str(out)]
    cmd += ["--repeats", str(repeats)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    stats: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--esda-repeats", type=int, default=2)
    parser.add_argument("--role", choices=["ours", "esda"])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.role:
        child(args.role, args.cells, args.repeats, args.out)
        return

    import esda
    import numba

    print(
        f"python {platform.python_version()}, numpy {np.__version__}, esda {esda.__version__}, "
        f"numba {numba.__version__}, {os.cpu_count()} CPUs"
    )
    print(f"{args.cells:,} cells, k = 8 nearest neighbours, Gi* (binary), 999 permutations")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        ours = spawn("ours", args.cells, args.repeats, out)
        peer = spawn("esda", args.cells, args.esda_repeats, out)
        z_diff = np.abs(np.load(out / "ours_z.npy") - np.load(out / "esda_z.npy")).max()
        p_ours, p_esda = np.load(out / "ours_p.npy"), np.load(out / "esda_p.npy")
    corr = np.corrcoef(np.log(p_ours), np.log(p_esda))[0, 1]
    agree = np.mean((p_ours < 0.05) == (p_esda < 0.05))

    print()
    head = f"{'':<40}{'first s':>9}{'warm s':>9}{'first MB':>10}{'warm MB':>9}"
    print(head)
    print(
        f"{'pingan local_g (counts)':<40}{ours['first_s']:>9.3f}{ours['median_s']:>9.3f}"
        f"{ours['peak_mb']:>10.0f}{ours['warm_peak_mb']:>9.0f}"
    )
    print(f"{'pingan local_g (non-integer values)':<40}{'':>9}{ours['float_median_s']:>9.3f}")
    print(
        f"{'esda G_Local, numba':<40}{peer['first_s']:>9.3f}{peer['median_s']:>9.3f}"
        f"{peer['peak_mb']:>10.0f}{peer['warm_peak_mb']:>9.0f}"
    )
    print()
    print(
        f"esda / pingan, warm: {peer['median_s'] / ours['median_s']:.1f} x; first call: "
        f"{peer['first_s'] / ours['first_s']:.1f} x; warm memory: "
        f"{peer['warm_peak_mb'] / max(ours['warm_peak_mb'], 1):.1f} x"
    )
    print(f"k-nearest weights (pingan, not timed above): {ours['weights_s']:.3f} s")
    print(
        f"analytical z: max |pingan - esda| = {z_diff:.2e}; pseudo p: log correlation "
        f"{corr:.4f}, same decision at 5 % for {agree:.1%} of cells"
    )


if __name__ == "__main__":
    main()
