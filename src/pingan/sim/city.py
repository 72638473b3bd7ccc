"""Building the synthetic city into a database.

The layout (org tree, roads, sites, compounds, planted clusters) goes in
one transaction; the year of incidents then streams in through the same
``store`` as any other intake, one transaction per ``chunk_rows`` rows, so a
10-million-incident year never sits in memory or in one transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy import Engine, update

from pingan.kit import meta
from pingan.kit.db import get_engine, session_scope
from pingan.kit.errors import ValidationFailed
from pingan.kit.geo import Projector, utm_crs_for
from pingan.org.levels import LEVEL_ORDER
from pingan.org.principal import Principal
from pingan.settings import get_settings
from pingan.sim.hawkes import stream_events
from pingan.sim.layout import CityLayout, lay_out
from pingan.sim.layout_writer import refuse_if_city, write_layout
from pingan.sim.models import PlantedCluster
from pingan.sim.rng import stream
from pingan.sim.scales import get_scale
from pingan.sim.writer import IncidentWriter

DEFAULT_CENTRE = (120.15, 30.28)
DEFAULT_START = dt.date(2026, 1, 1)


def recent_start(days: int) -> dt.date:
    """The first day of the ``days`` that end yesterday in the city's zone.

    The demo uses it so "the last 7 days" holds incidents whenever it is run;
    the generator itself stays deterministic for a given start.
    """
    today = dt.datetime.now(ZoneInfo(get_settings().city_timezone)).date()
    return today - dt.timedelta(days=days)


META_KEY = "sim.city"


@dataclass(frozen=True)
class CitySummary:
    scale: str
    seed: int
    crs: str
    starts_at: dt.datetime
    days: int
    area_km2: float
    population: int
    households: int
    units: dict[str, int]
    road_nodes: int
    road_edges: int
    road_km: float
    places: int
    compounds: int
    planted_clusters: int
    incidents: int
    rejected: int
    seconds: float
    planted_events: dict[str, int] = field(default_factory=dict)


def build_city(
    engine: Engine | None = None,
    *,
    scale: str = "demo",
    seed: int = 7,
    centre: tuple[float, float] = DEFAULT_CENTRE,
    start: dt.date | dt.datetime = DEFAULT_START,
    days: int = 365,
    progress: bool = False,
    chunk_rows: int = 50_000,
) -> CitySummary:
    """Generate the city for (scale, seed) and write it into an empty database.

    ``centre`` is (lon, lat); ``start`` a local date (midnight in the city's
    zone) or an aware datetime; incidents cover ``days`` days from it.
    Refuses (``Conflict``) if the database already holds org units.
    """
    began = time.perf_counter()
    spec = get_scale(scale)
    if days < 28:
        raise ValidationFailed("the period must be at least 28 days", field="days")
    zone = ZoneInfo(get_settings().city_timezone)
    starts_at = _local_start(start, zone)
    engine = engine or get_engine()
    actor = Principal.system("sim")
    try:
        crs = utm_crs_for(*centre)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="centre") from None
    projector = Projector(crs)
    cx, cy = projector.to_metric(np.array([centre[0]]), np.array([centre[1]]))
    with session_scope(engine) as session:
        refuse_if_city(session)  # before minutes of work, not after

    with _progress(progress) as bar:
        task = bar.add_task("Laying out the city", total=None)
        layout = lay_out(
            spec,
            seed,
            (float(cx[0]), float(cy[0])),
            days=days,
            start_weekday=starts_at.astimezone(zone).weekday(),
        )
        bar.update(task, description="Writing the org tree, roads and sites")
        recipe = {
            "scale": scale,
            "seed": seed,
            "centre": list(centre),
            "starts_at": starts_at.isoformat(),
            "days": days,
        }
        with session_scope(engine) as session:
            cluster_ids = write_layout(session, layout, projector, crs, starts_at, actor)
            meta.set_value(session, META_KEY, json.dumps(recipe))
        bar.update(task, total=1, completed=1, description="City laid out")

        incidents = bar.add_task("Incidents", total=days)
        writer = IncidentWriter(engine, layout, projector, starts_at, actor, chunk_rows)
        chunks = stream_events(
            stream(seed, "hawkes"),
            layout.stream_plan,
            layout.samplers,
            layout.inner,
            layout.planted,
        )
        for _first, end, events in chunks:
            writer.add(events)
            bar.update(incidents, completed=end, description=f"Incidents: {writer.stored:,}")
        writer.finish()
        bar.update(incidents, description=f"Incidents: {writer.stored:,}")

    planted = writer.planted_counts(len(layout.clusters))
    drawn = np.bincount(layout.planted.cluster, minlength=len(layout.clusters))
    if not np.array_equal(planted, drawn):
        _correct_planted_counts(engine, cluster_ids, planted)
    city = layout.units[0]
    return CitySummary(
        scale=scale,
        seed=seed,
        crs=crs,
        starts_at=starts_at.astimezone(zone),
        days=days,
        area_km2=float(city.geom.area) / 1e6,
        population=city.population,
        households=city.households,
        units={lv.value: sum(u.level == lv for u in layout.units) for lv in LEVEL_ORDER},
        road_nodes=len(layout.roads.node_x),
        road_edges=len(layout.roads.edge_from),
        road_km=float(layout.roads.edge_length.sum()) / 1000,
        places=len(layout.sites),
        compounds=len(layout.compounds),
        planted_clusters=len(layout.clusters),
        incidents=writer.stored,
        rejected=writer.rejected,
        seconds=time.perf_counter() - began,
        planted_events=_sum_by_kind(layout, planted),
    )


def _local_start(start: dt.date | dt.datetime, zone: ZoneInfo) -> dt.datetime:
    if isinstance(start, dt.datetime):
        if start.tzinfo is None:
            raise ValidationFailed("the start time needs a time zone", field="start")
        return start.astimezone(dt.UTC)
    return dt.datetime(start.year, start.month, start.day, tzinfo=zone).astimezone(dt.UTC)


def _progress(enabled: bool) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        disable=not enabled,
    )


def _correct_planted_counts(engine: Engine, ids: list[int], counts: NDArray[np.int64]) -> None:
    with session_scope(engine) as session:
        for cluster_id, n in zip(ids, counts.tolist(), strict=True):
            session.execute(
                update(PlantedCluster).where(PlantedCluster.id == cluster_id).values(n_events=n)
            )


def _sum_by_kind(layout: CityLayout, counts: NDArray[np.int64]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for plan, n in zip(layout.clusters, counts.tolist(), strict=True):
        totals[plan.kind] = totals.get(plan.kind, 0) + int(n)
    return totals
