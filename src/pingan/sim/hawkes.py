"""A self-exciting (Hawkes) point process in space and time, generated in chunks.

Background events arrive by type at a rate shaped by the hour of day and
day of week, at places drawn from the type's spatial weights. Every event,
background or planted, then has Poisson(branching ratio) direct follow-ons
of its own type, an exponential delay later and a Gaussian step away; those
have follow-ons in turn. The year is walked in chunks of days: follow-ons that
land in a later chunk wait there, so only one chunk is ever in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from pingan.sim.incident_mix import TYPE_MODELS, column, slot_weights
from pingan.sim.population import FloatArray, IntArray, Raster

HOURS_PER_DAY = 24


@dataclass
class Events:
    """Parallel arrays; ``t`` is days since the start (local midnight)."""

    t: FloatArray
    x: FloatArray
    y: FloatArray
    kind: IntArray  # index into TYPE_MODELS
    cluster: IntArray  # planted cluster index; -1 for background and follow-ons

    def __len__(self) -> int:
        return len(self.t)

    @classmethod
    def empty(cls) -> Events:
        return cls(
            np.empty(0), np.empty(0), np.empty(0), np.empty(0, np.int64), np.empty(0, np.int64)
        )

    @classmethod
    def concat(cls, parts: list[Events]) -> Events:
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)))

    def take(self, which: NDArray[np.bool_] | IntArray) -> Events:
        return Events(*(getattr(self, f.name)[which] for f in fields(self)))

    def in_time_order(self) -> Events:
        return self.take(np.lexsort((self.y, self.x, self.t)))


class SpatialSampler:
    """Draws points from raster weights, uniform within a cell, kept inside ``area``."""

    def __init__(self, raster: Raster, weights: FloatArray, area: BaseGeometry) -> None:
        self.raster = raster
        self.index = np.flatnonzero(weights > 0).astype(np.int64)
        self.cdf = np.cumsum(weights[self.index])
        self.area = area
        shapely.prepare(area)

    def draw(self, rng: np.random.Generator, n: int) -> tuple[FloatArray, FloatArray]:
        xs, ys = np.empty(0), np.empty(0)
        while len(xs) < n:
            x, y = self.raster.sample(rng, self.cdf, self.index, n - len(xs))
            keep = shapely.contains_xy(self.area, x, y)
            xs, ys = np.concatenate([xs, x[keep]]), np.concatenate([ys, y[keep]])
        return xs, ys


@dataclass(frozen=True)
class StreamPlan:
    days: int
    chunk_days: int
    start_weekday: int  # 0 = Monday, of the first local day
    background_total: FloatArray  # expected background events per type over ``days``


def draw_times(rng: np.random.Generator, weights: FloatArray, first_day: int, n: int) -> FloatArray:
    """``n`` times (days) in hourly slots from ``first_day`` on, each slot by weight."""
    cdf = np.cumsum(weights)
    slot = np.minimum(np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right"), len(cdf) - 1)
    return np.asarray(first_day + (slot + rng.random(n)) / HOURS_PER_DAY, dtype=np.float64)


def stream_events(
    rng: np.random.Generator,
    plan: StreamPlan,
    samplers: list[SpatialSampler],
    area: BaseGeometry,
    planted: Events,
) -> Iterator[tuple[int, int, Events]]:
    """Yield (first day, end day, events in time order) for each chunk of the period."""
    branching = column("branching")
    delay = column("delay_days")
    spread = column("spread_m")
    pending = Events.empty()
    for first in range(0, plan.days, plan.chunk_days):
        end = min(first + plan.chunk_days, plan.days)
        due = pending.t < end
        generation = Events.concat(
            [
                _background(rng, plan, samplers, first, end),
                planted.take((planted.t >= first) & (planted.t < end)),
                pending.take(due),
            ]
        )
        pending = pending.take(~due)
        produced = [generation]
        while len(generation):
            children = _offspring(rng, generation, branching, delay, spread)
            children = children.take(
                (children.t < plan.days) & shapely.contains_xy(area, children.x, children.y)
            )
            now = children.t < end
            pending = Events.concat([pending, children.take(~now)])
            generation = children.take(now)
            produced.append(generation)
        yield first, end, Events.concat(produced).in_time_order()


def _background(
    rng: np.random.Generator,
    plan: StreamPlan,
    samplers: list[SpatialSampler],
    first: int,
    end: int,
) -> Events:
    parts = []
    for k, model in enumerate(TYPE_MODELS):
        weights = slot_weights(model.when, first, end - first, plan.start_weekday)
        # Slot weights average 1, so the whole period has background_total events.
        expected = plan.background_total[k] * weights.sum() / (plan.days * HOURS_PER_DAY)
        n = int(rng.poisson(expected))
        t = draw_times(rng, weights, first, n)
        x, y = samplers[k].draw(rng, n)
        parts.append(Events(t, x, y, np.full(n, k, np.int64), np.full(n, -1, np.int64)))
    return Events.concat(parts)


def _offspring(
    rng: np.random.Generator,
    parents: Events,
    branching: FloatArray,
    delay: FloatArray,
    spread: FloatArray,
) -> Events:
    counts = rng.poisson(branching[parents.kind])
    parent = np.repeat(np.arange(len(parents)), counts)
    kind = parents.kind[parent]
    n = len(parent)
    t = parents.t[parent] + rng.exponential(delay[kind])
    step = rng.standard_normal((2, n)) * spread[kind]
    x = parents.x[parent] + step[0]
    y = parents.y[parent] + step[1]
    return Events(t, x, y, kind, np.full(n, -1, np.int64))
