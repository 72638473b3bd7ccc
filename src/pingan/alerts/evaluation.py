"""Evaluation harness: how soon and how often each early-warning method fires.

A light in-memory city stands in for the synthetic city, built from the
simulator's own profiles: a square of grid cells with a lumpy (log-normal)
background rate, the simulator's day-of-week profile for street crime, and
Poisson daily counts per cell. Each scenario draws a fresh background, plants
one outbreak (extra cases in a disc of cells over some days; size, spread and
duration drawn from the configured choices) and then runs every method day by
day over an evaluation period that ends with the outbreak:

- the prospective space-time permutation scan on the cells (the last
  ``scan_lookback_days`` days, a fresh analysis each day);
- EARS C1, C2, C3, Poisson CUSUM and the seasonal GLM on each community's
  daily series (a community is a block of ``community_cells`` x
  ``community_cells`` cells). These methods only look back, so one pass over
  the whole series gives the same answer per day as separate daily runs.

An alarm that touches the outbreak's cells while it lasts is a detection; any
other alarm (before the outbreak, or elsewhere) is a false alarm. Reported per
method: detection probability (detected by the outbreak's last day), median
delay from the outbreak's first day to the first detection, and false alarms
per year for the whole city (alarm-days per evaluated day x 365).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pingan.analytics.aberration import (
    AberrationResult,
    ears_c1,
    ears_c2,
    ears_c3,
    poisson_cusum,
    seasonal_glm,
)
from pingan.analytics.scan import space_time_permutation_scan
from pingan.sim.incident_mix import WEEK_PROFILES

SERIES_METHODS = ("ears_c1", "ears_c2", "ears_c3", "cusum", "glm")
METHODS = ("scan", *SERIES_METHODS)


@dataclass(frozen=True)
class EvalConfig:
    scenarios: int = 20
    seed: int = 0
    cells_per_side: int = 8
    cell_m: float = 500.0
    community_cells: int = 2
    cases_per_day: float = 48.0  # whole city, background
    lumpiness: float = 0.5  # sd of the log cell rates
    history_days: int = 70  # before the evaluation period (the GLM needs 63)
    eval_days: int = 14  # evaluated days; the outbreak sits at their end
    # Outbreak choices, one drawn per scenario: total extra cases, radius in cells, days.
    sizes: tuple[int, ...] = (10, 20, 40)
    radii: tuple[int, ...] = (0, 1)
    durations: tuple[int, ...] = (3, 5, 7)
    # Method settings.
    scan_lookback_days: int = 28
    scan_max_window_days: int = 7
    scan_replications: int = 999
    scan_max_p: float = 1 / 365  # recurrence interval of a year or more
    ears_c12_threshold: float = 3.0
    ears_c3_threshold: float = 2.0
    cusum_h: float = 4.0
    glm_alpha: float = 0.01

    def check(self) -> None:
        if self.scenarios < 1 or self.eval_days < max(self.durations, default=1):
            raise ValueError("scenarios >= 1 and eval_days >= the longest outbreak are required")
        if self.history_days < 63 or self.cells_per_side % self.community_cells:
            raise ValueError("history_days >= 63; communities must tile the square")
        if min(self.sizes, default=0) < 0 or min(self.radii, default=0) < 0:
            raise ValueError("outbreak sizes and radii must be non-negative")


@dataclass
class MethodScore:
    method: str
    detected: int = 0
    outbreaks: int = 0
    delays: list[int] = field(default_factory=list)
    false_alarms: int = 0
    days: int = 0
    nominal_per_year: float | None = None
    by_size: dict[int, list[int]] = field(default_factory=dict)  # size -> [detected, total]

    @property
    def detection_probability(self) -> float:
        return self.detected / self.outbreaks if self.outbreaks else float("nan")

    @property
    def median_delay(self) -> float:
        return float(np.median(self.delays)) if self.delays else float("nan")

    @property
    def false_alarms_per_year(self) -> float:
        return 365.0 * self.false_alarms / self.days if self.days else float("nan")

    def row(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "detection_probability": self.detection_probability,
            "median_delay_days": self.median_delay,
            "false_alarms_per_year": self.false_alarms_per_year,
            "nominal_false_alarms_per_year": self.nominal_per_year,
            "detected": self.detected,
            "outbreaks": self.outbreaks,
            "false_alarms": self.false_alarms,
            "days": self.days,
            "by_size": {str(k): v for k, v in sorted(self.by_size.items())},
        }


@dataclass(frozen=True)
class Outbreak:
    cells: NDArray[np.int64]
    first_day: int  # index into the whole series
    days: int
    size: int


@dataclass(frozen=True)
class Scenario:
    counts: NDArray[np.int64]  # days x cells
    outbreak: Outbreak | None


def _coords(config: EvalConfig) -> NDArray[np.float64]:
    side = config.cells_per_side
    ix, iy = np.divmod(np.arange(side * side), side)
    return np.column_stack((ix, iy)).astype(np.float64) * config.cell_m


def _community_of(config: EvalConfig) -> NDArray[np.int64]:
    side, block = config.cells_per_side, config.community_cells
    ix, iy = np.divmod(np.arange(side * side), side)
    return np.asarray((ix // block) * (side // block) + iy // block, dtype=np.int64)


def draw_scenario(config: EvalConfig, rng: np.random.Generator, *, plant: bool) -> Scenario:
    """A background of daily counts per cell, with one outbreak at the end if ``plant``."""
    n_cells = config.cells_per_side**2
    n_days = config.history_days + config.eval_days
    rates = rng.lognormal(0.0, config.lumpiness, n_cells)
    rates *= config.cases_per_day / rates.sum()
    week = WEEK_PROFILES["street"][(rng.integers(7) + np.arange(n_days)) % 7]
    counts = rng.poisson(np.outer(week, rates)).astype(np.int64)
    if not plant or not config.sizes:
        return Scenario(counts, None)
    size = int(rng.choice(config.sizes))
    radius = int(rng.choice(config.radii))
    days = int(rng.choice(config.durations))
    side = config.cells_per_side
    cx, cy = rng.integers(side, size=2)
    ix, iy = np.divmod(np.arange(n_cells), side)
    cells = np.flatnonzero((np.abs(ix - cx) <= radius) & (np.abs(iy - cy) <= radius))
    first = n_days - days
    extra = rng.multinomial(size, np.full(days * cells.size, 1.0 / (days * cells.size)))
    counts[first:, cells] += extra.reshape(days, cells.size)
    return Scenario(counts, Outbreak(cells.astype(np.int64), first, days, size))


def _series_result(name: str, series: NDArray[np.int64], config: EvalConfig) -> AberrationResult:
    if name == "ears_c1":
        return ears_c1(series, threshold=config.ears_c12_threshold)
    if name == "ears_c2":
        return ears_c2(series, threshold=config.ears_c12_threshold)
    if name == "ears_c3":
        return ears_c3(series, threshold=config.ears_c3_threshold)
    if name == "cusum":
        return poisson_cusum(series, baseline_days=28, h=config.cusum_h)
    return seasonal_glm(series, baseline_weeks=8, guard_days=7, alpha=config.glm_alpha)


def _alarms(
    scenario: Scenario, config: EvalConfig, seed: int, methods: tuple[str, ...]
) -> dict[str, list[tuple[int, NDArray[np.int64]]]]:
    """Per method, the evaluated days' alarms as (day, cells the alarm covers)."""
    counts = scenario.counts
    n_days = counts.shape[0]
    first_eval = n_days - config.eval_days
    community = _community_of(config)
    out: dict[str, list[tuple[int, NDArray[np.int64]]]] = {m: [] for m in METHODS}
    for c in range(int(community.max()) + 1):
        members = np.flatnonzero(community == c)
        series = counts[:, members].sum(axis=1)
        for name in (m for m in SERIES_METHODS if m in methods):
            alarm = _series_result(name, series, config).alarm
            out[name] += [
                (int(d), members) for d in np.flatnonzero(alarm[first_eval:]) + first_eval
            ]
    coords = _coords(config)
    for day in range(first_eval, n_days) if "scan" in methods else ():
        start = day - config.scan_lookback_days + 1
        window = counts[start : day + 1]
        d_idx, cell = np.nonzero(window)
        reps = window[d_idx, cell]
        result = space_time_permutation_scan(
            coords,
            np.repeat(cell, reps),
            np.repeat(d_idx, reps),
            analysis_day=config.scan_lookback_days - 1,
            max_window_days=config.scan_max_window_days,
            replications=config.scan_replications,
            seed=seed + day,
        )
        for cluster in result.clusters:
            if cluster.p_value <= config.scan_max_p:
                out["scan"].append((day, np.asarray(cluster.locations, dtype=np.int64)))
    return out


