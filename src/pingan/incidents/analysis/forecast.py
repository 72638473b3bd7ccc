"""Next-week hotspot forecasts per cell, and their evaluation on held-out weeks.

The forecast origin is ``until`` (default: now); the history before it feeds
the model (``analytics.forecast``). The answer is the top share of cells by
expected count, as GeoJSON squares. The evaluation repeats the forecast at
each of the last ``weeks`` weekly origins, fitted only on what came before,
and scores it on the week that followed: hit rate and PAI at 1, 5 and 10 %
of the area, for every method, next to the naive baseline.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import shapely
from pydantic import Field
from sqlalchemy.orm import Session

from pingan.analytics.forecast import CellGrid, fit_etas, hit_rate, kde, naive, pai
from pingan.incidents.analysis.geojson import clean
from pingan.incidents.analysis.params import Filters
from pingan.incidents.analysis.selection import Selection, resolve, utc_window
from pingan.incidents.cube import load_cube
from pingan.kit.db import utcnow
from pingan.kit.errors import ValidationFailed
from pingan.org.principal import Principal

Method = Literal["etas", "kde", "naive"]
METHODS: tuple[Method, ...] = ("etas", "kde", "naive")
AREAS = (0.01, 0.05, 0.10)
DAY_S = 86_400.0
MAX_CELLS = 400_000


class ForecastParams(Filters):
    method: Method = "etas"
    horizon_days: int = Field(7, ge=1, le=28, description="Days ahead of the origin (until)")
    history_days: int = Field(
        180, ge=28, le=730, description="Days of history before the origin used to fit"
    )
    cell_size_m: float = Field(250.0, ge=50, le=5000)
    top_share: float = Field(0.05, gt=0, le=0.5, description="Share of cells returned as hot")
    kde_weeks: int = Field(8, ge=1, le=52, description="Weeks of history for the kde method")
    bandwidth_m: float = Field(300.0, ge=10, le=10_000)


class EvaluationParams(ForecastParams):
    weeks: int = Field(8, ge=1, le=52, description="Held-out weeks, the most recent ones")


def _setup(
    session: Session, params: ForecastParams, actor: Principal, since: dt.datetime,
    until: dt.datetime,
) -> tuple[Selection, CellGrid, npt.NDArray[np.int64], npt.NDArray[np.float64],
           npt.NDArray[np.bool_]]:  # fmt: skip
    """Cells of the study area and, per incident since ``since``, its cell and day offset."""
    selection = resolve(session, params, actor=actor, since=since, until=until)
    cube = load_cube(session, selection.cube_filter, actor=actor)
    if selection.area_metric is not None:
        x0, y0, x1, y1 = selection.area_metric.bounds
    elif len(cube):
        x0, y0, x1, y1 = cube.x.min(), cube.y.min(), cube.x.max(), cube.y.max()
    else:
        raise ValidationFailed("no incidents and no study area to forecast over", field="since")
    grid = CellGrid.covering(np.array([x0, x1]), np.array([y0, y1]), params.cell_size_m)
    if grid.n > MAX_CELLS:
        raise ValidationFailed(
            f"{grid.n:,} cells is more than {MAX_CELLS:,}: use larger cells or a smaller area",
            field="cell_size_m",
        )
    cx, cy = grid.centres()
    if selection.area_metric is not None:
        inside = shapely.contains_xy(selection.area_metric, cx, cy)
    else:
        inside = np.ones(grid.n, dtype=bool)
    cells = grid.cell_of(cube.x, cube.y)
    days = (cube.t - until.timestamp()) / DAY_S  # the origin is day 0
    return selection, grid, cells, days, inside


def _predict(
    method: Method, params: ForecastParams, grid: CellGrid, cells: npt.NDArray[np.int64],
    days: npt.NDArray[np.float64], origin: float,
) -> tuple[npt.NDArray[np.float64], dict[str, Any]]:  # fmt: skip
    horizon = float(params.horizon_days)
    if method == "naive":
        return naive(cells, days, grid, origin, horizon), {}
    if method == "kde":
        surface = kde(cells, days, grid, origin, horizon, weeks=params.kde_weeks,
                      bandwidth_m=params.bandwidth_m)  # fmt: skip
        return surface, {}
    model = fit_etas(cells, days, grid.n, t_start=origin - params.history_days, t_end=origin)
    fitted = {"theta": model.theta, "omega_per_day": model.omega,
              "iterations": model.iterations, "converged": model.converged}  # fmt: skip
    return model.forecast(cells, days, origin, horizon), fitted


def forecast(
    session: Session, params: ForecastParams, *, actor: Principal, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The top cells by expected incidents over the horizon, as a GeoJSON FeatureCollection."""
    _, until = utc_window(params)
    until = until or now or utcnow()
    since = until - dt.timedelta(days=params.history_days)
    selection, grid, cells, days, inside = _setup(session, params, actor, since, until)
    expected, fitted = _predict(params.method, params, grid, cells, days, 0.0)
    expected = np.where(inside, expected, -np.inf)
    k = max(1, round(params.top_share * int(inside.sum())))
    top = np.lexsort((np.arange(grid.n), -expected))[:k]
    top = top[np.isfinite(expected[top])]
    rows, cols = np.divmod(top, grid.nx)
    x0 = grid.x0 + cols * grid.size
    y0 = grid.y0 + rows * grid.size
    squares = shapely.box(x0, y0, x0 + grid.size, y0 + grid.size)
    features = []
    for rank, (cell, square) in enumerate(zip(top.tolist(), squares, strict=True), start=1):
        lonlat = selection.projector.geometry_to_lonlat(square)
        features.append({
            "type": "Feature",
            "id": int(cell),
            "geometry": shapely.geometry.mapping(lonlat),
            "properties": {"rank": rank, "expected": clean(float(expected[cell]), 4)},
        })  # fmt: skip
    return {
        "type": "FeatureCollection",
        "features": features,
        "summary": {
            "method": params.method,
            "origin": until.isoformat(),
            "horizon_days": params.horizon_days,
            "history_days": params.history_days,
            "cells": int(inside.sum()),
            "returned": len(features),
            "events_in_history": int(((days < 0) & (cells >= 0)).sum()),
            "model": fitted,
            "selection": selection.described,
        },
    }


