"""Camera placement: lazy greedy against the exact MILP (HiGHS) on the same instance.

The instance comes from the synthetic city's streets: the ``--demand``
10 m segments nearest the centre are the demand (weight = length x
(1 + incidents nearby), incidents drawn from a Poisson with a hot spot),
``--candidates`` candidate sites are drawn among them, each a 360-degree
camera of ``--range`` m; choose ``--sites``. Timed in one run:

* greedy: ``analytics.maxcover.greedy`` (lazy evaluation),
* exact: ``analytics.maxcover.exact`` (scipy.optimize.milp / HiGHS) to a
  proven optimum (or ``--time-limit``),

and printed: both objectives, the greedy result's gap to the optimum, the
speed ratio.

    .venv/bin/python benchmarks/cameras_placement.py
    .venv/bin/python benchmarks/cameras_placement.py --demand 5000 --candidates 800 --sites 40
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.spatial import cKDTree

from pingan.analytics import maxcover
from pingan.analytics.coverage import split_lines
from pingan.sim.names import NamePool
from pingan.sim.population import city_outline
from pingan.sim.rng import stream
from pingan.sim.roads import build_roads
from pingan.sim.scales import SCALES


def build_problem(args: argparse.Namespace) -> maxcover.Problem:
    scale = SCALES[args.scale]
    outline = city_outline(stream(args.seed, "outline"), (0.0, 0.0), scale)
    roads = build_roads(stream(args.seed, "roads"), scale, outline, (0.0, 0.0),
                        NamePool(stream(args.seed, "names")))  # fmt: skip
    pieces = split_lines(roads.edge_geom, 10.0)
    near = np.argsort(np.hypot(pieces.mid_x, pieces.mid_y))[: args.demand]
    x, y, length = pieces.mid_x[near], pieces.mid_y[near], pieces.length[near]
    rng = np.random.default_rng(args.seed)
    hot = rng.choice(len(x), 5, replace=False)
    dist_hot = np.min(np.hypot(x[:, None] - x[hot], y[:, None] - y[hot]), axis=1)
    incidents = rng.poisson(0.2 + 3.0 * np.exp(-dist_hot / 300.0))
    weight = length * (1.0 + incidents)
    cand = rng.choice(len(x), args.candidates, replace=False)
    hits = cKDTree(np.column_stack([x, y])).query_ball_point(
        np.column_stack([x[cand], y[cand]]), r=args.range
    )
    owner = np.repeat(np.arange(len(cand)), [len(h) for h in hits])
    demand = np.concatenate([np.asarray(h, dtype=np.int64) for h in hits])
    cover = maxcover.cover_matrix(len(x), owner, demand, len(cand))
    return maxcover.Problem(cover=cover, weight=weight, p=args.sites, length=length)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="city", choices=sorted(SCALES))
    parser.add_argument("--demand", type=int, default=20_000)
    parser.add_argument("--candidates", type=int, default=3_000)
    parser.add_argument("--sites", type=int, default=150)
    parser.add_argument("--range", type=float, default=60.0)
    parser.add_argument("--time-limit", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    problem = build_problem(args)
    print(f"{problem.cover.shape[0]:,} demand segments x {problem.cover.shape[1]:,} candidates, "
          f"p = {problem.p}, {problem.cover.nnz:,} cover pairs")  # fmt: skip
    t = time.perf_counter()
    g = maxcover.greedy(problem)
    t_greedy = time.perf_counter() - t
    t = time.perf_counter()
    e = maxcover.exact(problem, time_limit_s=args.time_limit)
    t_exact = time.perf_counter() - t
    best = max(e.objective, e.bound or 0.0) if e.optimal else (e.bound or e.objective)
    print(f"greedy: objective {g.objective:,.1f} in {t_greedy:.3f} s")
    print(
        f"exact (HiGHS): objective {e.objective:,.1f} in {t_exact:.1f} s, "
        f"{'optimal' if e.optimal else 'stopped: ' + e.status}"
    )
    print(
        f"gap of greedy to the {'optimum' if e.optimal else 'bound'}: "
        f"{maxcover.gap(g.objective, best):.3%}"
    )
    print(f"ratio: exact {t_exact:.1f} s / greedy {t_greedy:.3f} s = {t_exact / t_greedy:,.0f}x")


if __name__ == "__main__":
    main()
