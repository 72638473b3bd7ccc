"""p-center and p-median placement against hand-worked and brute-force answers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from pingan.dispatch import placement
from pingan.dispatch.placement import place
from tests.dispatch.test_routing import hand_graph


def test_hand_worked_center_and_median_differ() -> None:
    # Posts (rows) x sites (columns), seconds.
    times = np.array(
        [
            [0.0, 0.0, 0.0, 500.0],  # post 0 serves the cluster, far from the outlier
            [300.0, 300.0, 300.0, 300.0],  # post 1 is mediocre for everyone
            [400.0, 400.0, 400.0, 0.0],  # post 2 serves the outlier
        ]
    )
    center = place(times, 1, objective="center")
    median = place(times, 1, objective="median")
    assert center.posts == [1] and center.worst_s == 300.0 and center.exact
    assert median.posts == [0] and median.total_s == 500.0
    both = place(times, 2, objective="center")
    assert both.posts == [0, 2] and both.worst_s == 0.0


def test_heuristic_is_never_worse_than_greedy_and_near_optimal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(4)
    times = rng.uniform(0, 1000, size=(12, 30))
    exact = place(times, 3, objective="median")
    monkeypatch.setattr(placement, "EXACT_LIMIT", 0)
    heuristic = place(times, 3, objective="median")
    assert exact.exact and not heuristic.exact
    brute = min(times[list(c)].min(axis=0).sum() for c in itertools.combinations(range(12), 3))
    assert exact.total_s == pytest.approx(brute)
    assert brute <= heuristic.total_s <= brute * 1.05


def test_times_come_from_the_road_graph() -> None:
    graph = hand_graph()
    times = placement.post_to_site_times(graph, [0, 2], [1, 3])
    # From node 0: to 1 in 100 s, to 3 in 210 s; from node 2: to 1 only round by 0 (400 s).
    assert times.ravel().tolist() == pytest.approx([100.0, 210.0, 400.0, 10.0])
