"""Pre-positioning for command mode: choose p standby posts on the road graph.

p-center minimises the worst travel time from the nearest post to any event
site; p-median minimises the (weighted) total. Small instances are solved
exactly by enumeration; larger ones by greedy construction followed by
vertex substitution (Teitz and Bart), a local optimum that ``exact`` reports
as False.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse.csgraph import dijkstra

from pingan.dispatch.routing import RoadGraph

FloatArray = NDArray[np.float64]
# Enumerate every choice of posts up to this many combinations.
EXACT_LIMIT = 20_000


@dataclass(frozen=True)
class Placement:
    posts: list[int]  # indices into the candidate list
    worst_s: float
    total_s: float
    exact: bool


def post_to_site_times(
    graph: RoadGraph, post_nodes: list[int], site_nodes: list[int]
) -> FloatArray:
    """Seconds by road from each candidate post (rows) to each site (columns)."""
    dist = dijkstra(graph.drive, directed=True, indices=post_nodes)
    return np.asarray(dist, dtype=np.float64)[:, site_nodes]


def _score(times: FloatArray, chosen: tuple[int, ...], weights: FloatArray, center: bool) -> float:
    nearest = times[list(chosen)].min(axis=0)
    return float(nearest.max()) if center else float((nearest * weights).sum())


def place(
    times: FloatArray, p: int, *, objective: str = "center", weights: FloatArray | None = None
) -> Placement:
    n_posts, n_sites = times.shape
    if not 1 <= p <= n_posts:
        raise ValueError(f"p must be between 1 and the {n_posts} candidate posts")
    w = np.ones(n_sites) if weights is None else np.asarray(weights, dtype=np.float64)
    center = objective == "center"
    if math.comb(n_posts, p) <= EXACT_LIMIT:
        best = min(
            itertools.combinations(range(n_posts), p),
            key=lambda c: (_score(times, c, w, center), _score(times, c, w, not center)),
        )
        return _result(times, best, w, exact=True)
    chosen = _greedy(times, p, w, center)
    improved = True
    while improved:  # swap any post for any other while that helps
        improved = False
        current = _score(times, tuple(chosen), w, center)
        for i, j in itertools.product(range(p), range(n_posts)):
            if j in chosen:
                continue
            trial = [*chosen[:i], j, *chosen[i + 1 :]]
            if _score(times, tuple(trial), w, center) < current - 1e-9:
                chosen, improved = trial, True
                break
    return _result(times, tuple(chosen), w, exact=False)


def _greedy(times: FloatArray, p: int, w: FloatArray, center: bool) -> list[int]:
    chosen: list[int] = []
    for _ in range(p):
        options = [j for j in range(times.shape[0]) if j not in chosen]
        chosen.append(min(options, key=lambda j: _score(times, (*chosen, j), w, center)))
    return chosen


def _result(times: FloatArray, chosen: tuple[int, ...], w: FloatArray, *, exact: bool) -> Placement:
    nearest = times[list(chosen)].min(axis=0)
    return Placement(
        posts=sorted(chosen), worst_s=float(nearest.max()), total_s=float((nearest * w).sum()),
        exact=exact,
    )  # fmt: skip
