"""Pydantic in/out models of decision risk assessments."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pingan.cases.schemas import CaseOut


class AssessmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: str = Field(..., description="Assessment category code, e.g. ra_major_project")
    project: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=5000)
    proposing_org: str = Field(..., min_length=1, max_length=200)
    proposing_unit_id: int | None = None
    lon: float = Field(..., ge=-180, le=180, description="The project's site")
    lat: float = Field(..., ge=-90, le=90)
    address: str = Field("", max_length=300)
    idempotency_key: str | None = Field(None, max_length=100)


class ExpertIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., min_length=1, max_length=100)
    field: str = Field(..., min_length=1, max_length=50, description="law, planning, ...")
    affiliation: str = Field(..., min_length=1, max_length=200)
    affiliation_unit_id: int | None = None


class InterestIn(BaseModel):
    """An interest the expert declares: in one assessment, or in an organisation."""

    model_config = ConfigDict(extra="forbid")

    assessment: str | None = Field(None, description="Case number of the assessment")
    organisation: str = Field("", max_length=200)
    note: str = Field("", max_length=500)

    @model_validator(mode="after")
    def _something(self) -> InterestIn:
        if not self.assessment and not self.organisation.strip():
            raise ValueError("name the assessment or the organisation of the interest")
        return self


class PanelIn(BaseModel):
    expert_ids: list[int] = Field(..., min_length=1, max_length=50)


class ConsultationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["survey", "hearing", "forum", "public_notice"]
    held_on: dt.date
    participants: int = Field(..., ge=0)
    support: int = Field(..., ge=0)
    oppose: int = Field(..., ge=0)
    neutral: int = Field(0, ge=0)
    summary: str = Field("", max_length=5000)

    @model_validator(mode="after")
    def _answers(self) -> ConsultationIn:
        if self.support + self.oppose + self.neutral > self.participants:
            raise ValueError("support + oppose + neutral exceeds the participants")
        return self


class DimensionScore(BaseModel):
    score: int = Field(..., ge=1, le=5, description="1 severe concern .. 5 sound")
    comment: str = Field(..., min_length=1, max_length=5000)


class ScoreSheetIn(BaseModel):
    """One expert's sheet for the current round: all four dimensions."""

    expert_id: int
    legality: DimensionScore
    reasonableness: DimensionScore
    feasibility: DimensionScore
    controllability: DimensionScore


class MitigationIn(BaseModel):
    measure: str = Field(..., min_length=1, max_length=5000)
    owner: str = Field(..., min_length=1, max_length=200)
    due_on: dt.date | None = None


class MonitoringIn(BaseModel):
    status: Literal["on_track", "concern", "incident"]
    note: str = Field(..., min_length=1, max_length=5000)


class StepIn(BaseModel):
    transition: str = Field(
        ..., description="start | reassess | implement | decline | complete | withdraw"
    )
    fields: dict[str, Any] = Field(default_factory=dict)


class ExpertOut(BaseModel):
    id: int
    name: str
    field: str
    affiliation: str
    affiliation_unit_id: int | None
    active: bool


class ConsultationOut(ConsultationIn):
    id: int


class ScoreOut(BaseModel):
    round: int
    expert_id: int
    dimension: str
    score: int
    comment: str


class MitigationOut(MitigationIn):
    round: int


class MonitoringOut(MonitoringIn):
    at: dt.datetime


class RatingOut(BaseModel):
    level: str
    means: dict[str, float]
    opposition: float
    reasons: list[str]


class AssessmentOut(BaseModel):
    case: CaseOut
    project: str
    proposing_org: str
    proposing_unit_id: int | None
    round: int
    risk_level: str | None
    risk_reasons: list[str]
    decision: str | None
    decision_body: str
    decision_ref: str
    decided_at: dt.datetime | None
    panel: list[ExpertOut]
    consultations: list[ConsultationOut]
    scores: list[ScoreOut]
    mitigations: list[MitigationOut]
    monitoring: list[MonitoringOut]
