"""City sizes the generator knows, from a test town to a 20-million metropolis.

Unit counts are targets for the whole city; each level's units are shared
out among parents in proportion to population, so the dense core gets many
small units and the countryside a few large ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from pingan.kit.errors import ValidationFailed


@dataclass(frozen=True)
class Scale:
    name: str
    area_km2: float
    population: int
    # Resolution of the population raster.
    cell_m: float
    districts: int
    subdistricts: int
    communities: int
    grids: int
    sub_centres: int
    incidents_per_year: float
    # Spacing of the local street lattice in the core; doubled outside it.
    street_spacing_m: float
    ring_radii: tuple[float, ...]  # as fractions of the city radius
    radials: int
    metro_spacing_m: float
    outbreaks: int
    persistent: int
    emerging: int
    outbreak_per_day: tuple[float, float]
    cluster_radius_m: tuple[float, float]
    # Least distance between planted cluster centres, so truths stay distinct.
    cluster_separation_m: float
    airport_size_m: tuple[float, float]

    @property
    def radius_m(self) -> float:
        return float((self.area_km2 * 1e6 / 3.141592653589793) ** 0.5)


SCALES: dict[str, Scale] = {
    "tiny": Scale(
        name="tiny",
        area_km2=30.0,
        population=150_000,
        cell_m=100.0,
        districts=2,
        subdistricts=4,
        communities=8,
        grids=24,
        sub_centres=2,
        incidents_per_year=6_000,
        street_spacing_m=300.0,
        ring_radii=(0.45,),
        radials=6,
        metro_spacing_m=800.0,
        outbreaks=2,
        persistent=2,
        emerging=2,
        outbreak_per_day=(2.0, 4.0),
        cluster_radius_m=(300.0, 450.0),
        cluster_separation_m=1_000.0,
        airport_size_m=(1_200.0, 400.0),
    ),
    "demo": Scale(
        name="demo",
        area_km2=400.0,
        population=1_500_000,
        cell_m=100.0,
        districts=6,
        subdistricts=30,
        communities=120,
        grids=240,
        sub_centres=4,
        incidents_per_year=70_000,
        street_spacing_m=300.0,
        ring_radii=(0.15, 0.35, 0.65),
        radials=8,
        metro_spacing_m=1_000.0,
        outbreaks=4,
        persistent=3,
        emerging=3,
        outbreak_per_day=(4.0, 10.0),
        cluster_radius_m=(300.0, 600.0),
        cluster_separation_m=2_500.0,
        airport_size_m=(3_200.0, 1_000.0),
    ),
    "city": Scale(
        name="city",
        area_km2=2_000.0,
        population=3_000_000,
        cell_m=150.0,
        districts=9,
        subdistricts=72,
        communities=432,
        grids=1_500,
        sub_centres=6,
        incidents_per_year=1_500_000,
        street_spacing_m=400.0,
        ring_radii=(0.1, 0.25, 0.45, 0.7),
        radials=10,
        metro_spacing_m=1_200.0,
        outbreaks=8,
        persistent=6,
        emerging=5,
        outbreak_per_day=(5.0, 15.0),
        cluster_radius_m=(300.0, 600.0),
        cluster_separation_m=3_000.0,
        airport_size_m=(3_600.0, 1_200.0),
    ),
    "full": Scale(
        name="full",
        area_km2=14_000.0,
        population=20_000_000,
        cell_m=250.0,
        districts=13,
        subdistricts=143,
        communities=1_430,
        grids=10_000,
        sub_centres=10,
        incidents_per_year=10_000_000,
        street_spacing_m=500.0,
        ring_radii=(0.06, 0.15, 0.3, 0.5, 0.75),
        radials=12,
        metro_spacing_m=1_200.0,
        outbreaks=20,
        persistent=15,
        emerging=12,
        outbreak_per_day=(5.0, 15.0),
        cluster_radius_m=(300.0, 600.0),
        cluster_separation_m=4_000.0,
        airport_size_m=(4_000.0, 1_400.0),
    ),
}


def get_scale(name: str) -> Scale:
    try:
        return SCALES[name]
    except KeyError:
        known = ", ".join(SCALES)
        raise ValidationFailed(
            f"unknown scale {name!r}; choose one of {known}", field="scale"
        ) from None
