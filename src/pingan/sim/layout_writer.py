"""Writing the laid-out city (everything but the incidents) through the domains' services."""

from __future__ import annotations

import datetime as dt

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely import LineString
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from pingan.dispatch.service import RoadGraphIn, add_road_graph
from pingan.incidents.models import Source
from pingan.incidents.taxonomy import ensure_types
from pingan.kit import audit
from pingan.kit.errors import Conflict
from pingan.kit.geo import PolygonIndex, Projector
from pingan.org.principal import Principal
from pingan.org.service import UnitSpec, add_units, count_units, set_city_crs
from pingan.places.service import CompoundIn, PlaceIn, add_compounds, add_places
from pingan.sim.layout import CityLayout
from pingan.sim.models import PlantedCluster

SOURCE = Source.SIM.value


def refuse_if_city(session: Session) -> None:
    held = sum(count_units(session).values())
    if held:
        raise Conflict(
            f"the database already holds {held} org units; the synthetic city needs an "
            "empty database (point PINGAN_DATABASE_URL at a new one)"
        )


def _lonlat(projector: Projector, geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    def apply(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        lon, lat = projector.to_lonlat(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return np.asarray(shapely.transform(geoms, apply), dtype=object)


def objects(items: list[object]) -> NDArray[np.object_]:
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def write_layout(
    session: Session,
    layout: CityLayout,
    projector: Projector,
    crs: str,
    starts_at: dt.datetime,
    actor: Principal,
) -> list[int]:
    """Everything but the incidents, in the caller's transaction; returns the cluster ids."""
    refuse_if_city(session)
    ensure_types(session)
    set_city_crs(session, crs)

    units = layout.units
    boundaries = _lonlat(projector, objects([u.geom for u in units]))
    specs = [
        UnitSpec(
            level=u.level,
            code=u.code,
            name_zh=u.name_zh,
            name_en=u.name_en,
            boundary=boundaries[i],
            parent_code=None if u.parent < 0 else units[u.parent].code,
            population=u.population,
            households=u.households,
        )
        for i, u in enumerate(units)
    ]
    unit_ids = [u.id for u in add_units(session, specs, actor=actor)]

    roads = layout.roads
    lon, lat = projector.to_lonlat(roads.node_x, roads.node_y)
    graph = RoadGraphIn(
        node_lon=lon,
        node_lat=lat,
        node_x=roads.node_x,
        node_y=roads.node_y,
        edge_from=roads.edge_from,
        edge_to=roads.edge_to,
        edge_class=[c.value for c in roads.edge_class],
        edge_name=list(roads.edge_name),
        edge_speed_kmh=roads.edge_speed_kmh,
        edge_length_m=roads.edge_length,
        edge_oneway=np.zeros(len(roads.edge_from), dtype=bool),
        edge_geom=list(_lonlat(projector, roads.edge_geom)),
    )
    add_road_graph(session, graph, source=SOURCE, actor=actor)

    grids = layout.grids
    index = PolygonIndex(grids, [units[g].geom for g in grids])
    spots = objects([anchor(s.geom) for s in layout.sites])
    site_grid = index.locate(shapely.get_x(spots), shapely.get_y(spots))
    site_geoms = _lonlat(projector, objects([s.geom for s in layout.sites]))
    places = [
        PlaceIn(
            code=s.code,
            kind=s.kind,
            name_zh=s.name_zh,
            name_en=s.name_en,
            protection_level=s.protection_level,
            geom=site_geoms[i],
            grid_id=unit_ids[int(site_grid[i])] if site_grid[i] >= 0 else None,
        )
        for i, s in enumerate(layout.sites)
    ]
    add_places(session, places, actor=actor)

    compound_geoms = _lonlat(projector, objects([c.geom for c in layout.compounds]))
    compounds = [
        CompoundIn(
            code=c.code,
            name_zh=c.name_zh,
            name_en=c.name_en,
            geom=compound_geoms[i],
            households=c.households,
            buildings=c.buildings,
            management=c.management,
            grid_id=unit_ids[c.grid],
            built_year=c.built_year,
            property_company=c.property_company,
            has_access_control=c.has_access_control,
            has_cctv=c.has_cctv,
        )
        for i, c in enumerate(layout.compounds)
    ]
    add_compounds(session, compounds, actor=actor)

    cluster_ids = _write_clusters(session, layout, projector, starts_at)
    audit.record(
        session,
        actor=actor.actor,
        action="sim.city.create",
        object_type="sim_city",
        detail={
            "scale": layout.scale.name,
            "seed": layout.seed,
            "units": len(units),
            "clusters": len(cluster_ids),
        },
    )
    return cluster_ids


def anchor(geom: BaseGeometry) -> BaseGeometry:
    """The point that decides a site's grid: a street's midpoint, a polygon's inner point."""
    if isinstance(geom, LineString):
        return shapely.line_interpolate_point(geom, 0.5, normalized=True)
    return shapely.point_on_surface(geom)


def _write_clusters(
    session: Session, layout: CityLayout, projector: Projector, starts_at: dt.datetime
) -> list[int]:
    drawn = np.bincount(layout.planted.cluster, minlength=len(layout.clusters))
    rows = []
    for i, plan in enumerate(layout.clusters):
        lon, lat = projector.to_lonlat(np.array([plan.x]), np.array([plan.y]))
        rows.append(
            PlantedCluster(
                seed=layout.seed,
                kind=plan.kind,
                type_code=plan.type_code,
                lon=float(lon[0]),
                lat=float(lat[0]),
                x=plan.x,
                y=plan.y,
                radius_m=plan.radius_m,
                starts_at=starts_at + dt.timedelta(days=plan.first_day),
                ends_at=starts_at + dt.timedelta(days=plan.end_day),
                extra_per_day=plan.extra_per_day,
                n_events=int(drawn[i]),
            )
        )
    session.add_all(rows)
    session.flush()
    return [r.id for r in rows]
