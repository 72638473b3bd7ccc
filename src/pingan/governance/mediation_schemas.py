"""Pydantic in/out models of dispute mediation."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pingan.cases.schemas import CaseOut
from pingan.org.levels import Level

GROUP_MIN_PEOPLE = 5  # a "group" (群体性) dispute involves five or more people


class PartyIn(BaseModel):
    """A party: a name (initials will do) and, if given, a phone. Nothing else is stored."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["applicant", "respondent", "third_party"]
    kind: Literal["person", "organisation"] = "person"
    name: str = Field(..., min_length=1, max_length=100)
    phone: str | None = Field(None, max_length=50)


class DisputeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: str = Field(..., description="Mediation category code, e.g. md_neighbour")
    title: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=5000)
    lon: float = Field(..., ge=-180, le=180)
    lat: float = Field(..., ge=-90, le=90)
    address: str = Field("", max_length=300)
    level: Level | None = Field(None, description="Responsible level; default: the category's")
    source: Literal["screening", "brought", "referred"] = "brought"
    scale: Literal["individual", "multi_party", "group"] = "individual"
    people_involved: int = Field(2, ge=1, le=100000)
    risk_level: Literal["low", "medium", "high"] = "low"
    parties: list[PartyIn] = Field(..., min_length=1, max_length=50)
    handler_id: int | None = Field(None, description="The responsible person (a user)")
    idempotency_key: str | None = Field(None, max_length=100)

    @model_validator(mode="after")
    def _group_size(self) -> DisputeIn:
        if self.scale == "group" and self.people_involved < GROUP_MIN_PEOPLE:
            raise ValueError(f"a group dispute involves at least {GROUP_MIN_PEOPLE} people")
        return self


class StepIn(BaseModel):
    transition: str = Field(..., description="accept | refer | agree | partial | fail | withdraw")
    fields: dict[str, Any] = Field(default_factory=dict)


class FollowUpIn(BaseModel):
    result: Literal["fulfilled", "partly_fulfilled", "not_fulfilled"]
    note: str = Field("", max_length=2000)


class PartyOut(BaseModel):
    role: str
    kind: str
    name: str
    phone: str | None


class ChannelMoveOut(BaseModel):
    at: dt.datetime
    from_channel: str | None
    to_channel: str
    body: str
    reason: str


class DisputeOut(BaseModel):
    case: CaseOut
    level: str
    source: str
    scale: str
    people_involved: int
    risk_level: str
    channel: str | None
    mediator_body: str
    outcome: str | None
    outcome_at: dt.datetime | None
    terms: str
    follow_up_on: dt.date | None
    referred_to: str | None
    follow_up_result: str | None
    parties: list[PartyOut]
    channels: list[ChannelMoveOut]


class LedgerRow(BaseModel):
    number: str
    title: str
    category: str
    level: str
    unit_id: int
    unit_name: str
    channel: str | None
    risk_level: str
    state: str
    handler: str | None
    registered_at: dt.datetime
    deadline: dt.datetime | None
    overdue: bool


class Outcomes(BaseModel):
    """Counts over disputes concluded in the period, and what they add up to.

    ``mediated`` counts disputes that entered a channel and ended agreed,
    partly agreed or failed; ``success_rate`` is agreed / mediated; days to
    resolution run from registration to the outcome, over mediated disputes.
    """

    concluded: int
    mediated: int
    agreed: int
    partial: int
    failed: int
    withdrawn: int
    success_rate: float | None
    mean_days: float | None
    median_days: float | None


class GroupStats(Outcomes):
    key: str
    name: str


class TrendPoint(BaseModel):
    month: str
    registered: int
    concluded: int
    agreed: int


class MediationStats(BaseModel):
    start: dt.date
    end: dt.date
    area_level: str
    registered: int
    total: Outcomes
    by_category: list[GroupStats]
    by_area: list[GroupStats]
    trend: list[TrendPoint]
