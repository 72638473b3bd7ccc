"""Key sites with protection levels, and residential compounds inside grids.

Sites go where a city puts them: the airport on the outskirts, the main
rail station and the government area near the centre, metro stations along
the radial avenues, squares and commercial streets at the centre and the
sub-centres, schools and hospitals where people live. Protection level 1
is the highest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely import LineString, Point, Polygon
from shapely.affinity import rotate
from shapely.geometry.base import BaseGeometry

from pingan.places.models import Management, PlaceKind
from pingan.sim.boundaries import UnitDraft
from pingan.sim.names import NamePool
from pingan.sim.population import FloatArray, IntArray, PopulationModel
from pingan.sim.roads import RoadNetwork
from pingan.sim.scales import Scale

_COMPASS = (("东", "East"), ("北", "North"), ("西", "West"), ("南", "South"))
_COMPOUND_SUFFIX = (
    ("花园", "Garden"), ("苑", "Court"), ("家园", "Homes"),
    ("公寓", "Apartments"), ("小区", "Estate"), ("新村", "New Village"),
)  # fmt: skip
# Households per compound on average, and the share of a grid's households
# living in compounds (the rest in old lanes, villages, shop houses).
_COMPOUND_HOUSEHOLDS = 600.0
_COMPOUND_COVERAGE = (0.6, 0.9)


@dataclass(frozen=True)
class SiteDraft:
    code: str
    kind: PlaceKind
    name_zh: str
    name_en: str
    protection_level: int
    geom: BaseGeometry  # metric


@dataclass(frozen=True)
class CompoundDraft:
    code: str
    name_zh: str
    name_en: str
    geom: Polygon  # metric
    grid: int  # index of the grid's draft
    households: int
    buildings: int
    built_year: int
    management: Management
    property_company: str | None
    has_access_control: bool
    has_cctv: bool


def rectangle(cx: float, cy: float, width: float, height: float, angle: float) -> Polygon:
    half_w, half_h = width / 2, height / 2
    box = shapely.box(cx - half_w, cy - half_h, cx + half_w, cy + half_h)
    return rotate(box, angle, origin=(cx, cy), use_radians=True)


class _Placer:
    """Places shapes inside the city, pulling them inward until they fit."""

    def __init__(self, model: PopulationModel, margin: float) -> None:
        self.centre = model.centre
        self.inner = model.outline.buffer(-margin)
        shapely.prepare(self.inner)

    def at(self, angle: float, dist: float, shape: tuple[float, float], turn: float) -> Polygon:
        for _ in range(40):
            x = self.centre[0] + dist * math.cos(angle)
            y = self.centre[1] + dist * math.sin(angle)
            poly = rectangle(x, y, shape[0], shape[1], turn)
            if self.inner.contains(poly):
                return poly
            dist *= 0.9
        return rectangle(*self.centre, shape[0], shape[1], turn)

    def near(self, x: float, y: float, shape: tuple[float, float], turn: float) -> Polygon:
        dx, dy = x - self.centre[0], y - self.centre[1]
        return self.at(math.atan2(dy, dx), math.hypot(dx, dy), shape, turn)


def build_sites(
    rng: np.random.Generator,
    scale: Scale,
    model: PopulationModel,
    roads: RoadNetwork,
    districts: list[UnitDraft],
    names: NamePool,
) -> list[SiteDraft]:
    radius = scale.radius_m
    turn = roads.lattice_angle
    small = min(1.0, radius / 8_000)  # shrink big footprints in a small town
    place = _Placer(model, margin=50.0)
    sites: list[SiteDraft] = []

    airport_angle = float(rng.uniform(0, 2 * np.pi))
    sites.append(
        SiteDraft(
            "AIR-01",
            PlaceKind.AIRPORT,
            "安澜国际机场",
            "Anlan International Airport",
            1,
            place.at(airport_angle, 0.8 * radius, scale.airport_size_m, airport_angle),
        )
    )

    station = (400 * small + 100, 150 * small + 50)
    main_angle = float(rng.uniform(0, 2 * np.pi))
    sites.append(
        SiteDraft(
            "RAIL-01",
            PlaceKind.RAIL_STATION,
            "安澜站",
            "Anlan Railway Station",
            1,
            place.at(main_angle, 0.12 * radius, station, turn),
        )
    )
    extra_stations = max(1, len(scale.ring_radii) - 1)
    for j in range(extra_stations):
        # Evenly around the city, so no two share a compass sector (and a name).
        angle = main_angle + np.pi + j * 2 * np.pi / extra_stations
        zh, en = _COMPASS[int(((angle % (2 * np.pi)) + np.pi / 4) // (np.pi / 2)) % 4]
        sites.append(
            SiteDraft(
                f"RAIL-{j + 2:02d}",
                PlaceKind.RAIL_STATION,
                f"安澜{zh}站",
                f"Anlan {en} Station",
                2,
                place.at(float(angle), rng.uniform(0.3, 0.45) * radius, station, turn),
            )
        )

    sites += _metro_stations(scale, model, roads, names)

    gov_angle = float(rng.uniform(0, 2 * np.pi))
    sites.append(
        SiteDraft(
            "GOV-01",
            PlaceKind.GOVERNMENT_AREA,
            "市行政中心",
            "City Administrative Centre",
            1,
            place.at(gov_angle, 0.06 * radius, (500 * small + 100, 350 * small + 80), turn),
        )
    )
    for k, district in enumerate(districts, start=1):
        spot = district.geom.representative_point()
        sites.append(
            SiteDraft(
                f"GOV-D{k:02d}",
                PlaceKind.GOVERNMENT_AREA,
                f"{district.name_zh}政府",
                f"{district.name_en} Government",
                2,
                place.near(spot.x, spot.y, (250.0, 180.0), turn),
            )
        )

    hubs = [model.centre, *model.sub_centres]
    consular = hubs[1] if len(hubs) > 1 else model.centre
    sites.append(
        SiteDraft(
            "CONS-01",
            PlaceKind.CONSULAR_AREA,
            "领馆区",
            "Consular Area",
            1,
            place.near(
                consular[0] + 300, consular[1] + 300, (700 * small + 100, 400 * small + 80), turn
            ),
        )
    )

    for k, (hx, hy) in enumerate(hubs, start=1):
        zh, en = names.draw()
        centre_hub = k == 1
        square = place.near(hx - 250, hy + 150, (220.0, 160.0), turn)
        sites.append(
            SiteDraft(
                f"SQ-{k:02d}",
                PlaceKind.SQUARE,
                "人民广场" if centre_hub else f"{zh}广场",
                "People's Square" if centre_hub else f"{en} Square",
                1 if centre_hub else 2,
                square,
            )
        )
        length = float(rng.uniform(500, 1200)) * (1.0 if centre_hub else 0.7)
        street = _street(hx + 150, hy - 150, length, turn, place)
        sites.append(
            SiteDraft(
                f"COMM-{k:02d}",
                PlaceKind.COMMERCIAL_STREET,
                f"{zh}步行街" if centre_hub else f"{zh}商业街",
                f"{en} Pedestrian Street" if centre_hub else f"{en} Commercial Street",
                2 if centre_hub else 3,
                street,
            )
        )

    stadium_hub = hubs[-1]
    sites.append(
        SiteDraft(
            "STAD-01",
            PlaceKind.STADIUM,
            "奥体中心",
            "Olympic Sports Centre",
            2,
            place.near(stadium_hub[0] + 500, stadium_hub[1] - 400, (320.0, 240.0), turn),
        )
    )

    sites += _people_sites(rng, scale, model, names)
    return sites


def _street(x: float, y: float, length: float, turn: float, place: _Placer) -> LineString:
    """A straight street along the lattice, pulled inward until it lies in the city."""
    bar = place.near(x, y, (length, 1.0), turn)
    c = bar.centroid
    dx, dy = math.cos(turn) * length / 2, math.sin(turn) * length / 2
    return LineString([(c.x - dx, c.y - dy), (c.x + dx, c.y + dy)])


def _metro_stations(
    scale: Scale, model: PopulationModel, roads: RoadNetwork, names: NamePool
) -> list[SiteDraft]:
    """Stations every ``metro_spacing_m`` along each radial, to 60 % of the radius."""
    sites = [
        SiteDraft(
            "METRO-00-01",
            PlaceKind.METRO_STATION,
            "市中心站",
            "City Centre Station",
            2,
            Point(model.centre),
        )
    ]
    reach = 0.6 * scale.radius_m
    centre = Point(model.centre)
    for line_no, radial in enumerate(roads.radials, start=1):
        start = radial.project(centre)
        offsets = np.arange(scale.metro_spacing_m, reach, scale.metro_spacing_m)
        for j, offset in enumerate(offsets, start=1):
            if start + offset > radial.length:
                break
            zh, en = names.draw()
            sites.append(
                SiteDraft(
                    f"METRO-{line_no:02d}-{j:02d}",
                    PlaceKind.METRO_STATION,
                    f"{zh}站",
                    f"{en} Station (Line {line_no})",
                    3,
                    radial.interpolate(start + offset),
                )
            )
    return sites


def _people_sites(
    rng: np.random.Generator, scale: Scale, model: PopulationModel, names: NamePool
) -> list[SiteDraft]:
    """Schools (one per 10,000 people) and hospitals (one per 80,000), where people live."""
    raster = model.raster
    index = np.flatnonzero(raster.people > 0).astype(np.int64)
    sites: list[SiteDraft] = []
    n_schools = max(4, round(scale.population / 10_000))
    x, y = _inside(rng, model, raster.people[index], index, n_schools)
    for k in range(n_schools):
        zh, en = names.draw()
        primary = k % 3 != 2
        sites.append(
            SiteDraft(
                f"SCH-{k + 1:04d}",
                PlaceKind.SCHOOL,
                f"{zh}小学" if primary else f"{zh}中学",
                f"{en} Primary School" if primary else f"{en} Middle School",
                2 if primary else 3,
                Point(x[k], y[k]),
            )
        )
    n_hospitals = max(2, round(scale.population / 80_000))
    # Hospitals serve wide areas, so they follow population less closely.
    x, y = _inside(rng, model, raster.people[index] ** 0.6, index, n_hospitals)
    for k in range(n_hospitals):
        first = k == 0
        sites.append(
            SiteDraft(
                f"HOSP-{k + 1:03d}",
                PlaceKind.HOSPITAL,
                "市中心医院" if first else f"市第{k}人民医院",
                "City Central Hospital" if first else f"No. {k} People's Hospital",
                2,
                Point(model.centre[0] + 400, model.centre[1]) if first else Point(x[k], y[k]),
            )
        )
    return sites


def _inside(
    rng: np.random.Generator,
    model: PopulationModel,
    weights: FloatArray,
    index: IntArray,
    n: int,
) -> tuple[FloatArray, FloatArray]:
    cdf = np.cumsum(weights)
    xs, ys = np.empty(0), np.empty(0)
    while len(xs) < n:
        x, y = model.raster.sample(rng, cdf, index, n - len(xs))
        keep = shapely.contains_xy(model.outline, x, y)
        xs, ys = np.concatenate([xs, x[keep]]), np.concatenate([ys, y[keep]])
    return xs, ys


def build_compounds(
    rng: np.random.Generator,
    units: list[UnitDraft],
    grids: list[int],
    model: PopulationModel,
    turn: float,
    names: NamePool,
) -> list[CompoundDraft]:
    """Compounds inside each grid, not overlapping; older, less managed towards the centre."""
    companies = [names.draw() for _ in range(30)]
    radius = math.sqrt(model.outline.area / math.pi)
    compounds: list[CompoundDraft] = []
    for g in grids:
        grid = units[g]
        cover = rng.uniform(*_COMPOUND_COVERAGE) * grid.households
        n = int(rng.poisson(cover / _COMPOUND_HOUSEHOLDS)) if cover >= 100 else 0
        if n == 0:
            continue
        split = rng.dirichlet(np.full(n, 2.0)) * cover
        shapely.prepare(grid.geom)
        area_km2 = grid.geom.area / 1e6
        # Footprint per household: towers in dense grids, low-rise further out.
        per_household = float(np.clip(0.35e6 * area_km2 / max(grid.households, 1), 30, 150))
        placed: list[Polygon] = []
        for households in split:
            footprint = _fit(rng, grid.geom, households * per_household, turn, placed)
            if footprint is None:
                continue
            placed.append(footprint)
            c = footprint.centroid
            dist = math.hypot(c.x - model.centre[0], c.y - model.centre[1]) / radius
            year = int(np.clip(round(1982 + 38 * dist**0.6 + rng.normal(0, 6)), 1965, 2025))
            compounds.append(
                _compound(
                    rng, grid, g, len(placed), footprint, int(households), year, companies, names
                )
            )
    return compounds


def _fit(
    rng: np.random.Generator,
    grid: BaseGeometry,
    area: float,
    turn: float,
    placed: list[Polygon],
) -> Polygon | None:
    """A rectangle of about ``area`` m² inside the grid and clear of other compounds."""
    minx, miny, maxx, maxy = grid.bounds
    aspect = float(rng.uniform(1.0, 2.0))
    for attempt in range(16):
        scale = 0.85 ** max(0, attempt - 3)
        width = math.sqrt(area * aspect) * scale
        height = width / aspect
        cx, cy = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        rect = rectangle(cx, cy, width, height, turn)
        if grid.contains(rect) and not any(rect.intersects(p) for p in placed):
            return rect
    return None


def _compound(
    rng: np.random.Generator,
    grid: UnitDraft,
    grid_index: int,
    number: int,
    footprint: Polygon,
    households: int,
    year: int,
    companies: list[tuple[str, str]],
    names: NamePool,
) -> CompoundDraft:
    # Newer compounds were sold with a property company; older ones often have none.
    if rng.random() < 1 / (1 + math.exp(-(year - 1997) / 4)):
        management = Management.PROPERTY_COMPANY
    elif rng.random() < 0.55:
        management = Management.SELF_MANAGED
    else:
        management = Management.UNMANAGED
    access, cctv = {
        Management.PROPERTY_COMPANY: (0.92, 0.95),
        Management.SELF_MANAGED: (0.55, 0.6),
        Management.UNMANAGED: (0.15, 0.25),
    }[management]
    company = None
    if management == Management.PROPERTY_COMPANY:
        zh, en = companies[int(rng.integers(len(companies)))]
        company = f"{zh}物业 ({en} Property Services)"
    old = year < 1995
    suffix_zh, suffix_en = _COMPOUND_SUFFIX[
        5 if old and rng.random() < 0.6 else int(rng.integers(5))
    ]
    zh, en = names.draw()
    per_building = 24 + 2.5 * (year - 1965) + rng.normal(0, 8)
    return CompoundDraft(
        code=f"RC-{grid.code}-{number}",
        name_zh=f"{zh}{suffix_zh}",
        name_en=f"{en} {suffix_en}",
        geom=footprint,
        grid=grid_index,
        households=max(households, 20),
        buildings=max(1, round(households / max(per_building, 12))),
        built_year=year,
        management=management,
        property_company=company,
        has_access_control=bool(rng.random() < access),
        has_cctv=bool(rng.random() < cctv),
    )