def evaluate(
    session: Session,
    params: ForecastParams,
    *,
    actor: Principal,
    weeks: int = 8,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Hit rate and PAI of every method over the last ``weeks`` held-out weeks."""
    if not 1 <= weeks <= 52:
        raise ValidationFailed("weeks is 1 to 52", field="weeks")
    _, until = utc_window(params)
    until = until or now or utcnow()
    step = float(params.horizon_days)
    since = until - dt.timedelta(days=params.history_days + step * weeks)
    _, grid, cells, days, inside = _setup(session, params, actor, since, until)
    scores: dict[str, dict[str, list[float]]] = {
        m: {f"{kind}@{int(a * 100)}%": [] for a in AREAS for kind in ("hit", "pai")}
        for m in METHODS
    }
    # Score over the study area's cells only: an area share is a share of the area.
    position = np.full(grid.n, -1, dtype=np.int64)
    position[inside] = np.arange(int(inside.sum()))
    held_counts = []
    for week in range(weeks, 0, -1):
        origin = -step * week
        held = cells[(days >= origin) & (days < origin + step)]
        held = position[held[held >= 0]]
        held_counts.append(len(held))
        if len(held) == 0:
            continue
        for method in METHODS:
            expected, _ = _predict(method, params, grid, cells, days, origin)
            for a in AREAS:
                label = f"{int(a * 100)}%"
                scores[method][f"hit@{label}"].append(hit_rate(expected[inside], held, a))
                scores[method][f"pai@{label}"].append(pai(expected[inside], held, a))
    table = {
        m: {key: (float(np.mean(v)) if v else None) for key, v in per.items()}
        for m, per in scores.items()
    }
    return {
        "weeks": weeks,
        "horizon_days": params.horizon_days,
        "cell_size_m": params.cell_size_m,
        "cells": int(inside.sum()),
        "held_out_events": held_counts,
        "mean": table,
    }
