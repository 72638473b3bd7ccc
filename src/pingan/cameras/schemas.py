"""Pydantic in/out models of the camera API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pingan.cameras.models import AccessLevel, CameraStatus, Network


class OwnerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=50)
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field("organisation", max_length=30)
    contact_name: str | None = Field(None, max_length=200)
    contact_phone: str | None = Field(None, max_length=50)
    contact_email: str | None = Field(None, max_length=200)


class OwnerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    kind: str
    contact_name: str | None
    contact_phone: str | None
    contact_email: str | None


class CameraIn(BaseModel):
    """One camera as registered or imported; the owner is named by its code."""

    model_config = ConfigDict(extra="forbid")

    owner_code: str = Field(min_length=1, max_length=50)
    owner_camera_id: str = Field(min_length=1, max_length=100)
    network: Network
    name: str | None = Field(None, max_length=200)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    height_m: float | None = Field(None, ge=0, le=500)
    heading_deg: float = Field(0.0, ge=0, lt=360)
    fov_deg: float = Field(90.0, gt=0, le=360)
    range_m: float = Field(30.0, gt=0, le=1000)
    resolution: str | None = Field(None, max_length=30)
    ptz: bool = False
    status: CameraStatus = CameraStatus.ACTIVE
    installed_on: dt.date | None = None
    access_level: AccessLevel = AccessLevel.ON_REQUEST
    sharing_contact: str | None = Field(None, max_length=200)


class CameraPatch(BaseModel):
    """A move, a re-aim or a status change of one camera."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=200)
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    height_m: float | None = Field(None, ge=0, le=500)
    heading_deg: float | None = Field(None, ge=0, lt=360)
    fov_deg: float | None = Field(None, gt=0, le=360)
    range_m: float | None = Field(None, gt=0, le=1000)
    resolution: str | None = Field(None, max_length=30)
    ptz: bool | None = None
    status: CameraStatus | None = None
    access_level: AccessLevel | None = None
    sharing_contact: str | None = Field(None, max_length=200)


class CameraOut(BaseModel):
    id: int
    owner_id: int
    owner_camera_id: str
    network: str
    name: str | None
    status: str
    org_unit_id: int | None
    lon: float
    lat: float
    height_m: float | None
    heading_deg: float
    fov_deg: float
    range_m: float
    resolution: str | None
    ptz: bool
    installed_on: dt.date | None
    access_level: str
    sharing_contact: str | None

    @classmethod
    def of(cls, cam: Any) -> CameraOut:
        return cls(
            id=cam.id, owner_id=cam.owner_id, owner_camera_id=cam.owner_camera_id,
            network=cam.network, name=cam.name, status=cam.status, org_unit_id=cam.org_unit_id,
            lon=float(cam.location.x), lat=float(cam.location.y), height_m=cam.height_m,
            heading_deg=cam.heading_deg, fov_deg=cam.fov_deg, range_m=cam.range_m,
            resolution=cam.resolution, ptz=cam.ptz, installed_on=cam.installed_on,
            access_level=cam.access_level, sharing_contact=cam.sharing_contact,
        )  # fmt: skip


class RowError(BaseModel):
    line: int
    owner_camera_id: str | None = None
    error: str


class ImportReport(BaseModel):
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[RowError] = Field(default_factory=list)
    segments_updated: int = 0


class AreaCoverage(BaseModel):
    org_unit_id: int
    code: str
    name: str
    level: str
    total_m: float
    covered_m: float
    share: float
    incidents: int | None = None
    incidents_covered: int | None = None
    incident_share: float | None = None
    road_classes: list[ClassCoverage] = Field(
        default_factory=list, description="The area's streets by road class"
    )


class ClassCoverage(BaseModel):
    road_class: str
    total_m: float
    covered_m: float
    share: float


class SiteCoverage(BaseModel):
    place_id: int
    code: str
    name: str
    protection_level: int
    radius_m: float
    total_m: float
    covered_m: float
    share: float
    backup_share: float


class CoverageReport(BaseModel):
    segments: int
    cameras: int
    total_m: float
    covered_m: float
    share: float
    areas: list[AreaCoverage]
    road_classes: list[ClassCoverage]
    sites: list[SiteCoverage]


class PlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field("plan", min_length=1, max_length=200)
    sites: int = Field(20, ge=1, le=10_000, description="How many new cameras to place")
    method: str = Field("greedy", pattern="^(greedy|exact|both)$")
    range_m: float = Field(40.0, gt=0, le=500, description="Range of each new (360 degree) camera")
    candidate_spacing_m: float = Field(50.0, gt=0, le=1000)
    district_budget: dict[int, int] = Field(
        default_factory=dict, description="District org unit id -> most new sites there"
    )
    site_radius_m: float = Field(150.0, gt=0, le=2000)
    site_min_share: float = Field(
        0.0, ge=0, le=1, description="Share of each key site's streets that must be covered"
    )
    backup_level: int = Field(
        1, ge=0, le=3, description="Sites at this protection level or higher need two cameras"
    )
    incident_days: int = Field(365, ge=0, le=3650)
    time_limit_s: float = Field(60.0, gt=0, le=3600)


class PlannedSite(BaseModel):
    order: int
    lon: float
    lat: float
    district_id: int | None
    gain_weight: float
    gain_m: float


class PlanOut(BaseModel):
    id: int
    name: str
    method: str
    created_at: dt.datetime
    params: dict[str, Any]
    result: dict[str, Any]
