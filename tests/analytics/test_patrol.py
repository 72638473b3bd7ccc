"""Patrol tours (team orienteering): feasible always, optimal where the answer is clear."""

from __future__ import annotations

import itertools

import numpy as np

from pingan.analytics.patrol import plan_tours, tour_seconds


def _line(positions: list[float]) -> np.ndarray:
    p = np.array(positions, dtype=float)
    return np.abs(p[:, None] - p[None, :])


def test_takes_what_fits_in_the_shift() -> None:
    # Base at 0; stops at 100 and 200 (prize 1 each) and at 1000 (prize 5, too far).
    times = _line([0, 100, 200, 1000])
    tours = plan_tours(times, [0], [1, 2, 3], np.array([1.0, 1.0, 5.0]), dwell_s=0, budget_s=500)
    assert sorted(tours.order[0]) == [0, 1]
    assert tours.seconds == [400.0] and tours.prize == 2.0
    # With time for it, the far stop is worth the trip.
    tours = plan_tours(times, [0], [1, 2, 3], np.array([1.0, 1.0, 5.0]), dwell_s=0, budget_s=2000)
    assert tours.prize == 7.0 and tours.seconds == [2000.0]


def test_dwell_counts_and_unreachable_stops_are_skipped() -> None:
    times = _line([0, 100, 200])
    times[0, 2] = times[2, 0] = times[1, 2] = times[2, 1] = np.inf
    tours = plan_tours(times, [0], [1, 2], np.array([1.0, 9.0]), dwell_s=300, budget_s=500)
    assert tours.order == [[0]] and tours.seconds == [500.0]


def _best(times: np.ndarray, bases: list[int], stops: list[int], prizes: np.ndarray,
          dwell: float, budget: float) -> float:  # fmt: skip
    """Exhaustive optimum for tiny instances: every split of stops over units, every order."""
    best = 0.0
    n = len(stops)
    for labels in itertools.product(range(len(bases) + 1), repeat=n):
        total, ok = 0.0, True
        for u, base in enumerate(bases):
            mine = [i for i in range(n) if labels[i] == u]
            fits = any(
                tour_seconds(times, base, [stops[i] for i in perm], dwell) <= budget
                for perm in itertools.permutations(mine)
            )
            if not fits:
                ok = False
                break
            total += float(prizes[mine].sum())
        if ok:
            best = max(best, total)
    return best


def test_close_to_the_exhaustive_optimum_on_random_instances() -> None:
    rng = np.random.default_rng(7)
    ratios = []
    for _ in range(40):
        pts = rng.uniform(0, 1000, size=(8, 2))
        times = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))
        bases, stops = [0, 1], list(range(2, 8))
        prizes = rng.integers(1, 10, size=6).astype(float)
        budget = float(rng.uniform(800, 2500))
        tours = plan_tours(times, bases, stops, prizes, dwell_s=60, budget_s=budget)
        for u, base in enumerate(bases):
            visited = [stops[i] for i in tours.order[u]]
            assert tour_seconds(times, base, visited, 60) <= budget + 1e-6
        assert len({i for o in tours.order for i in o}) == sum(len(o) for o in tours.order)
        ratios.append(tours.prize / _best(times, bases, stops, prizes, 60, budget))
    # Seed 7: the exhaustive optimum in 32 of 40 instances, 97 % of it on average.
    assert min(ratios) >= 0.7
    assert float(np.mean(ratios)) >= 0.93
