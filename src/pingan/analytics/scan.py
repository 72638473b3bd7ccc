"""Prospective space-time permutation scan (Kulldorff et al. 2005, as in SaTScan).

Cases are points (location, day). Candidate clusters are cylinders: a circle
made of a centre location and its ``k`` nearest locations, times a window of
the last ``w`` days ending on the analysis day (prospective surveillance).
The circle grows while it holds at most ``max_case_fraction`` of all cases
(and, if given, while its radius is within ``max_radius``).

Expected count of a cylinder from the marginals: ``mu = N_circle * N_window / C``
where ``N_circle`` counts the circle's cases over the whole study period,
``N_window`` counts all cases in the window and ``C`` all cases. The statistic
of a cylinder with ``n > mu`` is
``n ln(n/mu) + (C-n) ln((C-n)/(C-mu))``; the scan statistic is its maximum.

Inference permutes the days among the cases (both marginals stay fixed, so
every ``mu`` is the same in every replicate) and compares the observed maximum
with the replicate maxima: ``p = (1 + #{replicate >= observed}) / (1 + R)``.
Replications run in fixed blocks, each seeded from the run's seed, so the
result is the same for any number of workers, local threads or the worker
processes of a Dask cluster (``scheduler=``, see ``scan_dask``).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from pingan.analytics import _scan_kernels as kernels
from pingan.analytics._arrays import FloatArray, IntArray

if TYPE_CHECKING:
    from distributed import Client

EARTH_RADIUS_KM = 6367.0  # SaTScan's sphere, so distances and radii compare
DEFAULT_REPLICATIONS = 999
# Replicates per random block: fixed so results do not depend on the worker count.
BLOCK_REPLICATIONS = 32
EULER_GAMMA = 0.5772156649015329


@dataclass(frozen=True)
class Circles:
    """For every centre, its nearest locations in order, as far as the size limits allow."""

    neighbours: IntArray  # (n_centres, k_max), -1 past each centre's size
    sizes: IntArray  # locations in each centre's biggest allowed circle
    distances: FloatArray  # (n_centres, k_max) distance from the centre to each neighbour


@dataclass(frozen=True)
class ScanCluster:
    """One reported cluster: a circle and a window with its statistic and significance."""

    centre: int
    radius: float
    locations: IntArray
    window_start_day: int
    window_end_day: int
    observed: int
    expected: float
    llr: float
    p_value: float
    gumbel_p_value: float | None
    recurrence_days: float

    @property
    def relative_risk(self) -> float:
        return self.observed / self.expected if self.expected > 0 else float("inf")


@dataclass(frozen=True)
class ScanResult:
    clusters: list[ScanCluster]  # most likely first, then non-overlapping secondaries
    replicate_maxima: FloatArray
    total_cases: int
    analysis_day: int


def lonlat_to_xyz(
    lon: npt.ArrayLike, lat: npt.ArrayLike, radius: float = EARTH_RADIUS_KM
) -> FloatArray:
    """Points on a sphere; straight-line (chord) distances between them are SaTScan's."""
    lon_r = np.radians(np.asarray(lon, dtype=np.float64))
    lat_r = np.radians(np.asarray(lat, dtype=np.float64))
    return np.column_stack(
        (
            radius * np.cos(lat_r) * np.cos(lon_r),
            radius * np.cos(lat_r) * np.sin(lon_r),
            radius * np.sin(lat_r),
        )
    )


def build_circles(
    coords: FloatArray,
    location_totals: IntArray,
    *,
    max_case_fraction: float,
    max_radius: float | None = None,
) -> Circles:
    """Nearest-location lists cut where a circle would pass the size limits."""
    n_loc = coords.shape[0]
    limit = max_case_fraction * float(location_totals.sum())
    tree = cKDTree(coords)
    k = min(n_loc, 32)
    while True:
        dist, idx = tree.query(coords, k=k)
        dist = np.asarray(dist, dtype=np.float64).reshape(n_loc, k)
        idx = np.asarray(idx, dtype=np.int64).reshape(n_loc, k)
        allowed = np.cumsum(location_totals[idx], axis=1) <= limit
        if max_radius is not None:
            allowed &= dist <= max_radius
        # A circle stops at the first location that breaks a limit.
        sizes = np.where(allowed.all(axis=1), k, np.argmin(allowed, axis=1)).astype(np.int64)
        if k == n_loc or int(sizes.max()) < k:
            break
        k = min(n_loc, 2 * k)
    k_max = max(int(sizes.max()), 1)
    neighbours = idx[:, :k_max].copy()
    neighbours[np.arange(k_max)[None, :] >= sizes[:, None]] = -1
    return Circles(neighbours=neighbours, sizes=sizes, distances=dist[:, :k_max].copy())


