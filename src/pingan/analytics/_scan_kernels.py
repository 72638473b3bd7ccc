"""Compiled inner loops of the space-time permutation scan (see ``scan.py``).

One loop (``_scan_cylinders``) walks every candidate cylinder, for the data
(keeping each centre's best, for the report) and for each replicate (keeping
only the maximum): centre ``i``, its ``k`` nearest locations, and a window of
the last ``w + 1`` days. Counts ``a[l, w]`` are the cases at location ``l`` in
the last ``w + 1`` days (cumulative over days), so a cylinder's count is a
running sum over ``k``.

Why the loop is cheap: the log-likelihood ratio of a high-rate cylinder rises
with its count and falls as its expectation rises. So (1) a location with no
case in the windows is added without evaluating anything; (2) a run of
circles is checked at once with its largest count and its smallest
expectation, and skipped whole when even that pair cannot beat the best so
far; (3) a single cylinder is dropped by upper bounds that need no logarithm.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from pingan.analytics._arrays import FloatArray, IntArray

# Circles per bound check: at least CHUNK, or 1/CHUNK_SHARE of the circle's size
# (big circles change little from one location to the next). Tuned on the
# city-scale benchmark (16/32 vs 8/8: 0.19 vs 0.25 CPU s per replication).
CHUNK = 16
CHUNK_SHARE = 32


def _llr(n: float, mu: float, total: float, xlogx_n: float, xlogx_rest: float) -> float:
    # n ln(n/mu) + (C-n) ln((C-n)/(C-mu)), with n ln n and (C-n) ln(C-n) precomputed.
    rest = total - n
    out = xlogx_n - n * math.log(mu)
    if rest > 0:
        out += xlogx_rest - rest * math.log(total - mu)
    return out


def _window_counts(
    case_location: IntArray, case_day: IntArray, analysis_day: int, n_loc: int, n_win: int
) -> IntArray:
    counts = np.zeros((n_loc, n_win), dtype=np.int64)
    for j in range(case_location.shape[0]):
        offset = analysis_day - case_day[j]
        if 0 <= offset < n_win:
            counts[case_location[j], offset] += 1
    for loc in range(n_loc):
        for w in range(1, n_win):
            counts[loc, w] += counts[loc, w - 1]
    return counts


def _scan_cylinders(
    counts: IntArray,
    neighbours: IntArray,
    sizes: IntArray,
    space_cum: FloatArray,
    log_space_cum: FloatArray,
    window_totals: FloatArray,
    log_window_totals: FloatArray,
    total: float,
    min_cases: int,
    xlogx: FloatArray,
    per_centre: bool,
    best_llr: FloatArray,
    best_k: IntArray,
    best_w: IntArray,
) -> float:
    """The highest ratio over all cylinders; with ``per_centre``, also each centre's best.

    A cylinder is only evaluated if it can beat the bar: the best so far over
    all centres, or (``per_centre``) the centre's own best, whose first
    cylinder in (k, w) order wins ties.
    """
    n_loc, n_win = counts.shape
    # First window (shortest first) in which each location has a case; n_win if none.
    first = np.full(n_loc, n_win, dtype=np.int64)
    for loc in range(n_loc):
        for w in range(n_win):
            if counts[loc, w] > 0:
                first[loc] = w
                break
    log_total = math.log(total)
    run = np.zeros(n_win, dtype=np.int64)
    chunk_end = np.zeros(n_win, dtype=np.int64)
    live = np.zeros(n_win, dtype=np.bool_)
    best = 0.0
    for i in range(neighbours.shape[0]):
        run[:] = 0
        top = 0.0
        top_k = -1
        top_w = -1
        size = sizes[i]
        a = 0
        while a < size:
            # Circles a..b-1 as a chunk: no cylinder in it has more cases than the
            # chunk's last circle nor a smaller expectation than its first, so if that
            # pair cannot beat the bar, neither can any of them (no ratio evaluated).
            b = min(size, a + max(CHUNK, a // CHUNK_SHARE))
            bar = top if per_centre else best
            chunk_end[:] = run
            for k in range(a, b):
                loc = neighbours[i, k]
                if first[loc] < n_win:
                    for w in range(n_win):
                        chunk_end[w] += counts[loc, w]
            any_live = False
            base = log_space_cum[i, a] - log_total
            for w in range(n_win):
                live[w] = False
                n = chunk_end[w]
                if n < min_cases:
                    continue
                mu = space_cum[i, a] * window_totals[w] / total
                if n <= mu:
                    continue
                head = xlogx[n] - n * (base + log_window_totals[w])
                if head - (n - mu) * (total - n) / (total - mu) <= bar:
                    continue
                live[w] = True
                any_live = True
            if not any_live:
                run[:] = chunk_end
                a = b
                continue
            for k in range(a, b):
                loc = neighbours[i, k]
                start = first[loc]
                if start == n_win:
                    continue
                base = log_space_cum[i, k] - log_total
                for w in range(start, n_win):
                    n = run[w] + counts[loc, w]
                    run[w] = n
                    if not live[w] or n < min_cases:
                        continue
                    bar = top if per_centre else best
                    # n ln(n/mu) bounds the ratio from above (the other term is <= 0):
                    # most cylinders are dropped here without a logarithm.
                    head = xlogx[n] - n * (base + log_window_totals[w])
                    if head <= bar:
                        continue
                    mu = space_cum[i, k] * window_totals[w] / total
                    if n <= mu:
                        continue
                    # ln x <= x - 1 bounds the second term by -(n-mu)(C-n)/(C-mu): tight, no log.
                    if head - (n - mu) * (total - n) / (total - mu) <= bar:
                        continue
                    value = _llr_jit(n, mu, total, xlogx[n], xlogx[int(total) - n])
                    if value > bar:
                        if per_centre:
                            top = value
                            top_k = k
                            top_w = w
                        best = max(best, value)
            a = b
        if per_centre:
            best_llr[i] = top
            best_k[i] = top_k
            best_w[i] = top_w
    return best


def _replicate_maxima(
    case_location: IntArray,
    permuted_days: IntArray,
    analysis_day: int,
    n_loc: int,
    neighbours: IntArray,
    sizes: IntArray,
    space_cum: FloatArray,
    window_totals: FloatArray,
    total: float,
    min_cases: int,
    xlogx: FloatArray,
    out: FloatArray,
) -> None:
    n_win = window_totals.shape[0]
    log_space_cum = np.log(np.maximum(space_cum, 1e-300))
    log_window_totals = np.log(np.maximum(window_totals, 1e-300))
    unused_f = np.zeros(0)
    unused_i = np.zeros(0, dtype=np.int64)
    for r in range(permuted_days.shape[0]):
        counts = _window_counts_jit(case_location, permuted_days[r], analysis_day, n_loc, n_win)
        out[r] = _scan_cylinders_jit(
            counts,
            neighbours,
            sizes,
            space_cum,
            log_space_cum,
            window_totals,
            log_window_totals,
            total,
            min_cases,
            xlogx,
            False,
            unused_f,
            unused_i,
            unused_i,
        )


# nogil: replication blocks run on threads in parallel; cache: compile once per machine.
_llr_jit = numba.njit(cache=True, nogil=True)(_llr)
_window_counts_jit = numba.njit(cache=True, nogil=True)(_window_counts)
_scan_cylinders_jit = numba.njit(cache=True, nogil=True)(_scan_cylinders)
_replicate_maxima_jit = numba.njit(cache=True, nogil=True)(_replicate_maxima)


def window_counts(
    case_location: IntArray, case_day: IntArray, analysis_day: int, n_loc: int, n_win: int
) -> IntArray:
    """Cases per location in the last ``w + 1`` days, for ``w`` in ``0..n_win-1``."""
    out: IntArray = _window_counts_jit(case_location, case_day, analysis_day, n_loc, n_win)
    return out


def best_per_centre(
    counts: IntArray,
    neighbours: IntArray,
    sizes: IntArray,
    space_cum: FloatArray,
    window_totals: FloatArray,
    total: float,
    min_cases: int,
    xlogx: FloatArray,
) -> tuple[FloatArray, IntArray, IntArray]:
    """Per centre: the highest ratio over its circles and windows, and its (k, w)."""
    n_centres = neighbours.shape[0]
    best_llr = np.zeros(n_centres)
    best_k = np.full(n_centres, -1, dtype=np.int64)
    best_w = np.full(n_centres, -1, dtype=np.int64)
    _scan_cylinders_jit(
        counts,
        neighbours,
        sizes,
        space_cum,
        np.log(np.maximum(space_cum, 1e-300)),
        window_totals,
        np.log(np.maximum(window_totals, 1e-300)),
        total,
        min_cases,
        xlogx,
        True,
        best_llr,
        best_k,
        best_w,
    )
    return best_llr, best_k, best_w


def replicate_maxima(
    case_location: IntArray,
    permuted_days: IntArray,
    analysis_day: int,
    n_loc: int,
    neighbours: IntArray,
    sizes: IntArray,
    space_cum: FloatArray,
    window_totals: FloatArray,
    total: float,
    min_cases: int,
    xlogx: FloatArray,
) -> FloatArray:
    """The maximum ratio over all cylinders for each row of permuted case days."""
    out = np.zeros(permuted_days.shape[0])
    _replicate_maxima_jit(
        case_location,
        permuted_days,
        analysis_day,
        n_loc,
        neighbours,
        sizes,
        space_cum,
        window_totals,
        total,
        min_cases,
        xlogx,
        out,
    )
    return out
