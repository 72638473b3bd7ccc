"""Planted clusters: the ground truth that detection methods are scored against.

Three kinds, each a disc with extra events of one type on top of the
background:

* outbreak: a few days to two weeks at several extra events a day;
* persistent hotspot: the whole period, at several times the local background;
* emerging hotspot: from some day on, a rate rising linearly to its peak at the end.

Centres are drawn from the type's own spatial weights (clusters happen where
that type happens), whole discs inside the city, apart from each other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely import Point
from shapely.geometry.base import BaseGeometry

from pingan.sim.hawkes import HOURS_PER_DAY, Events, SpatialSampler, draw_times
from pingan.sim.incident_mix import TYPE_INDEX, TYPE_MODELS, column, slot_weights
from pingan.sim.population import FloatArray
from pingan.sim.scales import Scale

OUTBREAK, PERSISTENT, EMERGING = "outbreak", "persistent_hotspot", "emerging_hotspot"

_TYPES = {
    OUTBREAK: (
        "burglary.residential", "theft.bicycle", "theft.pickpocket",
        "robbery", "fraud.street", "theft.vehicle",
    ),
    PERSISTENT: (
        "theft.pickpocket", "public_order.street_vending", "fight",
        "theft.bicycle", "public_order.noise", "theft.shop",
    ),
    EMERGING: (
        "burglary.residential", "theft.vehicle", "dispute.property_management",
        "fraud.street", "theft.bicycle",
    ),
}  # fmt: skip
# A hotspot's extra rate as a multiple of the local rate of its type there.
_PERSISTENT_LIFT = 6.0
_EMERGING_PEAK_LIFT = 12.0


@dataclass(frozen=True)
class ClusterPlan:
    kind: str
    type_code: str
    x: float
    y: float
    radius_m: float
    first_day: int
    end_day: int  # exclusive
    extra_per_day: float  # the peak, for an emerging hotspot


def plan_clusters(
    rng: np.random.Generator,
    scale: Scale,
    samplers: list[SpatialSampler],
    area: BaseGeometry,
    expected_per_year: FloatArray,
    days: int,
) -> list[ClusterPlan]:
    plans: list[ClusterPlan] = []
    centres: list[tuple[float, float]] = []
    wanted = (
        [OUTBREAK] * scale.outbreaks + [PERSISTENT] * scale.persistent + [EMERGING] * scale.emerging
    )
    offsets = {kind: int(rng.integers(len(codes))) for kind, codes in _TYPES.items()}
    for i, kind in enumerate(wanted):
        codes = _TYPES[kind]
        code = codes[(offsets[kind] + i) % len(codes)]
        k = TYPE_INDEX[code]
        radius = float(rng.uniform(*scale.cluster_radius_m))
        centre = _free_centre(rng, samplers[k], area, radius, centres, scale.cluster_separation_m)
        if centre is None:
            continue  # the city is too small for another separate disc
        centres.append(centre)
        local = expected_per_year[k] / days * _disc_share(samplers[k], centre, radius)
        if kind == OUTBREAK:
            length = int(rng.integers(3, 15))
            first = int(rng.integers(min(14, days - length), days - length + 1))
            end = first + length
            rate = float(rng.uniform(*scale.outbreak_per_day))
        elif kind == PERSISTENT:
            first, end = 0, days
            rate = max(_PERSISTENT_LIFT * local, 0.1 * scale.outbreak_per_day[0])
        else:
            first, end = int(rng.uniform(0.35, 0.65) * days), days
            rate = max(_EMERGING_PEAK_LIFT * local, 0.4 * scale.outbreak_per_day[0])
        plans.append(ClusterPlan(kind, code, centre[0], centre[1], radius, first, end, rate))
    return plans


def _free_centre(
    rng: np.random.Generator,
    sampler: SpatialSampler,
    area: BaseGeometry,
    radius: float,
    taken: list[tuple[float, float]],
    separation: float,
) -> tuple[float, float] | None:
    for _ in range(200):
        x, y = sampler.draw(rng, 1)
        cx, cy = float(x[0]), float(y[0])
        if any(math.hypot(cx - tx, cy - ty) < separation for tx, ty in taken):
            continue
        if shapely.contains(area, Point(cx, cy).buffer(radius)):
            return cx, cy
    return None


def _disc_share(sampler: SpatialSampler, centre: tuple[float, float], radius: float) -> float:
    """Share of the type's spatial weight that falls in a disc (by cell centres)."""
    x, y = sampler.raster.centres(sampler.index)
    weight = np.diff(sampler.cdf, prepend=0.0)
    inside = np.hypot(x - centre[0], y - centre[1]) <= radius
    return float(weight[inside].sum() / sampler.cdf[-1])


def draw_planted(rng: np.random.Generator, plans: list[ClusterPlan], start_weekday: int) -> Events:
    """Every planted event, in time order; ``cluster`` says which plan drew it."""
    parts = []
    for i, plan in enumerate(plans):
        k = TYPE_INDEX[plan.type_code]
        days = plan.end_day - plan.first_day
        weights = slot_weights(TYPE_MODELS[k].when, plan.first_day, days, start_weekday)
        if plan.kind == EMERGING:
            ramp = (np.arange(days) + 0.5) / days
            weights = weights * np.repeat(ramp, HOURS_PER_DAY)
        n = int(rng.poisson(plan.extra_per_day * weights.sum() / HOURS_PER_DAY))
        t = draw_times(rng, weights, plan.first_day, n)
        r = plan.radius_m * np.sqrt(rng.random(n))
        a = rng.random(n) * 2 * np.pi
        x, y = plan.x + r * np.cos(a), plan.y + r * np.sin(a)
        parts.append(Events(t, x, y, np.full(n, k, np.int64), np.full(n, i, np.int64)))
    return Events.concat(parts).in_time_order()


def expected_totals(total_per_year: float) -> FloatArray:
    """Expected events per type (background and follow-ons) in a year."""
    raw = column("share")
    return np.asarray(total_per_year * raw / raw.sum())
