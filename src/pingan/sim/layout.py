"""The whole synthetic city in memory, before anything is written.

Pure computation from (scale, seed, centre): the outline, population, org
tree, roads, sites, compounds, planted clusters and the plan for the
incident stream. Each part draws from its own random stream.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from shapely.geometry.base import BaseGeometry

from pingan.org.levels import Level
from pingan.sim.boundaries import UnitDraft, build_org_tree
from pingan.sim.clusters import ClusterPlan, draw_planted, expected_totals, plan_clusters
from pingan.sim.hawkes import Events, SpatialSampler, StreamPlan
from pingan.sim.incident_mix import TYPE_MODELS, column
from pingan.sim.names import NamePool
from pingan.sim.population import PopulationModel, build_population, city_outline
from pingan.sim.rng import stream
from pingan.sim.roads import RoadNetwork, build_roads
from pingan.sim.scales import Scale
from pingan.sim.sites import CompoundDraft, SiteDraft, build_compounds, build_sites
from pingan.sim.spatial import type_weights

# Generated points stay this far inside the outline, so that rounding in the
# lon/lat conversion can never put one outside every grid.
INNER_MARGIN_M = 2.0
CHUNK_DAYS = 7


@dataclass(frozen=True)
class CityLayout:
    scale: Scale
    seed: int
    model: PopulationModel
    units: list[UnitDraft]
    roads: RoadNetwork
    sites: list[SiteDraft]
    compounds: list[CompoundDraft]
    clusters: list[ClusterPlan]
    planted: Events
    samplers: list[SpatialSampler]
    inner: BaseGeometry
    stream_plan: StreamPlan

    @property
    def grids(self) -> list[int]:
        return [i for i, u in enumerate(self.units) if u.level == Level.GRID]


def lay_out(
    scale: Scale, seed: int, centre: tuple[float, float], *, days: int, start_weekday: int
) -> CityLayout:
    outline = city_outline(stream(seed, "outline"), centre, scale)
    model = build_population(stream(seed, "population"), scale, outline, centre)
    names = NamePool(stream(seed, "names"))
    units = build_org_tree(stream(seed, "org"), scale, model, names)
    roads = build_roads(stream(seed, "roads"), scale, outline, centre, names)
    districts = [u for u in units if u.level == Level.DISTRICT]
    sites = build_sites(stream(seed, "sites"), scale, model, roads, districts, names)
    grids = [i for i, u in enumerate(units) if u.level == Level.GRID]
    compounds = build_compounds(
        stream(seed, "compounds"), units, grids, model, roads.lattice_angle, names
    )

    inner = outline.buffer(-INNER_MARGIN_M)
    weights = type_weights(model.raster, sites, roads)
    samplers_by_where = {
        where: SpatialSampler(model.raster, w, inner) for where, w in weights.items()
    }
    samplers = [samplers_by_where[m.where] for m in TYPE_MODELS]

    # Scale the year to the period, then leave room for follow-ons:
    # a type with branching ratio n has 1 / (1 - n) events per background event.
    expected = expected_totals(scale.incidents_per_year * days / 365.0)
    background = expected * (1.0 - column("branching"))
    clusters = plan_clusters(stream(seed, "clusters"), scale, samplers, inner, expected, days)
    planted = draw_planted(stream(seed, "planted"), clusters, start_weekday)
    plan = StreamPlan(
        days=days,
        chunk_days=CHUNK_DAYS,
        start_weekday=start_weekday,
        background_total=np.asarray(background, dtype=np.float64),
    )
    return CityLayout(
        scale=scale,
        seed=seed,
        model=model,
        units=units,
        roads=roads,
        sites=sites,
        compounds=compounds,
        clusters=clusters,
        planted=planted,
        samplers=samplers,
        inner=inner,
        stream_plan=plan,
    )
