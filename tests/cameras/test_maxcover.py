"""Maximal covering: greedy and the MILP against exhaustive search (the trusted peer)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from pingan.analytics import maxcover


def _random_problem(
    seed: int, n_d: int = 40, n_c: int = 12, p: int = 3, **kw: object
) -> maxcover.Problem:
    rng = np.random.default_rng(seed)
    cand, dem = np.nonzero(rng.random((n_c, n_d)) < 0.15)
    cover = maxcover.cover_matrix(n_d, cand, dem, n_c)
    return maxcover.Problem(cover=cover, weight=rng.uniform(0.5, 3.0, n_d), p=p, **kw)  # type: ignore[arg-type]


def _feasible(problem: maxcover.Problem, chosen: tuple[int, ...]) -> bool:
    if problem.group is not None:
        for g, cap in problem.caps.items():
            if sum(1 for j in chosen if problem.group[j] == g) > cap:
                return False
    _obj, counts = maxcover.evaluate(problem, list(chosen))
    return all(maxcover.requirement_status(problem, counts))


def _brute_force(problem: maxcover.Problem) -> float:
    n_c = problem.cover.shape[1]
    best = -1.0
    for k in range(problem.p + 1):
        for combo in itertools.combinations(range(n_c), k):
            if _feasible(problem, combo):
                best = max(best, maxcover.evaluate(problem, list(combo))[0])
    return best


def _plain_greedy(problem: maxcover.Problem) -> float:
    chosen: list[int] = []
    for _ in range(problem.p):
        base = maxcover.evaluate(problem, chosen)[0]
        gains = [
            (maxcover.evaluate(problem, [*chosen, j])[0] - base, -j)
            for j in range(problem.cover.shape[1]) if j not in chosen
        ]  # fmt: skip
        gain, neg_j = max(gains)
        if gain <= 0:
            break
        chosen.append(-neg_j)
    return maxcover.evaluate(problem, chosen)[0]


@pytest.mark.parametrize("seed", range(6))
def test_exact_finds_the_brute_force_optimum(seed: int) -> None:
    problem = _random_problem(seed)
    sol = maxcover.exact(problem, time_limit_s=30)
    assert sol.optimal
    assert sol.objective == pytest.approx(_brute_force(problem))
    assert len(sol.chosen) <= problem.p


@pytest.mark.parametrize("seed", range(6))
def test_lazy_greedy_equals_plain_greedy_and_the_bound(seed: int) -> None:
    problem = _random_problem(seed)
    sol = maxcover.greedy(problem)
    assert sol.objective == pytest.approx(_plain_greedy(problem))
    assert sol.objective >= (1 - 1 / np.e) * _brute_force(problem) - 1e-9
    assert sum(sol.gains) == pytest.approx(sol.objective)
    assert sol.gains == sorted(sol.gains, reverse=True)  # submodular: gains shrink


def test_existing_cover_adds_nothing() -> None:
    # Candidate 0 sees points 0,1 (both already covered); candidate 1 sees point 2.
    cover = maxcover.cover_matrix(3, [0, 0, 1], [0, 1, 2], 2)
    problem = maxcover.Problem(cover=cover, weight=np.array([5.0, 5.0, 1.0]), p=1,
                               existing=np.array([1, 1, 0]))  # fmt: skip
    assert maxcover.greedy(problem).chosen == [1]
    assert maxcover.exact(problem).chosen == [1]


def test_group_budgets_hold() -> None:
    group = np.array([0] * 6 + [1] * 6)
    problem = _random_problem(2, p=4, group=group, caps={0: 1})
    for sol in (maxcover.greedy(problem), maxcover.exact(problem)):
        assert sum(1 for j in sol.chosen if group[j] == 0) <= 1
    assert maxcover.exact(problem).objective == pytest.approx(_brute_force(problem))


def test_backup_requirement_needs_two_cameras() -> None:
    # Points 0-1 form a level-1 site needing both seen twice; 2-5 carry the weight.
    # Candidates: 0 and 1 each see the site; 2 sees the heavy points 2-5; 3 sees 2-3.
    cover = maxcover.cover_matrix(
        6, [0, 0, 1, 1, 2, 2, 2, 2, 3, 3], [0, 1, 0, 1, 2, 3, 4, 5, 2, 3], 4
    )
    req = maxcover.Requirement(np.array([0, 1]), min_share=1.0, copies=2, label="airport")
    problem = maxcover.Problem(cover=cover, weight=np.array([0.1, 0.1, 3, 3, 3, 3]), p=3,
                               requirements=(req,))  # fmt: skip
    for sol in (maxcover.greedy(problem), maxcover.exact(problem)):
        assert sorted(sol.chosen) == [0, 1, 2]
        assert sol.requirements_met == [True]
    # Without the requirement the heavy candidates win.
    free = maxcover.Problem(cover=cover, weight=problem.weight, p=2)
    assert sorted(maxcover.exact(free).chosen) == [0, 2] or sorted(maxcover.exact(free).chosen) == [
        1,
        2,
    ]


def test_requirements_match_brute_force() -> None:
    rng = np.random.default_rng(9)
    base = _random_problem(4, p=4)
    req = maxcover.Requirement(np.sort(rng.choice(40, 6, replace=False)), 0.5, 1, "school")
    problem = maxcover.Problem(cover=base.cover, weight=base.weight, p=4, requirements=(req,))
    best = _brute_force(problem)
    sol = maxcover.exact(problem)
    assert sol.requirements_met == [True]
    assert sol.objective == pytest.approx(best)
    g = maxcover.greedy(problem)
    assert g.requirements_met == [True]
    assert g.objective <= best + 1e-9


def test_gap() -> None:
    assert maxcover.gap(99.0, 100.0) == pytest.approx(0.01)
    assert maxcover.gap(100.0, 100.0) == 0.0
    assert maxcover.gap(0.0, 0.0) == 0.0


def test_bad_problems_are_rejected() -> None:
    cover = maxcover.cover_matrix(2, [0], [0], 1)
    with pytest.raises(ValueError, match="weight"):
        maxcover.Problem(cover=cover, weight=np.ones(3), p=1)
    with pytest.raises(ValueError, match="1 or 2"):
        maxcover.Problem(cover=cover, weight=np.ones(2), p=1,
                         requirements=(maxcover.Requirement(np.array([0]), 0.5, 3),))  # fmt: skip
