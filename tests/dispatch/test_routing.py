"""Routing on a hand-built graph whose travel times are worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from pingan.dispatch.routing import (
    OFFROAD_SPEED_MS,
    RoadGraph,
    TravelMode,
    build_matrix,
    point_times_to,
)

# Four nodes on a line-ish layout (metres).
X = np.array([0.0, 1000.0, 1000.0, 1200.0])
Y = np.array([0.0, 0.0, 500.0, 500.0])
# from, to, length m, speed km/h, oneway
EDGES = [
    (0, 1, 1000.0, 36.0, False),  # 100 s
    (0, 1, 1000.0, 18.0, False),  # slower parallel edge: must not win (or be summed)
    (1, 2, 500.0, 18.0, True),  # 100 s, only 1 -> 2
    (0, 2, 3000.0, 36.0, False),  # 300 s
    (2, 3, 200.0, 72.0, False),  # 10 s
]


def hand_graph() -> RoadGraph:
    frm = np.array([e[0] for e in EDGES])
    to = np.array([e[1] for e in EDGES])
    length = np.array([e[2] for e in EDGES])
    seconds = length / (np.array([e[3] for e in EDGES]) / 3.6)
    oneway = np.array([e[4] for e in EDGES])
    drive = build_matrix(4, frm, to, seconds, oneway)
    walk = build_matrix(4, frm, to, length / 1.0, np.zeros(len(EDGES), dtype=bool))
    return RoadGraph(
        version=(0, 0), node_ids=np.arange(10, 14), x=X, y=Y,
        lon=120 + X / 1e5, lat=30 + Y / 1e5, drive=drive, walk=walk,
    )  # fmt: skip


def test_times_to_one_target_match_hand_computation() -> None:
    graph = hand_graph()
    seconds, next_hop = graph.times_to(3)
    # 0 -> 1 -> 2 -> 3 = 100 + 100 + 10, cheaper than 0 -> 2 -> 3 = 310.
    assert seconds.tolist() == pytest.approx([210.0, 110.0, 10.0, 0.0])
    assert graph.path_to_target(0, next_hop) == [0, 1, 2, 3]


def test_oneway_is_respected() -> None:
    graph = hand_graph()
    seconds, next_hop = graph.times_to(1)
    # 2 -> 1 is forbidden, so 2 goes round by 0: 300 + 100.
    assert seconds[2] == pytest.approx(400.0)
    assert graph.path_to_target(2, next_hop) == [2, 0, 1]
    assert seconds[3] == pytest.approx(410.0)


def test_walking_ignores_oneway() -> None:
    graph = hand_graph()
    seconds, _ = graph.times_to(1, mode=TravelMode.WALK)
    assert seconds[2] == pytest.approx(500.0)  # 500 m at 1 m/s, against the one-way


def test_limit_leaves_far_nodes_unreached() -> None:
    graph = hand_graph()
    seconds, _ = graph.times_to(3, limit=150.0)
    assert np.isinf(seconds[0]) and seconds[1] == pytest.approx(110.0)


def test_snapping_adds_the_offroad_leg_at_walking_pace() -> None:
    graph = hand_graph()
    seconds, nodes, _, target = point_times_to(
        graph, target_xy=(1200.0, 520.0), source_x=np.array([1000.0]), source_y=np.array([-30.0])
    )
    assert target == 3 and nodes.tolist() == [1]
    assert seconds[0] == pytest.approx(110.0 + (30.0 + 20.0) / OFFROAD_SPEED_MS)


def test_route_line_runs_from_source_point_to_target_point() -> None:
    graph = hand_graph()
    _, next_hop = graph.times_to(3)
    line = graph.line(graph.path_to_target(0, next_hop), (119.9, 29.9), (120.1, 30.1))
    coords = list(line.coords)
    assert coords[0] == (119.9, 29.9) and coords[-1] == (120.1, 30.1)
    assert len(coords) == 6
