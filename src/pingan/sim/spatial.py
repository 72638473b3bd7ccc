"""Where each kind of incident happens: weights over the population raster.

* residential: where people live (the population itself);
* activity: where people go out, population to the 0.7 lifted near
  commercial streets, squares, stations and hospitals;
* roads: road length weighted by class, tempered by population.

Weights are zero outside the city, like the population.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely import Polygon

from pingan.dispatch.models import RoadClass
from pingan.places.models import PlaceKind
from pingan.sim.incident_mix import ACTIVITY, RESIDENTIAL, ROADS
from pingan.sim.population import FloatArray, Raster
from pingan.sim.roads import RoadNetwork
from pingan.sim.sites import SiteDraft

# How strongly each kind of site draws people out (per site, or per 25 m of street).
_PULL = {
    PlaceKind.COMMERCIAL_STREET: 3.0,
    PlaceKind.METRO_STATION: 15.0,
    PlaceKind.RAIL_STATION: 40.0,
    PlaceKind.SQUARE: 30.0,
    PlaceKind.HOSPITAL: 10.0,
    PlaceKind.STADIUM: 20.0,
    PlaceKind.SCHOOL: 3.0,
}
_TRAFFIC = {
    RoadClass.MOTORWAY: 2.0,
    RoadClass.TRUNK: 3.0,
    RoadClass.PRIMARY: 3.0,
    RoadClass.SECONDARY: 2.0,
    RoadClass.TERTIARY: 1.5,
    RoadClass.RESIDENTIAL: 1.0,
}


def type_weights(
    raster: Raster, sites: list[SiteDraft], roads: RoadNetwork
) -> dict[str, FloatArray]:
    people = raster.people
    occupied = people > 0

    points, pulls = [], []
    for site in sites:
        pull = _PULL.get(site.kind)
        if pull is None:
            continue
        # Streets pull along their length; other sites pull once, spread over their outline.
        outline = site.geom.boundary if isinstance(site.geom, Polygon) else site.geom
        coords = shapely.get_coordinates(shapely.segmentize(outline, 25.0))
        if site.kind != PlaceKind.COMMERCIAL_STREET:
            pull /= len(coords)
        points.append(coords)
        pulls.append(np.full(len(coords), pull))
    pull_here = _smooth_histogram(raster, np.concatenate(points), np.concatenate(pulls), 300.0)
    activity = people**0.7 * (1.0 + 4.0 * pull_here / max(float(pull_here.max()), 1e-12))

    dense = shapely.segmentize(roads.edge_geom, 50.0)
    counts = shapely.get_num_coordinates(dense)
    coords = shapely.get_coordinates(dense)
    per_class = np.array([_TRAFFIC.get(c, 1.0) for c in roads.edge_class])
    on_road = _smooth_histogram(raster, coords, np.repeat(per_class, counts), 150.0)
    reach = people**0.5
    traffic = on_road * (reach + 0.05 * float(reach[occupied].mean()))

    weights = {RESIDENTIAL: people.copy(), ACTIVITY: activity, ROADS: traffic}
    for w in weights.values():
        w[~occupied] = 0.0
    return weights


def _smooth_histogram(
    raster: Raster, coords: FloatArray, weights: FloatArray, sigma_m: float
) -> FloatArray:
    ix = np.clip(((coords[:, 0] - raster.x0) // raster.cell).astype(np.int64), 0, raster.nx - 1)
    iy = np.clip(((coords[:, 1] - raster.y0) // raster.cell).astype(np.int64), 0, raster.ny - 1)
    flat = np.bincount(iy * raster.nx + ix, weights=weights, minlength=raster.nx * raster.ny)
    return raster.smooth(flat.astype(np.float64), sigma_m)
