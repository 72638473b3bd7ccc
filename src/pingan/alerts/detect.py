"""Daily early-warning run: the event cube -> scan and EARS signals -> alerts.

For the analysis day (a calendar day in the city's zone) it pulls the
incidents of the last ``lookback_days`` days (optionally of some types) and:

- runs the prospective space-time permutation scan over grid units (each
  grid's centroid is the mean position of its incidents in the lookback),
  one signal per cluster with ``p <= max_p``;
- runs EARS C3 on each community's daily count series; a C3 alarm on the
  analysis day is a signal for that community; ``methods`` (comma-separated)
  picks among ``scan``, ``ears_c1``, ``ears_c2``, ``ears_c3``, ``cusum``
  (Poisson CUSUM, threshold ``cusum_h``) and ``glm`` (seasonal quasi-Poisson
  GLM with day-of-week effects, level ``glm_alpha``), all on the same series;
- runs the Knox near-repeat test (``alerts.nearrepeat``); when near repeats
  are significant, the grids of the day's incidents are flagged ahead.

Each signal is recorded through ``service.record_signal`` (so it merges into
an open alert for the same area and window).
"""

from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.alerts import webhooks_models as _webhooks  # noqa: F401  (issue 4: outbox hook)
from pingan.alerts.nearrepeat import near_repeat_signals
from pingan.alerts.service import Signal, record_signal
from pingan.analytics.aberration import (
    AberrationResult,
    ears_c1,
    ears_c2,
    ears_c3,
    poisson_cusum,
    seasonal_glm,
)
from pingan.analytics.scan import space_time_permutation_scan
from pingan.incidents.cube import CubeFilter, load_cube
from pingan.incidents.service import city_zone
from pingan.kit.errors import ValidationFailed
from pingan.org.levels import Level
from pingan.org.models import OrgUnit
from pingan.org.principal import Principal

# Detector name in ``DailyParams.methods`` -> the alert's method name.
DAILY_METHODS = {
    "scan": "scan.space_time_permutation",
    "ears_c1": "ears.c1",
    "ears_c2": "ears.c2",
    "ears_c3": "ears.c3",
    "cusum": "cusum.poisson",
    "glm": "glm.seasonal",
}
GLM_GUARD_DAYS = 7
MAX_RADIUS_KM_DEFAULT = 3.0
MAX_RADIUS_KM_LIMIT = 100.0
CUSUM_BASELINE_DAYS = 28


