"""Reading a drivable road network from OpenStreetMap (``.osm.pbf``) with pyrosm.

pyrosm splits the drivable ways into edges between nodes; this module turns
its node and edge frames into plain arrays with Pingan's road classes,
speeds, directions and geodesic lengths. Tag handling, briefly:

* ``highway`` maps onto ``RoadClass`` (``*_link`` joins its road's class;
  living streets count as residential, anything else unknown as
  unclassified).
* ``maxspeed`` is used when numeric ("50", "50 km/h", "30 mph", "50;30"
  takes the first); zone codes such as "FI:urban", "walk" or "none" fall
  back to the class default (``DEFAULT_SPEED_KMH``).
* ``oneway`` yes/true/1 is one way, -1 is one way against the drawing
  direction (the edge is reversed); without the tag, motorways and
  roundabouts are one way as OSM defines them.
* Lengths are geodesic (WGS84 ellipsoid), from the edge geometry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Geod

from pingan.dispatch.models import DEFAULT_SPEED_KMH, RoadClass
from pingan.kit.errors import ValidationFailed

MPH_KMH = 1.609344
KNOT_KMH = 1.852

_CLASS_BY_HIGHWAY: dict[str, RoadClass] = {
    "motorway": RoadClass.MOTORWAY,
    "motorway_link": RoadClass.MOTORWAY,
    "trunk": RoadClass.TRUNK,
    "trunk_link": RoadClass.TRUNK,
    "primary": RoadClass.PRIMARY,
    "primary_link": RoadClass.PRIMARY,
    "secondary": RoadClass.SECONDARY,
    "secondary_link": RoadClass.SECONDARY,
    "tertiary": RoadClass.TERTIARY,
    "tertiary_link": RoadClass.TERTIARY,
    "residential": RoadClass.RESIDENTIAL,
    "living_street": RoadClass.RESIDENTIAL,
    "service": RoadClass.SERVICE,
    "unclassified": RoadClass.UNCLASSIFIED,
}
_SPEED = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(km/h|kmh|kph|mph|knots)?\s*$", re.IGNORECASE)
_ONEWAY_YES = frozenset({"yes", "true", "1"})
_ONEWAY_NO = frozenset({"no", "false", "0"})


def road_class(highway: Any) -> RoadClass:
    return _CLASS_BY_HIGHWAY.get(str(highway).strip().lower(), RoadClass.UNCLASSIFIED)


def parse_maxspeed(value: Any, road: RoadClass) -> float:
    """Speed limit in km/h, or the class default when the tag holds no number."""
    default = DEFAULT_SPEED_KMH[road]
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return default
    first = str(value).split(";")[0]
    match = _SPEED.match(first)
    if match is None:
        return default
    speed = float(match.group(1))
    unit = (match.group(2) or "").lower()
    if unit == "mph":
        speed *= MPH_KMH
    elif unit == "knots":
        speed *= KNOT_KMH
    return speed if 0 < speed < 300 else default


def oneway_flags(oneway: Any, road: RoadClass, junction: Any = None) -> tuple[bool, bool]:
    """(one way, reversed): whether traffic runs one way, and against the geometry."""
    if isinstance(oneway, bool):
        return oneway, False
    tag = None if oneway is None else str(oneway).strip().lower()
    if tag == "-1":
        return True, True
    if tag in _ONEWAY_YES:
        return True, False
    if tag in _ONEWAY_NO:
        return False, False
    implied = road == RoadClass.MOTORWAY or str(junction).lower() in ("roundabout", "circular")
    return implied, False


def geodesic_lengths(lines: NDArray[np.object_]) -> NDArray[np.float64]:
    """Length in metres of each line on the WGS84 ellipsoid, vectorised."""
    coords, owner = shapely.get_coordinates(lines, return_index=True)
    same = owner[1:] == owner[:-1]
    _az1, _az2, dist = Geod(ellps="WGS84").inv(
        coords[:-1, 0][same], coords[:-1, 1][same], coords[1:, 0][same], coords[1:, 1][same]
    )
    return np.bincount(owner[1:][same], weights=dist, minlength=len(lines)).astype(np.float64)


@dataclass
class RoadNetwork:
    """Nodes by OSM id and the edges between them, as parallel arrays."""

    node_osm_id: NDArray[np.int64]
    node_lon: NDArray[np.float64]
    node_lat: NDArray[np.float64]
    edge_from: NDArray[np.int64]  # OSM node ids
    edge_to: NDArray[np.int64]
    edge_class: list[str]
    edge_speed: NDArray[np.float64]
    edge_length: NDArray[np.float64]
    edge_oneway: NDArray[np.bool_]
    edge_name: list[str | None]
    edge_osm_id: list[int | None]
    edge_geom: NDArray[np.object_]
    dropped_edges: int = 0


def network_from_frames(nodes: Any, edges: Any) -> RoadNetwork:
    """Build the network from pyrosm's node and edge (Geo)DataFrames."""
    node_ids, first = np.unique(nodes["id"].to_numpy(dtype=np.int64), return_index=True)
    lon = nodes["lon"].to_numpy(dtype=np.float64)[first]
    lat = nodes["lat"].to_numpy(dtype=np.float64)[first]

    geoms = shapely.line_merge(np.asarray(edges.geometry.to_numpy(), dtype=object))
    u = edges["u"].to_numpy(dtype=np.int64)
    v = edges["v"].to_numpy(dtype=np.int64)
    keep = (
        np.isin(u, node_ids)
        & np.isin(v, node_ids)
        & (shapely.get_type_id(geoms) == shapely.GeometryType.LINESTRING)
    )
    columns = {name: _column(edges, name) for name in ("highway", "maxspeed", "oneway", "junction")}
    names, osm_ids = _column(edges, "name"), _column(edges, "id")
    rows = np.flatnonzero(keep)
    classes = [road_class(columns["highway"][i]) for i in rows]
    flags = [
        oneway_flags(columns["oneway"][i], cls, columns["junction"][i])
        for i, cls in zip(rows, classes, strict=True)
    ]
    reverse = np.array([rev for _, rev in flags], dtype=bool)
    kept_geoms = geoms[rows]
    kept_geoms[reverse] = shapely.reverse(kept_geoms[reverse])
    start, end = u[rows], v[rows]
    return RoadNetwork(
        node_osm_id=node_ids,
        node_lon=lon,
        node_lat=lat,
        edge_from=np.where(reverse, end, start),
        edge_to=np.where(reverse, start, end),
        edge_class=[c.value for c in classes],
        edge_speed=np.array(
            [parse_maxspeed(columns["maxspeed"][i], c) for i, c in zip(rows, classes, strict=True)],
            dtype=np.float64,
        ),
        edge_length=geodesic_lengths(kept_geoms),
        edge_oneway=np.array([one for one, _ in flags], dtype=bool),
        edge_name=[_name(names[i]) for i in rows],
        edge_osm_id=[_int_or_none(osm_ids[i]) for i in rows],
        edge_geom=kept_geoms,
        dropped_edges=int(len(u) - len(rows)),
    )


