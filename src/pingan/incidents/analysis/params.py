"""Parameters of every analysis, checked field by field before any work starts.

Single-field rules live on the models (so the API documents them); rules that
need several fields or the database (a window's order, a known incident type,
an org unit within scope) are checked in ``selection`` and raise
``ValidationFailed`` with the offending field.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pingan.kit.errors import ValidationFailed

# A served raster stays small: 4 million cells is 32 MB per float64 layer.
MAX_HEAT_CELLS = 4_000_000
# Locations (cells or grids) one hotspot or emerging analysis may test.
MAX_LOCATIONS = 250_000
# Space-time bins of one emerging hotspot cube.
MAX_CUBE_BINS = 20_000_000
# Synchronous hotspot requests; more permutations run as a job.
MAX_SYNC_PERMUTATIONS = 999

Kernel = Literal["gaussian", "quartic"]
BandwidthRule = Literal["scott", "silverman"]
Unit = Literal["cell", "grid", "h3"]
WeightsKind = Literal["queen", "knn", "distance_band"]
Level = Literal["district", "subdistrict", "community", "grid"]


class Filters(BaseModel):
    """Which incidents: a time window, types, an org unit and a key site or area."""

    model_config = ConfigDict(extra="forbid")

    since: dt.datetime | None = Field(
        None, description="occurred_at >= since; a time without offset is in the city's zone"
    )
    until: dt.datetime | None = Field(None, description="occurred_at < until")
    types: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="Taxonomy codes; each includes its subtypes",
    )
    org_unit_id: int | None = Field(None, ge=1, description="Only this org unit (within scope)")
    place_id: int | None = Field(None, ge=1, description="Only this key site or area")
    buffer_m: float = Field(
        0.0, ge=0, le=20_000, description="Grow the key site by this many metres"
    )


class NeighbourParams(BaseModel):
    """Spatial weights between locations."""

    weights: WeightsKind = Field(
        "queen",
        description="queen: touching cells or grids; knn: k nearest; distance_band: within "
        "distance_m of each other (centres)",
    )
    k: int = Field(8, ge=1, le=64, description="Neighbours for knn")
    distance_m: float | None = Field(
        None,
        gt=0,
        le=100_000,
        description="Band for distance_band; by default the least distance that gives "
        "every location a neighbour",
    )


class HeatParams(Filters):
    kernel: Kernel = "gaussian"
    bandwidth_m: float = Field(
        250.0, gt=0, le=20_000, description="Gaussian sigma or quartic radius, metres"
    )
    bandwidth_rule: BandwidthRule | None = Field(
        None, description="Choose the bandwidth from the data (overrides bandwidth_m)"
    )
    cell_size_m: float | None = Field(
        None, ge=1, le=5_000, description="Raster cell; by default about a million cells"
    )
    weight: Literal["none", "severity"] = "none"
    per_capita: bool = Field(False, description="Incidents per 10,000 residents")
    ramp: Literal["heat", "viridis", "blues"] = "heat"
    scale: Literal["linear", "sqrt"] = "linear"


H3_RESOLUTION = Field(8, ge=4, le=11, description="H3 resolution for unit=h3 (8: about 0.74 km²)")


class HotspotParams(Filters, NeighbourParams):
    unit: Unit = Field(
        "cell", description="Square cells of cell_size_m, the org grids, or H3 hexagons"
    )
    cell_size_m: float = Field(250.0, ge=10, le=20_000)
    h3_resolution: int = H3_RESOLUTION
    statistic: Literal["gi_star", "gi", "local_moran"] = "gi_star"
    transform: Literal["binary", "row"] | None = Field(
        None, description="Weights transform; binary for Gi/Gi*, row for local Moran by default"
    )
    inference: Literal["normal", "permutation"] | None = Field(
        None,
        description="p-values behind the classes: normal (analytical z) by default for Gi and "
        "Gi*, permutation for local Moran",
    )
    permutations: int = Field(999, ge=0, le=99_999)
    seed: int = Field(12345, ge=0, le=2**32 - 1, description="Seed of the permutations")
    fdr: bool = Field(False, description="Benjamini-Hochberg false discovery rate control")
    alpha: float = Field(0.05, gt=0, lt=1, description="Significance of local Moran clusters")
    significant_only: bool = False


class EmergingParams(Filters, NeighbourParams):
    unit: Unit = "cell"
    cell_size_m: float = Field(500.0, ge=10, le=20_000)
    h3_resolution: int = H3_RESOLUTION
    step: Literal["day", "week"] = "week"
    step_length: int = Field(1, ge=1, le=52, description="Days or weeks per time step")
    steps: int = Field(
        12, ge=3, le=1_000, description="Time steps back from until, when since is not given"
    )
    time_window: int = Field(1, ge=0, le=12, description="Earlier steps in each bin's neighbours")
    alpha: float = Field(0.05, gt=0, lt=1)
    fdr: bool = False
    trend_alpha: float = Field(0.05, gt=0, lt=1)


class RatesParams(Filters):
    level: Level = "district"
    period_days: int = Field(
        28, ge=1, le=3_660, description="Period length when since or until is not given"
    )
    alpha: float = Field(0.05, gt=0, lt=1)
    fdr: bool = Field(False, description="Control the false discovery rate over the units")


AnyParams = HeatParams | HotspotParams | EmergingParams | RatesParams
P = TypeVar("P", bound=BaseModel)


def parse(model: type[P], data: dict[str, Any], *, prefix: str = "") -> P:
    """Validate ``data`` as ``model``; the first problem becomes ``ValidationFailed``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first.get("loc", ()))
        field = f"{prefix}{loc}" if loc else (prefix.rstrip(".") or None)
        raise ValidationFailed(str(first["msg"]), field=field) from None