@dataclass(frozen=True)
class DailyParams:
    day: dt.date
    incident_types: tuple[str, ...] = ()
    lookback_days: int = 60
    max_window_days: int = 7
    max_case_fraction: float = 0.5
    # The scan's circles stop at this radius (SaTScan's maximum spatial cluster size
    # by distance; 0 = only the case share bounds them). An early warning looks for a
    # neighbourhood, not half the city, and the scan's cost grows with the circles:
    # at 10,000 grids the share alone let circles reach thousands of grids.
    max_radius_km: float = MAX_RADIUS_KM_DEFAULT
    replications: int = 999
    seed: int = 0
    max_p: float = 0.01
    ears_threshold: float = 2.0
    # Replication blocks on this many threads (the result is the same for any number):
    # by default every core, or a city-scale daily run takes many times longer.
    workers: int = os.cpu_count() or 1
    near_repeat_metres: float = 200.0  # 0 turns near-repeat signals off
    near_repeat_days: int = 7
    # Which detectors run (issue 4); a comma-separated string so job params stay plain JSON.
    methods: str = "scan,ears_c3"
    ears_c12_threshold: float = 3.0  # C1 and C2 (CDC's default); C3 uses ears_threshold
    cusum_h: float = 4.0
    glm_alpha: float = 0.01
    # Hourly schedules (issue 4): the days are the 24-hour spans ending at this hour
    # (city time) of ``day``; 24 is midnight at the end of ``day``, i.e. calendar days.
    end_hour: int = 24

    def method_list(self) -> tuple[str, ...]:
        return tuple(m.strip() for m in self.methods.split(",") if m.strip())

    def check(self) -> None:
        picked = self.method_list()
        unknown = sorted(set(picked) - set(DAILY_METHODS))
        if unknown or not picked:
            known = ", ".join(DAILY_METHODS)
            raise ValidationFailed(
                f"unknown method {unknown[0] if unknown else '(none)'!r} (known: {known})",
                field="methods",
            )
        if not 0 < self.cusum_h <= 50 or not 0 < self.glm_alpha < 0.5:
            raise ValidationFailed(
                "cusum_h must be in (0, 50], glm_alpha in (0, 0.5)", field="cusum_h"
            )
        if "cusum" in picked and self.lookback_days < CUSUM_BASELINE_DAYS + 3:
            raise ValidationFailed("cusum needs lookback_days of at least 31", field="methods")
        if "glm" in picked and self.lookback_days < 3 * 7 + GLM_GUARD_DAYS + 1:
            raise ValidationFailed("glm needs lookback_days of at least 29", field="methods")
        if not 14 <= self.lookback_days <= 730:
            raise ValidationFailed("lookback_days must be 14..730", field="lookback_days")
        if not 1 <= self.max_window_days <= min(30, self.lookback_days // 2):
            raise ValidationFailed("max_window_days must be 1..30", field="max_window_days")
        if not 0 < self.max_case_fraction <= 0.5:
            raise ValidationFailed(
                "max_case_fraction must be in (0, 0.5]: a cluster holds at most half the cases",
                field="max_case_fraction",
            )
        if not 0 <= self.max_radius_km <= MAX_RADIUS_KM_LIMIT:
            raise ValidationFailed(
                f"max_radius_km must be 0..{MAX_RADIUS_KM_LIMIT:g} (0 = no distance limit)",
                field="max_radius_km",
            )
        if not 9 <= self.replications <= 9999:
            raise ValidationFailed("replications must be 9..9999", field="replications")
        if not 1 <= self.end_hour <= 24:
            raise ValidationFailed("end_hour must be 1..24", field="end_hour")
        if not 0 < self.max_p < 1:
            raise ValidationFailed("max_p must be in (0, 1)", field="max_p")
        if not 0 <= self.near_repeat_metres <= 5000 or not 1 <= self.near_repeat_days <= 60:
            raise ValidationFailed(
                "near_repeat_metres must be 0..5000 and near_repeat_days 1..60",
                field="near_repeat_metres",
            )


def _ancestors(session: Session, grid_ids: list[int]) -> dict[int, OrgUnit]:
    units = session.scalars(select(OrgUnit).where(OrgUnit.id.in_(grid_ids))).all()
    return {u.id: u for u in units}


def _common_unit(paths: list[str]) -> int:
    # Smallest org unit holding every grid: the longest common path prefix.
    parts = [p.strip("/").split("/") for p in paths]
    common: list[str] = []
    for level in zip(*parts, strict=False):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    return int(common[-1])


def run_daily(
    session: Session, params: DailyParams, *, actor: Principal, scheduler: str | None = None
) -> dict[str, Any]:
    """Detect for one day and record the signals; returns a summary.

    ``scheduler``: a Dask scheduler address for the scan's replications (set by
    the operator, never taken from a request).
    """
    params.check()
    zone = city_zone()
    # Day slot i of the lookback is [end - (lookback - i) days, end - (lookback - i - 1) days).
    early = dt.timedelta(hours=24 - params.end_hour)
    start_local = (
        dt.datetime.combine(
            params.day - dt.timedelta(days=params.lookback_days - 1), dt.time(), zone
        )
        - early
    )
    end_local = dt.datetime.combine(params.day + dt.timedelta(days=1), dt.time(), zone) - early
    cube = load_cube(
        session,
        CubeFilter(
            since=start_local.astimezone(dt.UTC),
            until=end_local.astimezone(dt.UTC),
            types=params.incident_types,
        ),
        actor=actor,
    )
    keep = cube.grid_id > 0
    grid = cube.grid_id[keep].astype(np.int64)
    # Day index 0 .. lookback-1 from the start (fixed offset per run is enough here).
    day_idx = np.floor((cube.t[keep] - start_local.timestamp()) / 86400.0).astype(np.int64)
    summary: dict[str, Any] = {"day": params.day.isoformat(), "incidents": int(grid.size)}
    if grid.size == 0:
        return {**summary, "created": 0, "merged": 0, "signals": []}
    grid_ids, loc = np.unique(grid, return_inverse=True)
    units = _ancestors(session, [int(g) for g in grid_ids])
    picked = params.method_list()
    signals: list[Signal] = []
    if "scan" in picked:
        signals += _scan_signals(
            params, cube.x[keep], cube.y[keep], grid_ids, loc, day_idx, units, scheduler
        )
    if set(picked) - {"scan"}:
        signals += _ears_signals(params, grid_ids, loc, day_idx, units)
    if params.near_repeat_metres > 0:
        signals += near_repeat_signals(
            x=cube.x[keep], y=cube.y[keep], day_idx=day_idx, grid=grid,
            analysis_index=params.lookback_days - 1, day=params.day,
            metres=params.near_repeat_metres, days=params.near_repeat_days, max_p=0.05,
            permutations=min(params.replications, 199), seed=params.seed,
            incident_types=params.incident_types,
        )  # fmt: skip
    created = merged = 0
    out = []
    for signal in signals:
        alert, is_new = record_signal(session, signal=signal, actor=actor)
        created += is_new
        merged += not is_new
        out.append({"alert_id": alert.id, "method": signal.method, "new": is_new})
    return {**summary, "created": created, "merged": merged, "signals": out}


def _scan_signals(
    params: DailyParams,
    x: np.ndarray,
    y: np.ndarray,
    grid_ids: np.ndarray,
    loc: np.ndarray,
    day_idx: np.ndarray,
    units: dict[int, OrgUnit],
    scheduler: str | None = None,
) -> list[Signal]:
    n_loc = grid_ids.size
    counts = np.bincount(loc, minlength=n_loc)
    centroids = np.column_stack(
        (
            np.bincount(loc, x, minlength=n_loc) / counts,
            np.bincount(loc, y, minlength=n_loc) / counts,
        )
    )
    result = space_time_permutation_scan(
        centroids,
        loc,
        day_idx,
        analysis_day=params.lookback_days - 1,
        max_window_days=params.max_window_days,
        max_case_fraction=params.max_case_fraction,
        # Centroids are projected metres.
        max_radius=params.max_radius_km * 1000.0 if params.max_radius_km > 0 else None,
        replications=params.replications,
        seed=params.seed,
        workers=params.workers,
        scheduler=scheduler or None,
    )
    out = []
    first = params.day - dt.timedelta(days=params.lookback_days - 1)
    for cluster in result.clusters:
        if cluster.p_value > params.max_p:
            continue
        members = [int(grid_ids[i]) for i in cluster.locations]
        paths = [units[g].path for g in members if g in units]
        if not paths:
            continue
        out.append(
            Signal(
                method="scan.space_time_permutation",
                org_unit_id=_common_unit(paths),
                grid_ids=tuple(members),
                window_start=first + dt.timedelta(days=cluster.window_start_day),
                window_end=first + dt.timedelta(days=cluster.window_end_day),
                statistic=cluster.llr,
                observed=cluster.observed,
                expected=cluster.expected,
                p_value=cluster.p_value,
                recurrence_days=cluster.recurrence_days,
                incident_types=params.incident_types,
                extra={
                    "centre_x": float(centroids[cluster.centre, 0]),
                    "centre_y": float(centroids[cluster.centre, 1]),
                    "radius_m": cluster.radius,
                },
            )
        )
    return out


def _ears_signals(
    params: DailyParams,
    grid_ids: np.ndarray,
    loc: np.ndarray,
    day_idx: np.ndarray,
    units: dict[int, OrgUnit],
) -> list[Signal]:
    # Each grid counts towards its community (the path's 4th id: city/district/sub/community).
    by_community: dict[int, list[int]] = defaultdict(list)
    for i, gid in enumerate(grid_ids):
        unit = units.get(int(gid))
        if unit is None:
            continue
        ids = unit.ancestor_ids()
        depth = Level.COMMUNITY.depth
        by_community[ids[depth] if len(ids) > depth else ids[-1]].append(i)
    out = []
    n_days = params.lookback_days
    picked = [m for m in params.method_list() if m != "scan"]
    for community, members in sorted(by_community.items()):
        mask = np.isin(loc, members)
        series = np.bincount(day_idx[mask], minlength=n_days)[:n_days]
        for name in picked:
            result = series_method(name, series, params)
            if not result.alarm[-1]:
                continue
            # C3 sums three days; the others judge the analysis day alone.
            span = 3 if name == "ears_c3" else 1
            out.append(
                Signal(
                    method=DAILY_METHODS[name],
                    org_unit_id=community,
                    grid_ids=(),
                    window_start=params.day - dt.timedelta(days=span - 1),
                    window_end=params.day,
                    statistic=float(result.statistic[-1]),
                    observed=int(series[-span:].sum()),
                    expected=float(span * result.expected[-1]),
                    incident_types=params.incident_types,
                )
            )
    return out


def series_method(name: str, series: np.ndarray, params: DailyParams) -> AberrationResult:
    """One count-series detector as configured in the run parameters."""
    if name == "ears_c1":
        return ears_c1(series, threshold=params.ears_c12_threshold)
    if name == "ears_c2":
        return ears_c2(series, threshold=params.ears_c12_threshold)
    if name == "ears_c3":
        return ears_c3(series, threshold=params.ears_threshold)
    if name == "cusum":
        return poisson_cusum(series, baseline_days=CUSUM_BASELINE_DAYS, h=params.cusum_h)
    if name == "glm":
        weeks = min(8, (series.size - GLM_GUARD_DAYS - 1) // 7)
        return seasonal_glm(
            series, baseline_weeks=weeks, guard_days=GLM_GUARD_DAYS, alpha=params.glm_alpha
        )
    raise ValueError(f"unknown series method {name!r}")
