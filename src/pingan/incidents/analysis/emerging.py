"""Emerging hotspots: Gi* per location and time step, the trend, and the category.

Time steps are whole steps counted back from the window's end (``until``, by
default the end of today in the city's zone), so the last step is as long as
the others and ends where the data end. A ``since`` that does not fall on a
step boundary is moved forward to the first whole step.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from pingan.analytics.binning import bin_space_time
from pingan.analytics.emerging import CATEGORY_NAMES, emerging_hotspots
from pingan.incidents.analysis.geojson import column, feature_collection, location_features
from pingan.incidents.analysis.params import MAX_CUBE_BINS, EmergingParams
from pingan.incidents.analysis.progress import Progress, silent
from pingan.incidents.analysis.selection import utc_window
from pingan.incidents.analysis.study import Study, load, prepare_study
from pingan.incidents.analysis.windows import STEP_SECONDS, end_of_today, iso
from pingan.kit.errors import ValidationFailed
from pingan.org.principal import Principal


@dataclass(frozen=True)
class Steps:
    since: dt.datetime
    until: dt.datetime
    count: int
    seconds: int

    def starts(self) -> list[dt.datetime]:
        return [self.since + dt.timedelta(seconds=i * self.seconds) for i in range(self.count)]


def time_steps(params: EmergingParams) -> Steps:
    since, until = utc_window(params)
    size = STEP_SECONDS[params.step] * params.step_length
    until = until or end_of_today()
    if since is None:
        count = params.steps
    else:
        count = int((until - since).total_seconds() // size)
        if count < 3:
            raise ValidationFailed(
                f"the window holds {count} whole time steps of {params.step_length} "
                f"{params.step}(s); emerging hotspots need at least 3",
                field="since",
            )
    if params.time_window >= count:
        raise ValidationFailed(
            f"time_window must be below the {count} time steps", field="time_window"
        )
    return Steps(until - dt.timedelta(seconds=count * size), until, count, size)


@dataclass(frozen=True)
class Prepared:
    study: Study
    steps: Steps


def prepare(session: Session, params: EmergingParams, *, actor: Principal) -> Prepared:
    steps = time_steps(params)
    study = prepare_study(
        session,
        params,
        unit=params.unit,
        cell_size_m=params.cell_size_m,
        h3_resolution=params.h3_resolution,
        actor=actor,
        since=steps.since,
        until=steps.until,
    )
    if study.locations is not None:
        _check_bins(len(study.locations), steps.count)
    return Prepared(study, steps)


def _check_bins(locations: int, steps: int) -> None:
    if locations * steps > MAX_CUBE_BINS:
        raise ValidationFailed(
            f"{locations:,} locations x {steps:,} steps is more than {MAX_CUBE_BINS:,} bins: "
            "use larger cells, longer steps or a shorter window",
            field="cell_size_m",
        )


def emerging(
    session: Session, params: EmergingParams, *, actor: Principal, progress: Progress = silent
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection with each location's category and trend."""
    prepared = prepare(session, params, actor=actor)
    steps = prepared.steps
    progress(0.1, "loading incidents")
    cube, locations = load(session, prepared.study, cell_size_m=params.cell_size_m, actor=actor)
    _check_bins(len(locations), steps.count)
    where = locations.locate(cube)
    step = np.floor((cube.t - steps.since.timestamp()) / steps.seconds).astype(np.int64)
    counts = bin_space_time(where, step, len(locations), steps.count)
    weights = locations.weights(params)
    progress(0.4, f"Gi* on {len(locations):,} locations x {steps.count} steps")
    result = emerging_hotspots(
        counts,
        weights,
        time_window=params.time_window,
        alpha=params.alpha,
        fdr=params.fdr,
        trend_alpha=params.trend_alpha,
    )
    names = result.category_names()
    props = {
        "count": counts.sum(axis=1).astype(np.int64).tolist(),
        "category": result.category.astype(np.int64).tolist(),
        "category_name": names,
        "trend_z": column(result.trend_z),
        "trend_p": column(result.trend_p),
        "hot_steps": result.hot.sum(axis=1).astype(np.int64).tolist(),
        "cold_steps": result.cold.sum(axis=1).astype(np.int64).tolist(),
        "last_z": column(result.z[:, -1]),
    }
    summary = {
        "unit": params.unit,
        "cell_size_m": params.cell_size_m if params.unit == "cell" else None,
        "h3_resolution": params.h3_resolution if params.unit == "h3" else None,
        "n_locations": len(locations),
        "n_events": len(cube),
        "steps": {
            "step": params.step,
            "step_length": params.step_length,
            "count": steps.count,
            "since": iso(steps.since),
            "until": iso(steps.until),
            "starts": [iso(s) for s in steps.starts()],
            "events": counts.sum(axis=0).astype(np.int64).tolist(),
        },
        "categories": {
            CATEGORY_NAMES[k]: v for k, v in sorted(Counter(result.category.tolist()).items())
        },
        "selection": prepared.study.selection.described,
    }
    features = location_features(locations, prepared.study.selection.projector, props)
    progress(1.0, "done")
    return feature_collection(features, summary=summary)
