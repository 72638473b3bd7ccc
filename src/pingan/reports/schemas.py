"""Pydantic models of the reports API."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pingan.reports.models import Briefing, Campaign


class BriefingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["daily", "weekly", "monthly"]
    unit: str = Field(min_length=1, max_length=50, description="Org unit code")
    date: dt.date = Field(description="A day in the period (the day itself for a daily)")
    sensitive: bool = Field(False, description="A sensitive-period daily briefing")
    lang: Literal["zh", "en"] = "zh"


class JobAccepted(BaseModel):
    job_id: int
    status_url: str


class BriefingOut(BaseModel):
    id: int
    kind: str
    org_unit_id: int
    period_label: str
    period_start: dt.datetime
    period_end: dt.datetime
    sensitive: bool
    version: int
    status: str
    language: str
    created_by: str
    created_at: dt.datetime
    published_by: str | None
    published_at: dt.datetime | None
    analysis_runs: dict[str, int]
    html_url: str
    pdf_url: str

    @classmethod
    def of(cls, b: Briefing) -> BriefingOut:
        return cls(
            id=b.id, kind=b.kind, org_unit_id=b.org_unit_id, period_label=b.period_label,
            period_start=b.period_start, period_end=b.period_end, sensitive=b.sensitive,
            version=b.version, status=b.status, language=b.language, created_by=b.created_by,
            created_at=b.created_at, published_by=b.published_by, published_at=b.published_at,
            analysis_runs=b.params_dict().get("analysis_runs", {}),
            html_url=f"/api/v1/reports/briefings/{b.id}/html",
            pdf_url=f"/api/v1/reports/briefings/{b.id}/pdf",
        )  # fmt: skip


class BriefingDetail(BriefingOut):
    content: dict[str, Any] = Field(description="Every figure shown (images left out)")
    comments: list[dict[str, Any]]


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=5000)
    section: str = Field("general", max_length=40)


class CampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    unit: str = Field(min_length=1, max_length=50, description="Org unit code that owns it")
    types: list[str] = Field(min_length=1, max_length=50, description="Incident type codes")
    starts_on: dt.date
    ends_on: dt.date
    area: dict[str, Any] | None = Field(
        None, description="GeoJSON Polygon or MultiPolygon (lon/lat); default: the unit"
    )
    band_m: float = Field(500.0, ge=0, le=5000, description="Width of the displacement band")


class CampaignOut(BaseModel):
    id: int
    name: str
    org_unit_id: int
    types: list[str]
    starts_on: dt.date
    ends_on: dt.date
    band_m: float
    evaluation: dict[str, Any] | None
    evaluated_at: dt.datetime | None

    @classmethod
    def of(cls, c: Campaign) -> CampaignOut:
        import json

        return cls(
            id=c.id, name=c.name, org_unit_id=c.org_unit_id, types=c.types_list(),
            starts_on=c.starts_on, ends_on=c.ends_on, band_m=c.band_m,
            evaluation=None if c.evaluation is None else json.loads(c.evaluation),
            evaluated_at=c.evaluated_at,
        )  # fmt: skip


class EvaluateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    step_days: int = Field(7, ge=1, le=92)
    controls: int = Field(8, ge=2, le=200)
    confidence: float = Field(0.95, gt=0.5, lt=1)
    se: Literal["classical", "cluster"] = Field(
        "classical", description="classical OLS errors, or cluster-robust by area"
    )


class SensitiveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    until: dt.date | None = Field(description="Last day of the sensitive period; null ends it")
