"""Compiled inner loops of the space-time permutation scan (see ``scan.py``).

Both loops walk every candidate cylinder: centre ``i``, its ``k`` nearest
locations, and a window of the last ``w + 1`` days. Counts ``a[l, w]`` are the
cases at location ``l`` in the last ``w + 1`` days (cumulative over days), so a
cylinder's count is a running sum over ``k``.

Why these loops are cheap: for a fixed window, adding a location with no cases
in it only raises the expected count, and the log-likelihood ratio of a
high-rate cylinder falls as its expectation rises, so such a cylinder can never
be the best and is skipped without evaluating anything.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from pingan.analytics._arrays import FloatArray, IntArray


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


def _best_per_centre(
    counts: IntArray,
    neighbours: IntArray,
    sizes: IntArray,
    space_cum: FloatArray,
    window_totals: FloatArray,
    total: float,
    min_cases: int,
    xlogx: FloatArray,
    best_llr: FloatArray,
    best_k: IntArray,
    best_w: IntArray,
) -> None:
    n_win = window_totals.shape[0]
    run = np.zeros(n_win, dtype=np.int64)
    for i in range(neighbours.shape[0]):
        run[:] = 0
        top = 0.0
        top_k = -1
        top_w = -1
        for k in range(sizes[i]):
            loc = neighbours[i, k]
            for w in range(n_win):
                add = counts[loc, w]
                if add == 0:
                    continue
                run[w] += add
                n = run[w]
                if n < min_cases:
                    continue
                mu = space_cum[i, k] * window_totals[w] / total
                if n <= mu:
                    continue
                value = _llr_jit(n, mu, total, xlogx[n], xlogx[int(total) - n])
                if value > top:
                    top = value
                    top_k = k
                    top_w = w
        best_llr[i] = top
        best_k[i] = top_k
        best_w[i] = top_w


def _max_over_cylinders(
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
) -> float:
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
    best = 0.0
    for i in range(neighbours.shape[0]):
        run[:] = 0
        for k in range(sizes[i]):
            loc = neighbours[i, k]
            start = first[loc]
            if start == n_win:
                continue
            base = log_space_cum[i, k] - log_total
            for w in range(start, n_win):
                n = run[w] + counts[loc, w]
                run[w] = n
                if n < min_cases:
                    continue
                # n ln(n/mu) bounds the ratio from above (the other term is <= 0):
                # most cylinders are dropped here without a logarithm.
                head = xlogx[n] - n * (base + log_window_totals[w])
                if head <= best:
                    continue
                mu = space_cum[i, k] * window_totals[w] / total
                if n <= mu:
                    continue
                # ln x <= x - 1 bounds the second term by -(n-mu)(C-n)/(C-mu): tight, no log.
                if head - (n - mu) * (total - n) / (total - mu) <= best:
                    continue
                value = _llr_jit(n, mu, total, xlogx[n], xlogx[int(total) - n])
                if value > best:
                    best = value
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
    for r in range(permuted_days.shape[0]):
        counts = _window_counts_jit(case_location, permuted_days[r], analysis_day, n_loc, n_win)
        out[r] = _max_over_cylinders_jit(
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
        )


# nogil: replication blocks run on threads in parallel; cache: compile once per machine.
_llr_jit = numba.njit(cache=True, nogil=True)(_llr)
_window_counts_jit = numba.njit(cache=True, nogil=True)(_window_counts)
_max_over_cylinders_jit = numba.njit(cache=True, nogil=True)(_max_over_cylinders)
_best_per_centre_jit = numba.njit(cache=True, nogil=True)(_best_per_centre)
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
    _best_per_centre_jit(
        counts,
        neighbours,
        sizes,
        space_cum,
        window_totals,
        total,
        min_cases,
        xlogx,
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
