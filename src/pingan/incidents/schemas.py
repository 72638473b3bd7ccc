"""Pydantic models for incidents in and out of the service."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from pingan.incidents.models import Source, Status


class IncidentIn(BaseModel):
    """One incident as a client reports it.

    Times without a UTC offset are read in the city's time zone.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: str = Field(min_length=1, max_length=80, description="Taxonomy code, e.g. theft.bicycle")
    occurred_at: dt.datetime
    reported_at: dt.datetime | None = Field(None, description="Defaults to occurred_at")
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    severity: int | None = Field(None, ge=1, le=5, description="Defaults to the type's severity")
    source: Source = Source.CALL
    status: Status = Status.REPORTED
    external_id: str | None = Field(
        None, min_length=1, max_length=128, description="With source, makes intake idempotent"
    )
    summary: str | None = Field(None, max_length=2000)


class IncidentPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Status | None = None
    severity: int | None = Field(None, ge=1, le=5)
    summary: str | None = Field(None, max_length=2000)


class IncidentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    type: str
    occurred_at: dt.datetime
    reported_at: dt.datetime
    lon: float
    lat: float
    severity: int
    source: str
    status: str
    external_id: str | None
    summary: str | None
    grid_id: int
    community_id: int
    subdistrict_id: int
    district_id: int
    created_at: dt.datetime
    updated_at: dt.datetime


class AcceptedRow(BaseModel):
    index: int
    id: int


class DuplicateRow(BaseModel):
    index: int
    id: int | None = Field(None, description="The incident already stored under this key")


class RejectedRow(BaseModel):
    index: int
    field: str | None
    reason: str


class IntakeResult(BaseModel):
    accepted: list[AcceptedRow] = []
    duplicates: list[DuplicateRow] = []
    rejected: list[RejectedRow] = []

    @property
    def counts(self) -> dict[str, int]:
        return {
            "accepted": len(self.accepted),
            "duplicates": len(self.duplicates),
            "rejected": len(self.rejected),
        }
