"""Maximal covering location: choose p sites to cover the most demand weight.

Demand points (street pieces) carry weights; each candidate site covers a
set of them (a sparse boolean matrix, demand x candidate). Two solvers:

* ``greedy``: the classic (1 - 1/e) greedy with lazy evaluation. Marginal
  gains only shrink as sites are added (coverage is submodular), so a stale
  gain is an upper bound: pop the best stale gain, refresh it, and take it
  when it still beats the next stale one. Most candidates are never
  re-evaluated.
* ``exact``: the same problem as a MILP for HiGHS via ``scipy.optimize.milp``,
  giving the proven optimum (or a bound when time runs out) and hence the
  greedy result's gap.

Both honour the same side constraints: at most ``caps[g]`` sites in group
``g`` (a district's budget), and requirements that a set of demand points
(a key site's surroundings) reach a minimum covered share of its length,
counting a point only when ``copies`` cameras see it (2 = backup coverage).
Points already seen by existing cameras count towards requirements and add
nothing to the objective.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from pingan.analytics._arrays import FloatArray, IntArray


@dataclass(frozen=True)
class Requirement:
    """Demand points that must reach ``min_share`` of their length seen ``copies`` times."""

    demand: IntArray
    min_share: float
    copies: int = 1
    label: str = ""


@dataclass(frozen=True)
class Problem:
    cover: sparse.csc_matrix  # demand x candidate, 1 where the candidate sees the point
    weight: FloatArray  # objective weight per demand point
    p: int
    length: FloatArray | None = None  # for requirement shares; defaults to ones
    existing: IntArray | None = None  # cameras already seeing each demand point
    group: IntArray | None = None  # candidate -> group id (-1: none)
    caps: dict[int, int] = field(default_factory=dict)
    requirements: tuple[Requirement, ...] = ()

    def __post_init__(self) -> None:
        n_d, n_c = self.cover.shape
        if len(self.weight) != n_d:
            raise ValueError("weight must have one entry per demand point")
        if self.p < 0:
            raise ValueError("p must not be negative")
        if self.group is not None and len(self.group) != n_c:
            raise ValueError("group must have one entry per candidate")
        for req in self.requirements:
            if req.copies not in (1, 2):
                raise ValueError("requirements count 1 or 2 cameras")
            if not 0.0 <= req.min_share <= 1.0:
                raise ValueError("min_share must be between 0 and 1")

    @property
    def lengths(self) -> FloatArray:
        return self.length if self.length is not None else np.ones(self.cover.shape[0])

    @property
    def existing_counts(self) -> IntArray:
        if self.existing is not None:
            return self.existing.astype(np.int64)
        return np.zeros(self.cover.shape[0], dtype=np.int64)


@dataclass(frozen=True)
class Solution:
    chosen: list[int]  # candidate indices in the order they were picked
    gains: list[float]  # objective gained by each, in order
    objective: float
    requirements_met: list[bool]
    method: str
    optimal: bool = False
    bound: float | None = None
    status: str = ""


def _group_ok(problem: Problem, used: dict[int, int], j: int) -> bool:
    if problem.group is None:
        return True
    g = int(problem.group[j])
    cap = problem.caps.get(g)
    return cap is None or used.get(g, 0) < cap


def requirement_status(problem: Problem, counts: IntArray) -> list[bool]:
    length = problem.lengths
    met = []
    for req in problem.requirements:
        total = float(length[req.demand].sum())
        seen = float(length[req.demand][counts[req.demand] >= req.copies].sum())
        met.append(total == 0.0 or seen >= req.min_share * total - 1e-9)
    return met


def evaluate(problem: Problem, chosen: list[int]) -> tuple[float, IntArray]:
    """Objective of a set of sites and the resulting cover counts."""
    counts = problem.existing_counts.copy()
    if chosen:
        counts += np.asarray(problem.cover[:, chosen].sum(axis=1)).ravel().astype(np.int64)
    fresh = (problem.existing_counts == 0) & (counts > 0)
    return float(problem.weight[fresh].sum()), counts


def greedy(problem: Problem) -> Solution:
    """Requirements first (most unmet length per site), then lazy greedy on the weight."""
    cover = problem.cover.tocsc()
    n_d, n_c = cover.shape
    counts = problem.existing_counts.copy()
    weight = problem.weight
    length = problem.lengths
    chosen: list[int] = []
    gains: list[float] = []
    taken = np.zeros(n_c, dtype=bool)
    used: dict[int, int] = {}

    def take(j: int) -> float:
        rows = cover.indices[cover.indptr[j] : cover.indptr[j + 1]]
        gain = float(weight[rows][counts[rows] == 0].sum())
        counts[rows] += 1
        taken[j] = True
        chosen.append(j)
        gains.append(gain)
        if problem.group is not None:
            g = int(problem.group[j])
            used[g] = used.get(g, 0) + 1
        return gain

    # Phase 1: meet the requirements, picking the site that adds most unmet length.
    while len(chosen) < problem.p:
        met = requirement_status(problem, counts)
        if all(met):
            break
        need = np.zeros(n_d)
        for req, ok in zip(problem.requirements, met, strict=True):
            if not ok:
                short = req.demand[counts[req.demand] < req.copies]
                need[short] += length[short]
        score = cover.T @ need
        score[taken] = -1.0
        for j in np.argsort(-score):
            if score[j] <= 0:
                j = -1
                break
            if _group_ok(problem, used, int(j)):
                break
        else:
            j = -1
        if j < 0:
            break  # nothing left can help: report the requirement unmet
        take(int(j))

    # Phase 2: lazy greedy on the objective.
    fresh_weight = np.where(counts == 0, weight, 0.0)
    initial = cover.T @ fresh_weight
    heap = [(-float(initial[j]), int(j)) for j in range(n_c) if not taken[j] and initial[j] > 0]
    heapq.heapify(heap)
    while len(chosen) < problem.p and heap:
        _stale, j = heapq.heappop(heap)
        if not _group_ok(problem, used, j):
            continue
        rows = cover.indices[cover.indptr[j] : cover.indptr[j + 1]]
        gain = float(weight[rows][counts[rows] == 0].sum())
        if gain <= 0:
            continue
        if heap and gain < -heap[0][0]:
            heapq.heappush(heap, (-gain, j))
            continue
        take(j)

    objective, counts = evaluate(problem, chosen)
    return Solution(
        chosen=chosen,
        gains=gains,
        objective=objective,
        requirements_met=requirement_status(problem, counts),
        method="greedy",
    )


def exact(problem: Problem, *, time_limit_s: float = 60.0) -> Solution:
    """Solve the MILP with HiGHS: x_j site chosen, y_i point newly covered, u_ri requirement hit."""
    cover = problem.cover.tocsr().astype(np.float64)
    n_c = cover.shape[1]
    existing = problem.existing_counts
    weight = problem.weight
    length = problem.lengths
    # Only points not already covered and worth something need a y variable.
    demand = np.flatnonzero((existing == 0) & (weight > 0))
    n_y = len(demand)
    req_rows = [np.asarray(r.demand, dtype=np.int64) for r in problem.requirements]
    n_u = sum(len(r) for r in req_rows)
    n_var = n_c + n_y + n_u

    blocks: list[sparse.spmatrix] = []
    lower: list[FloatArray] = []
    upper: list[FloatArray] = []
    # y_i - sum_j a_ij x_j <= 0
    if n_y:
        a_y = cover[demand]
        blocks.append(
            sparse.hstack([-a_y, sparse.identity(n_y, format="csr"), sparse.csr_matrix((n_y, n_u))])
        )
        lower.append(np.full(n_y, -np.inf))
        upper.append(np.zeros(n_y))
    # sum_j x_j <= p
    blocks.append(
        sparse.hstack([sparse.csr_matrix(np.ones((1, n_c))), sparse.csr_matrix((1, n_y + n_u))])
    )
    lower.append(np.array([-np.inf]))
    upper.append(np.array([float(problem.p)]))
    # group budgets
    if problem.group is not None:
        for g, cap in sorted(problem.caps.items()):
            row = np.zeros((1, n_var))
            row[0, :n_c] = problem.group == g
            blocks.append(sparse.csr_matrix(row))
            lower.append(np.array([-np.inf]))
            upper.append(np.array([float(cap)]))
    # requirements: copies * u_ri - sum_j a_ij x_j <= existing_i ; sum len_i u_ri >= share
    offset = n_c + n_y
    for req, rows in zip(problem.requirements, req_rows, strict=True):
        k = len(rows)
        u_part = sparse.csr_matrix(
            (np.full(k, float(req.copies)), (np.arange(k), offset + np.arange(k))),
            shape=(k, n_var),
        )
        x_part = sparse.hstack([-cover[rows], sparse.csr_matrix((k, n_y + n_u))])
        blocks.append((u_part + x_part).tocsr())
        lower.append(np.full(k, -np.inf))
        upper.append(existing[rows].astype(np.float64))
        share = np.zeros((1, n_var))
        share[0, offset : offset + k] = length[rows]
        blocks.append(sparse.csr_matrix(share))
        lower.append(np.array([req.min_share * float(length[rows].sum()) - 1e-9]))
        upper.append(np.array([np.inf]))
        offset += k

    c = np.zeros(n_var)
    c[n_c : n_c + n_y] = -weight[demand]  # milp minimises
    integrality = np.zeros(n_var)
    integrality[:n_c] = 1
    integrality[n_c + n_y :] = 1
    constraints = LinearConstraint(
        sparse.vstack(blocks).tocsr(), np.concatenate(lower), np.concatenate(upper)
    )
    res = milp(
        c,
        constraints=constraints,
        integrality=integrality,
        bounds=Bounds(np.zeros(n_var), np.ones(n_var)),
        options={"time_limit": time_limit_s, "mip_rel_gap": 1e-9, "disp": False},
    )
    if res.x is None:
        return Solution(
            [], [], 0.0, [False] * len(problem.requirements), "exact", status=res.message
        )
    picked = [int(j) for j in np.flatnonzero(res.x[:n_c] > 0.5)]
    # Report in greedy order of gain so the output reads like the greedy one.
    ordered, gains = _order_by_gain(problem, picked)
    objective, counts = evaluate(problem, ordered)
    bound = getattr(res, "mip_dual_bound", None)
    return Solution(
        chosen=ordered,
        gains=gains,
        objective=objective,
        requirements_met=requirement_status(problem, counts),
        method="exact",
        optimal=res.status == 0,
        bound=None if bound is None else -float(bound),
        status=str(res.message),
    )


def _order_by_gain(problem: Problem, picked: list[int]) -> tuple[list[int], list[float]]:
    cover = problem.cover.tocsc()
    counts = problem.existing_counts.copy()
    left = list(picked)
    ordered: list[int] = []
    gains: list[float] = []
    while left:
        best, best_gain = left[0], -1.0
        for j in left:
            rows = cover.indices[cover.indptr[j] : cover.indptr[j + 1]]
            g = float(problem.weight[rows][counts[rows] == 0].sum())
            if g > best_gain:
                best, best_gain = j, g
        rows = cover.indices[cover.indptr[best] : cover.indptr[best + 1]]
        counts[rows] += 1
        ordered.append(best)
        gains.append(best_gain)
        left.remove(best)
    return ordered, gains


def gap(greedy_objective: float, optimum: float) -> float:
    """Relative shortfall of the greedy objective from the optimum (0 when equal)."""
    if optimum <= 0:
        return 0.0
    return max(0.0, (optimum - greedy_objective) / optimum)


def cover_matrix(
    n_demand: int, cand: npt.ArrayLike, demand: npt.ArrayLike, n_cand: int
) -> sparse.csc_matrix:
    """Demand x candidate 0/1 matrix from (candidate, demand) pairs."""
    c = np.asarray(cand, dtype=np.int64)
    d = np.asarray(demand, dtype=np.int64)
    m = sparse.csc_matrix((np.ones(len(c), dtype=np.float64), (d, c)), shape=(n_demand, n_cand))
    m.data[:] = 1.0  # duplicate pairs sum; a site sees a point once
    return m