def _column(frame: Any, name: str) -> list[Any]:
    if name not in frame.columns:
        return [None] * len(frame)
    return [None if _missing(v) else v for v in frame[name].tolist()]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _name(value: Any) -> str | None:
    return None if value is None else str(value)[:200]


def _int_or_none(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def read_osm_network(path: Path) -> RoadNetwork:
    """The drivable network of an ``.osm.pbf`` file (needs the ``osm`` extra: pyrosm)."""
    try:
        import pyrosm
    except ImportError:
        raise ValidationFailed(
            "reading OpenStreetMap files needs pyrosm: pip install 'pingan[osm]'", field="file"
        ) from None
    if not path.is_file():
        raise ValidationFailed(f"{path} does not exist or is not a file", field="file")
    if not path.name.lower().endswith(".pbf"):
        raise ValidationFailed(
            f"{path.name}: expected an OpenStreetMap .osm.pbf file", field="file"
        )
    try:
        found = pyrosm.OSM(str(path)).get_network(network_type="driving", nodes=True)
    except Exception as exc:  # pyrosm reports corrupt files with assorted exceptions
        raise ValidationFailed(f"cannot read {path.name}: {exc}", field="file") from None
    if found is None or found[1] is None or len(found[1]) == 0:
        raise ValidationFailed(f"{path.name} holds no drivable roads", field="file")
    nodes, edges = found
    return network_from_frames(nodes, edges)
