"""The mix's shares and batch sizes (no Locust here: tests import this)."""

from __future__ import annotations

from typing import Any

# Share of requests per kind (percent). Reads dominate, as on a real console.
WEIGHTS: dict[str, int] = {
    "case_list": 12,
    "case_read": 12,
    "case_create": 3,
    "case_transition": 7,
    "alert_list": 6,
    "heat_tile": 8,
    "camera_tile": 6,
    "incident_batch": 10,
    "positions": 15,
    "heartbeats": 13,
    "open311_list": 5,
    "open311_post": 3,
}
INCIDENTS_PER_BATCH = 10
POSITIONS_PER_BATCH = 20
HEARTBEATS_PER_BATCH = 100
# The grid-event workflow from filing to closing, with each step's required fields.
CASE_PATH: list[tuple[str, dict[str, Any]]] = [
    ("accept", {}),
    ("dispatch", {}),
    ("start", {}),
    ("feedback", {"result": "handled on site"}),
    ("verify", {}),
    ("evaluate", {"rating": 4}),
]


def deck(weights: dict[str, int]) -> list[str]:
    """The kinds in a fixed order, each ``weight`` times per round, spread evenly.

    Smooth weighted round robin: over any stretch of a round the shares stay
    close to the weights, so a short run exercises every kind in proportion and
    two runs send the same mix (a random draw would not).
    """
    current = dict.fromkeys(weights, 0)
    total = sum(weights.values())
    order = []
    for _ in range(total):
        for kind, weight in weights.items():
            current[kind] += weight
        pick = max(current, key=lambda k: current[k])
        current[pick] -= total
        order.append(pick)
    return order
