"""What kinds of incident the city has, when in the day and week, and how they repeat.

One row per leaf type of the default taxonomy: its share of all incidents,
its self-excitation (branching ratio: expected direct follow-ons per event;
delay and spread of a follow-on), where it happens (a spatial profile), when
(an hour-of-day and a day-of-week profile) and how long until it is reported.
Burglary and theft repeat near in space and time (the near-repeat effect);
traffic barely does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def _unit_mean(values: list[float]) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    return np.asarray(array / array.mean(), dtype=np.float64)


# Local hour 0..23, each averaging 1 over the day.
HOUR_PROFILES: dict[str, FloatArray] = {
    "street": _unit_mean(
        [0.3, 0.2, 0.15, 0.1, 0.1, 0.15, 0.3, 0.6, 0.9, 1.1, 1.3, 1.4,
         1.5, 1.5, 1.5, 1.5, 1.6, 1.7, 1.8, 1.7, 1.5, 1.2, 0.8, 0.5]
    ),
    "burglary": _unit_mean(
        [0.8, 0.9, 0.9, 0.8, 0.6, 0.4, 0.4, 0.6, 1.0, 1.4, 1.5, 1.5,
         1.4, 1.4, 1.4, 1.4, 1.3, 1.1, 0.9, 0.8, 0.8, 0.8, 0.8, 0.8]
    ),
    "night": _unit_mean(
        [1.8, 1.7, 1.4, 1.0, 0.6, 0.3, 0.2, 0.2, 0.3, 0.4, 0.5, 0.6,
         0.7, 0.7, 0.7, 0.8, 0.9, 1.0, 1.2, 1.5, 1.8, 2.0, 2.1, 2.0]
    ),
    "traffic": _unit_mean(
        [0.3, 0.2, 0.15, 0.15, 0.2, 0.5, 1.2, 2.0, 2.1, 1.4, 1.1, 1.1,
         1.2, 1.1, 1.1, 1.2, 1.5, 2.0, 2.1, 1.5, 1.0, 0.8, 0.6, 0.4]
    ),
    "office": _unit_mean(
        [0.15, 0.1, 0.1, 0.1, 0.1, 0.2, 0.4, 0.8, 1.4, 1.8, 1.9, 1.8,
         1.5, 1.6, 1.8, 1.8, 1.7, 1.5, 1.2, 1.0, 0.8, 0.6, 0.4, 0.25]
    ),
    "evening": _unit_mean(
        [0.6, 0.4, 0.3, 0.2, 0.2, 0.3, 0.5, 0.8, 0.9, 1.0, 1.0, 1.1,
         1.2, 1.1, 1.0, 1.0, 1.1, 1.3, 1.6, 1.8, 1.9, 1.8, 1.4, 1.0]
    ),
}  # fmt: skip

# Monday..Sunday, each averaging 1 over the week; paired with the hour profiles.
WEEK_PROFILES: dict[str, FloatArray] = {
    "street": _unit_mean([0.95, 0.95, 0.95, 0.95, 1.05, 1.1, 1.05]),
    "burglary": _unit_mean([1.05, 1.05, 1.05, 1.05, 1.0, 0.9, 0.9]),
    "night": _unit_mean([0.8, 0.8, 0.85, 0.9, 1.2, 1.35, 1.1]),
    "traffic": _unit_mean([1.1, 1.05, 1.05, 1.05, 1.15, 0.8, 0.8]),
    "office": _unit_mean([1.15, 1.15, 1.15, 1.15, 1.1, 0.65, 0.65]),
    "evening": _unit_mean([0.95, 0.95, 0.95, 0.95, 1.05, 1.1, 1.05]),
}

# Where each type happens: people at home, people out and about, or roads.
RESIDENTIAL, ACTIVITY, ROADS = "residential", "activity", "roads"


@dataclass(frozen=True)
class TypeModel:
    code: str
    share: float
    branching: float
    delay_days: float
    spread_m: float
    where: str
    when: str
    report_minutes: float


TYPE_MODELS: tuple[TypeModel, ...] = (
    TypeModel("theft.pickpocket", 0.07, 0.25, 3.0, 250.0, ACTIVITY, "street", 30.0),
    TypeModel("theft.bicycle", 0.13, 0.35, 4.0, 300.0, RESIDENTIAL, "street", 120.0),
    TypeModel("theft.vehicle", 0.02, 0.30, 5.0, 400.0, RESIDENTIAL, "night", 240.0),
    TypeModel("theft.shop", 0.05, 0.20, 5.0, 200.0, ACTIVITY, "street", 60.0),
    TypeModel("burglary.residential", 0.05, 0.50, 7.0, 200.0, RESIDENTIAL, "burglary", 360.0),
    TypeModel("burglary.commercial", 0.02, 0.45, 7.0, 250.0, ACTIVITY, "night", 480.0),
    TypeModel("robbery", 0.01, 0.30, 3.0, 400.0, ACTIVITY, "night", 15.0),
    TypeModel("fraud.telecom", 0.08, 0.05, 10.0, 1500.0, RESIDENTIAL, "office", 1440.0),
    TypeModel("fraud.street", 0.02, 0.25, 4.0, 300.0, ACTIVITY, "office", 60.0),
    TypeModel("fight", 0.05, 0.15, 1.0, 300.0, ACTIVITY, "night", 10.0),
    TypeModel("assault", 0.02, 0.15, 1.0, 300.0, ACTIVITY, "night", 20.0),
    TypeModel("traffic.collision", 0.14, 0.05, 1.0, 500.0, ROADS, "traffic", 10.0),
    TypeModel("traffic.congestion", 0.06, 0.10, 0.2, 600.0, ROADS, "traffic", 10.0),
    TypeModel("fire", 0.02, 0.05, 2.0, 300.0, RESIDENTIAL, "evening", 5.0),
    TypeModel("hazard.road", 0.04, 0.10, 5.0, 300.0, ROADS, "office", 240.0),
    TypeModel("hazard.building", 0.02, 0.10, 10.0, 200.0, RESIDENTIAL, "office", 720.0),
    TypeModel("hazard.utility", 0.02, 0.10, 5.0, 300.0, RESIDENTIAL, "office", 120.0),
    TypeModel("dispute.neighbour", 0.06, 0.10, 5.0, 150.0, RESIDENTIAL, "evening", 60.0),
    TypeModel("dispute.labour", 0.02, 0.10, 7.0, 300.0, ACTIVITY, "office", 240.0),
    TypeModel("dispute.property_management", 0.03, 0.15, 7.0, 150.0, RESIDENTIAL, "office", 240.0),
    TypeModel("public_order.noise", 0.06, 0.20, 2.0, 150.0, RESIDENTIAL, "night", 15.0),
    TypeModel("public_order.street_vending", 0.04, 0.20, 2.0, 200.0, ACTIVITY, "office", 60.0),
)

TYPE_INDEX: dict[str, int] = {m.code: i for i, m in enumerate(TYPE_MODELS)}


def shares() -> FloatArray:
    raw = np.array([m.share for m in TYPE_MODELS])
    return np.asarray(raw / raw.sum(), dtype=np.float64)


def column(name: str) -> FloatArray:
    return np.array([getattr(m, name) for m in TYPE_MODELS], dtype=np.float64)


def slot_weights(when: str, first_day: int, days: int, start_weekday: int) -> FloatArray:
    """Relative rate of each local hour of days [first_day, first_day + days)."""
    weekday = (start_weekday + np.arange(first_day, first_day + days)) % 7
    week = WEEK_PROFILES[when][weekday]
    return np.asarray(np.outer(week, HOUR_PROFILES[when]).ravel(), dtype=np.float64)
