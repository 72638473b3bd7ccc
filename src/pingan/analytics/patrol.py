"""Patrol tours: which hotspots each unit visits within its shift, and in what order.

A team orienteering problem: every unit leaves its base, visits stops (each
worth a prize, e.g. a hotspot's z-score), spends ``dwell_s`` at each, and is
back within ``budget_s``; maximise the total prize. NP-hard, so a heuristic:
greedy insertion by prize per added second (the cheapest place in any tour),
then 2-opt to shorten each tour, then insertion again into the time freed,
until nothing changes. Pure numpy on a matrix of travel seconds between
points; ``inf`` means unreachable.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Tours:
    # Per unit: the stop indices (into ``stops``) in visiting order.
    order: list[list[int]]
    # Per unit: seconds of travel plus dwell for the closed tour.
    seconds: list[float]
    prize: float


def tour_seconds(times: FloatArray, base: int, points: list[int], dwell_s: float) -> float:
    """Seconds of the closed tour base -> points... -> base, with dwell at each point."""
    cycle = [base, *points, base]
    travel = sum(float(times[a, b]) for a, b in itertools.pairwise(cycle))
    return travel + dwell_s * len(points)


def _two_opt(times: FloatArray, base: int, points: list[int]) -> list[int]:
    """Reverse segments while that shortens the closed tour (travel times may be asymmetric)."""
    best = list(points)
    best_s = tour_seconds(times, base, best, 0.0)
    improved = True
    while improved:
        improved = False
        for i in range(len(best) - 1):
            for j in range(i + 1, len(best)):
                trial = best[:i] + best[i : j + 1][::-1] + best[j + 1 :]
                trial_s = tour_seconds(times, base, trial, 0.0)
                if trial_s < best_s - 1e-9:
                    best, best_s, improved = trial, trial_s, True
    return best


def plan_tours(
    times: FloatArray,
    bases: list[int],
    stops: list[int],
    prizes: FloatArray,
    *,
    dwell_s: float,
    budget_s: float,
) -> Tours:
    """Tours for units starting at ``bases`` over candidate ``stops`` (indices into ``times``)."""
    if len(stops) != len(prizes):
        raise ValueError("one prize per stop")
    if budget_s <= 0 or dwell_s < 0:
        raise ValueError("budget must be positive and dwell non-negative")
    tours: list[list[int]] = [[] for _ in bases]  # point indices (into times), excluding base
    used = np.zeros(len(stops), dtype=bool)
    prize_of = {p: float(w) for p, w in zip(stops, prizes, strict=True)}
    index_of = {p: i for i, p in enumerate(stops)}
    for _round in range(len(stops) + 1):
        inserted = _insert_all(times, bases, stops, prizes, tours, used, dwell_s, budget_s)
        changed = False
        for u, base in enumerate(bases):
            shorter = _two_opt(times, base, tours[u])
            if shorter != tours[u]:
                tours[u], changed = shorter, True
        if not inserted and not changed:
            break
    seconds = [tour_seconds(times, b, t, dwell_s) for b, t in zip(bases, tours, strict=True)]
    return Tours(
        order=[[index_of[p] for p in t] for t in tours],
        seconds=seconds,
        prize=sum(prize_of[p] for t in tours for p in t),
    )


def _insert_all(
    times: FloatArray,
    bases: list[int],
    stops: list[int],
    prizes: FloatArray,
    tours: list[list[int]],
    used: npt.NDArray[np.bool_],
    dwell_s: float,
    budget_s: float,
) -> bool:
    """Greedy insertions until none fits; True if any was made."""
    any_inserted = False
    spent = [tour_seconds(times, b, t, dwell_s) for b, t in zip(bases, tours, strict=True)]
    while True:
        best: tuple[float, int, int, int, float] | None = None  # ratio, stop, unit, pos, add
        for s, point in enumerate(stops):
            if used[s] or prizes[s] <= 0:
                continue
            for u, base in enumerate(bases):
                cycle = np.array([base, *tours[u], base])
                a, b = cycle[:-1], cycle[1:]
                # Added seconds of putting the stop between each consecutive pair.
                add = times[a, point] + times[point, b] - times[a, b] + dwell_s
                pos = int(np.argmin(add))
                cost = float(add[pos])
                if not np.isfinite(cost) or spent[u] + cost > budget_s + 1e-9:
                    continue
                ratio = float(prizes[s]) / max(cost, 1.0)
                if best is None or ratio > best[0]:
                    best = (ratio, s, u, pos, cost)
        if best is None:
            return any_inserted
        _, s, u, pos, cost = best
        tours[u].insert(pos, stops[s])
        spent[u] += cost
        used[s] = True
        any_inserted = True