def _xlogx_table(total: int) -> FloatArray:
    values = np.arange(total + 1, dtype=np.float64)
    out = np.zeros(total + 1)
    out[1:] = values[1:] * np.log(values[1:])
    return out


def _gumbel_p(observed: float, maxima: FloatArray) -> float:
    # Method-of-moments Gumbel fit to the replicate maxima (as SaTScan offers).
    scale = float(np.std(maxima, ddof=1)) * np.sqrt(6.0) / np.pi
    if scale <= 0:
        return 1.0 if observed <= float(maxima[0]) else 0.0
    loc = float(np.mean(maxima)) - EULER_GAMMA * scale
    return float(-np.expm1(-np.exp(-(observed - loc) / scale)))


def _replicate_block(
    seed_seq: np.random.SeedSequence,
    reps: int,
    case_location: IntArray,
    case_day: IntArray,
    analysis_day: int,
    n_loc: int,
    circles: Circles,
    space_cum: FloatArray,
    window_totals: FloatArray,
    total: int,
    min_cases: int,
    xlogx: FloatArray,
) -> FloatArray:
    rng = np.random.default_rng(seed_seq)
    days = rng.permuted(np.broadcast_to(case_day, (reps, case_day.shape[0])), axis=1)
    return kernels.replicate_maxima(
        case_location,
        np.ascontiguousarray(days),
        analysis_day,
        n_loc,
        circles.neighbours,
        circles.sizes,
        space_cum,
        window_totals,
        float(total),
        min_cases,
        xlogx,
    )


def space_time_permutation_scan(
    coords: npt.ArrayLike,
    case_location: npt.ArrayLike,
    case_day: npt.ArrayLike,
    *,
    analysis_day: int | None = None,
    max_window_days: int = 7,
    max_case_fraction: float = 0.5,
    max_radius: float | None = None,
    min_cases: int = 2,
    replications: int = DEFAULT_REPLICATIONS,
    seed: int | None = 0,
    workers: int = 1,
    gumbel: bool = False,
    max_clusters: int = 10,
    scheduler: str | Client | None = None,
) -> ScanResult:
    """Scan cases (one row each: location index, integer day) for a live space-time cluster.

    ``coords`` are location centroids (projected x/y, or 3-D points from
    ``lonlat_to_xyz``). Cases after ``analysis_day`` (default: the last day)
    are left out. ``max_radius`` is in the units of ``coords``. With ``scheduler``
    (a Dask address such as ``tcp://host:8786``, or a ``distributed.Client``)
    the replication blocks run on that cluster and ``workers`` is not used.
    """
    xyz = np.asarray(coords, dtype=np.float64)
    if xyz.ndim != 2 or not np.all(np.isfinite(xyz)):
        raise ValueError("coords must be a finite 2-D array (locations x dimensions)")
    loc = np.asarray(case_location, dtype=np.int64)
    day = np.asarray(case_day, dtype=np.int64)
    if loc.ndim != 1 or loc.shape != day.shape:
        raise ValueError("case_location and case_day must be 1-D and of equal length")
    n_loc = xyz.shape[0]
    if loc.size and (loc.min() < 0 or loc.max() >= n_loc):
        raise ValueError("case_location holds an index outside coords")
    if max_window_days < 1 or replications < 0 or min_cases < 1 or workers < 1:
        raise ValueError("max_window_days, min_cases and workers must be >= 1, replications >= 0")
    if not 0 < max_case_fraction <= 1:
        raise ValueError("max_case_fraction must be in (0, 1]")
    end = int(day.max()) if analysis_day is None and day.size else int(analysis_day or 0)
    keep = day <= end
    loc, day = np.ascontiguousarray(loc[keep]), np.ascontiguousarray(day[keep])
    total = int(loc.size)
    if total == 0:
        return ScanResult([], np.zeros(0), 0, end)

    location_totals = np.bincount(loc, minlength=n_loc).astype(np.int64)
    circles = build_circles(
        xyz, location_totals, max_case_fraction=max_case_fraction, max_radius=max_radius
    )
    safe = np.where(circles.neighbours >= 0, circles.neighbours, 0)
    space_cum = np.cumsum(np.where(circles.neighbours >= 0, location_totals[safe], 0), axis=1)
    space_cum = space_cum.astype(np.float64)
    offsets = end - day
    in_window = np.bincount(offsets[offsets < max_window_days], minlength=max_window_days)
    window_totals: FloatArray = np.cumsum(in_window[:max_window_days]).astype(np.float64)
    xlogx = _xlogx_table(total)

    counts = kernels.window_counts(loc, day, end, n_loc, max_window_days)
    best_llr, best_k, best_w = kernels.best_per_centre(
        counts,
        circles.neighbours,
        circles.sizes,
        space_cum,
        window_totals,
        float(total),
        min_cases,
        xlogx,
    )
    maxima = _run_replications(
        replications,
        seed,
        workers,
        scheduler,
        loc,
        day,
        end,
        n_loc,
        circles,
        space_cum,
        window_totals,
        total,
        min_cases,
        xlogx,
    )
    clusters = _report(
        best_llr,
        best_k,
        best_w,
        circles,
        counts,
        space_cum,
        window_totals,
        total,
        end,
        maxima,
        gumbel,
        max_clusters,
    )
    return ScanResult(clusters, maxima, total, end)


