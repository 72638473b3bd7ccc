"""Pydantic in/out models of the petitions API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

# Ids of org units and users are 32-bit in the database.
MAX_ID = 2**31 - 1


class RepresentativeIn(BaseModel):
    name: str = Field(..., min_length=1, max_length=200)
    phone: str | None = Field(None, max_length=50)


class PetitionIn(BaseModel):
    channel: str = Field(..., description="visit | letter | phone | web | video")
    category: str = Field(..., description="Category code, e.g. petition.housing")
    unit_id: int = Field(..., ge=1, le=MAX_ID, description="The registering office (org unit)")
    matter: str = Field(..., min_length=1, max_length=20000)
    requests: str = Field("", max_length=5000)
    place: str = Field("", max_length=300)
    petitioner_name: str | None = Field(None, max_length=200)
    petitioner_phone: str | None = Field(None, max_length=50)
    petitioner_address: str | None = Field(None, max_length=300)
    is_group: bool = False
    headcount: int = Field(1, ge=1, le=100000)
    # Validated in the service so that the error names the rule (at most 5).
    representatives: list[RepresentativeIn] = Field(default_factory=list)
    accused_name: str | None = Field(None, max_length=200)
    accused_user_id: int | None = Field(None, ge=1, le=MAX_ID)
    accused_unit_id: int | None = Field(None, ge=1, le=MAX_ID)
    received_at: dt.datetime | None = None


class StepIn(BaseModel):
    transition: str
    fields: dict[str, Any] = Field(default_factory=dict)


class LeaderIn(BaseModel):
    user_id: int = Field(..., ge=1, le=MAX_ID)


class ParticipantIn(BaseModel):
    unit_id: int = Field(..., ge=1, le=MAX_ID)
    department: str = Field("", max_length=100)


class MatchOut(BaseModel):
    number: str
    score: float
    text_similarity: float
    same_person: bool
    same_place: bool
    exhausted: bool


class ClockOut(BaseModel):
    name: str
    basis: str
    status: str
    started_at: dt.datetime
    due_at: dt.datetime | None
    last_day: dt.date | None
    stopped_at: dt.datetime | None
    overdue: bool


class LetterOut(BaseModel):
    id: int
    kind: str
    subject: str
    issued_at: dt.datetime
    dates: dict[str, str]


class PetitionSummary(BaseModel):
    id: int
    number: str
    state: str
    is_open: bool
    channel: str
    category: str
    unit_id: int
    received_at: dt.datetime
    is_group: bool
    leader_user_id: int | None
    supervision_flag: bool


class PetitionOut(PetitionSummary):
    matter: str
    requests: str
    place: str
    petitioner_name: str | None
    petitioner_phone: str | None
    headcount: int
    representatives: list[RepresentativeIn]
    accused_name: str | None
    joint: bool
    participants: list[ParticipantIn]
    same_matter_as: str | None
    extension_days: int | None
    extension_reason: str | None
    exhausted: bool
    rating: int | None
    allowed_transitions: list[str]
    clocks: list[ClockOut]
    letters: list[LetterOut]
    possible_same_matter: list[MatchOut] = Field(default_factory=list)


class RegisteredOut(PetitionOut):
    query_code: str = Field(..., description="Given to the petitioner once; not stored")


class LookupIn(BaseModel):
    number: str = Field(..., max_length=30)
    code: str = Field(..., max_length=40)


class RatingIn(LookupIn):
    rating: int = Field(..., ge=1, le=5)
    comment: str = Field("", max_length=500)


class PublicLetter(BaseModel):
    kind: str
    subject: str
    issued_at: dt.datetime
    html: str


class PublicStatus(BaseModel):
    number: str
    state: str
    received_at: dt.datetime
    deadlines: dict[str, dt.date]
    letters: list[PublicLetter]
    rating: int | None


class MaterialOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    accuses: bool
    added_at: dt.datetime