def nominal_per_year(method: str, config: EvalConfig) -> float | None:
    """False alarms a year the method's own level promises, where it promises one."""
    if method == "scan":
        return 365.0 * config.scan_max_p
    if method == "glm":  # one test a day in each community, at level glm_alpha
        communities = (config.cells_per_side // config.community_cells) ** 2
        return 365.0 * communities * config.glm_alpha
    return None


def evaluate(
    config: EvalConfig,
    *,
    plant: bool = True,
    methods: tuple[str, ...] = METHODS,
    progress: Callable[[int, int], None] | None = None,
) -> list[MethodScore]:
    """Score every method over ``config.scenarios`` scenarios (with or without outbreaks)."""
    config.check()
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise ValueError(f"unknown method {unknown[0]!r}")
    rng = np.random.default_rng(config.seed)
    scores = {m: MethodScore(m, nominal_per_year=nominal_per_year(m, config)) for m in methods}
    for i in range(config.scenarios):
        scenario = draw_scenario(config, rng, plant=plant)
        alarms = _alarms(scenario, config, seed=config.seed * 100_003 + i * 1_009, methods=methods)
        ob = scenario.outbreak
        for m in methods:
            score = scores[m]
            score.days += config.eval_days
            first_hit: int | None = None
            false_days: set[int] = set()
            for day, cells in alarms[m]:
                on_outbreak = (
                    ob is not None
                    and ob.first_day <= day < ob.first_day + ob.days
                    and bool(np.intersect1d(cells, ob.cells).size)
                )
                if on_outbreak and ob is not None:
                    first_hit = day if first_hit is None else min(first_hit, day)
                elif m == "scan":  # the scan's level is per analysis (day), not per cluster
                    false_days.add(day)
                else:
                    score.false_alarms += 1
            score.false_alarms += len(false_days)
            if ob is not None:
                score.outbreaks += 1
                tally = score.by_size.setdefault(ob.size, [0, 0])
                tally[1] += 1
                if first_hit is not None:
                    score.detected += 1
                    score.delays.append(first_hit - ob.first_day)
                    tally[0] += 1
        if progress is not None:
            progress(i + 1, config.scenarios)
    return [scores[m] for m in methods]


def markdown_table(scores: list[MethodScore]) -> str:
    """The docs table: one row per method."""

    def fmt(value: float | None, digits: int = 2) -> str:
        return "–" if value is None or math.isnan(value) else f"{value:.{digits}f}"

    sizes = sorted({s for score in scores for s in score.by_size})
    head = ["method", "detection probability", "median delay (days)", "false alarms / year"]
    head += ["nominal / year"] + [f"P(detect), {s} cases" for s in sizes]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for score in scores:
        cells = [
            score.method,
            fmt(score.detection_probability),
            fmt(score.median_delay, 1),
            fmt(score.false_alarms_per_year, 1),
            fmt(score.nominal_per_year, 1),
        ]
        for s in sizes:
            hit, total = score.by_size.get(s, [0, 0])
            cells.append(fmt(hit / total if total else float("nan")))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