def _run_replications(
    replications: int,
    seed: int | None,
    workers: int,
    scheduler: str | Client | None,
    loc: IntArray,
    day: IntArray,
    end: int,
    n_loc: int,
    circles: Circles,
    space_cum: FloatArray,
    window_totals: FloatArray,
    total: int,
    min_cases: int,
    xlogx: FloatArray,
) -> FloatArray:
    if replications == 0:
        return np.zeros(0)
    n_blocks = -(-replications // BLOCK_REPLICATIONS)
    seeds = np.random.SeedSequence(seed).spawn(n_blocks)
    sizes = [
        min(BLOCK_REPLICATIONS, replications - b * BLOCK_REPLICATIONS) for b in range(n_blocks)
    ]

    def block(b: int) -> FloatArray:
        return _replicate_block(
            seeds[b],
            sizes[b],
            loc,
            day,
            end,
            n_loc,
            circles,
            space_cum,
            window_totals,
            total,
            min_cases,
            xlogx,
        )

    if scheduler is not None:
        from pingan.analytics.scan_dask import run_blocks

        # Only the arrays go to the cluster, once; each task carries its seed.
        shared = {
            "case_location": loc,
            "case_day": day,
            "analysis_day": end,
            "n_loc": n_loc,
            "circles": circles,
            "space_cum": space_cum,
            "window_totals": window_totals,
            "total": total,
            "min_cases": min_cases,
            "xlogx": xlogx,
        }
        parts = run_blocks(scheduler, _replicate_block, seeds, sizes, shared)
    elif workers == 1:
        parts = [block(b) for b in range(n_blocks)]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(block, range(n_blocks)))
    return np.concatenate(parts)


def _report(
    best_llr: FloatArray,
    best_k: IntArray,
    best_w: IntArray,
    circles: Circles,
    counts: IntArray,
    space_cum: FloatArray,
    window_totals: FloatArray,
    total: int,
    end: int,
    maxima: FloatArray,
    gumbel: bool,
    max_clusters: int,
) -> list[ScanCluster]:
    """Most likely cluster, then the best circles that share no location with any kept one."""
    order = np.argsort(-best_llr, kind="stable")
    used = np.zeros(counts.shape[0], dtype=bool)
    out: list[ScanCluster] = []
    reps = maxima.size
    for centre in order:
        if len(out) >= max_clusters or best_llr[centre] <= 0:
            break
        k, w = int(best_k[centre]), int(best_w[centre])
        members = circles.neighbours[centre, : k + 1]
        if used[members].any():
            continue
        used[members] = True
        llr = float(best_llr[centre])
        # Same float path as the kernels, so an exact tie counts as ">=".
        p = (1 + int(np.count_nonzero(maxima >= llr))) / (1 + reps) if reps else 1.0
        gp = _gumbel_p(llr, maxima) if gumbel and reps > 1 else None
        ri_p = gp if gp is not None else p
        out.append(
            ScanCluster(
                centre=int(centre),
                radius=float(circles.distances[centre, k]),
                locations=np.sort(members),
                window_start_day=end - w,
                window_end_day=end,
                observed=int(counts[members, w].sum()),
                expected=float(space_cum[centre, k] * window_totals[w] / total),
                llr=llr,
                p_value=p,
                gumbel_p_value=gp,
                # Daily prospective analysis: a signal this strong once in 1/p days by chance.
                recurrence_days=1.0 / ri_p if ri_p > 0 else float("inf"),
            )
        )
    return out
