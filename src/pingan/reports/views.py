"""HTTP routes: KPIs (/api/v1/kpis) and reports (/api/v1/reports): briefings, index, campaigns."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import HTMLResponse

from pingan.api.deps import CurrentPrincipal, DbSession
from pingan.org.permissions import Perm
from pingan.reports import briefings, campaigns, safety
from pingan.reports.jobs import set_sensitive_until, submit_briefing
from pingan.reports.kpis import capability_available, compute_kpis, definitions, unit_for
from pingan.reports.periods import parse_period
from pingan.reports.schemas import (
    BriefingDetail,
    BriefingIn,
    BriefingOut,
    CampaignIn,
    CampaignOut,
    CommentIn,
    EvaluateIn,
    JobAccepted,
    SensitiveIn,
)

kpi_router = APIRouter(prefix="/api/v1/kpis", tags=["kpis"])
router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

PERIOD = Query(..., description="2026-11 (month), 2026-W48 (ISO week) or 2026-11-28 (day)")
UNIT = Query(..., description="Org unit code")


@kpi_router.get("/definitions")
def kpi_definitions(principal: CurrentPrincipal) -> list[dict[str, Any]]:
    """Every KPI: what it counts, its units, and whether its capability is installed."""
    del principal
    return [
        {"code": d.code, "capability": d.capability, "title_en": d.title_en,
         "title_zh": d.title_zh, "units": d.units, "description": d.description,
         "higher_is_better": d.higher_is_better, "installed": capability_available(d.capability)}
        for d in definitions()
    ]  # fmt: skip


@kpi_router.get("")
def kpis(
    principal: CurrentPrincipal,
    session: DbSession,
    unit: str = UNIT,
    period: str = PERIOD,
    codes: list[str] = Query([], description="Only these KPIs"),
) -> dict[str, Any]:
    """KPIs of a unit over a period, within your scope (record ids at .../records)."""
    target = unit_for(session, unit, principal)
    span = parse_period(period)
    values = compute_kpis(session, actor=principal, unit=target, period=span, codes=codes or None)
    return {
        "unit": {"id": target.id, "code": target.code, "name_en": target.name_en},
        "period": {"label": span.label, "start": span.start, "end": span.end},
        "kpis": [v.as_dict() for _, v in values],
    }


@kpi_router.get("/{code}/records")
def kpi_records(
    code: str,
    principal: CurrentPrincipal,
    session: DbSession,
    unit: str = UNIT,
    period: str = PERIOD,
    limit: int = Query(1000, ge=1, le=100_000),
    offset: int = Query(0, ge=0),
) -> dict[str, Any]:
    """The records one figure counted: the trace from a number back to its query."""
    target = unit_for(session, unit, principal)
    span = parse_period(period)
    ((_, value),) = compute_kpis(session, actor=principal, unit=target, period=span, codes=[code])
    return {
        "code": code,
        "value": value.value,
        "record_kind": value.record_kind,
        "total": len(value.records),
        "records": value.records[offset : offset + limit],
    }


# --- briefings ---------------------------------------------------------------------


@router.post("/briefings", status_code=202, response_model=JobAccepted)
def create_briefing(
    body: BriefingIn, principal: CurrentPrincipal, session: DbSession
) -> JobAccepted:
    """Generate a briefing as a job (202); the job's result names the new briefing."""
    target = unit_for(session, body.unit, principal)
    job = submit_briefing(
        session, kind=body.kind, unit=target, day=body.date, actor=principal,
        sensitive=body.sensitive, lang=body.lang,
    )  # fmt: skip
    return JobAccepted(job_id=job.id, status_url=f"/api/v1/jobs/{job.id}")


@router.get("/briefings", response_model=list[BriefingOut])
def list_briefings(
    principal: CurrentPrincipal,
    session: DbSession,
    kind: str | None = Query(None),
    unit_id: int | None = Query(None),
    status: str | None = Query(None, description="draft or published"),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
) -> list[BriefingOut]:
    """The archive, newest period first, within your scope."""
    found = briefings.list_briefings(
        session, actor=principal, kind=kind, unit_id=unit_id, status=status, limit=limit,
        offset=offset,
    )  # fmt: skip
    return [BriefingOut.of(b) for b in found]


@router.get("/briefings/{briefing_id}", response_model=BriefingDetail)
def get_briefing(
    briefing_id: int, principal: CurrentPrincipal, session: DbSession
) -> BriefingDetail:
    b = briefings.get_briefing(session, briefing_id, actor=principal)
    content = b.content_dict()
    content.pop("images", None)
    return BriefingDetail(
        **BriefingOut.of(b).model_dump(), content=content,
        comments=briefings.comments_of(session, b.id),
    )  # fmt: skip


@router.get("/briefings/{briefing_id}/html", response_class=HTMLResponse)
def briefing_html(
    briefing_id: int, principal: CurrentPrincipal, session: DbSession
) -> HTMLResponse:
    """The briefing as one self-contained HTML page (charts and maps inline)."""
    b = briefings.get_briefing(session, briefing_id, actor=principal)
    return HTMLResponse(b.html)


@router.get("/briefings/{briefing_id}/pdf", response_class=Response)
def briefing_pdf(briefing_id: int, principal: CurrentPrincipal, session: DbSession) -> Response:
    """The briefing as a PDF (A4, embedded CJK font)."""
    b = briefings.get_briefing(session, briefing_id, actor=principal)
    data = briefings.pdf_of(session, b)
    name = f"briefing-{b.kind}-{b.org_unit_id}-{b.period_label}-v{b.version}.pdf".replace(" ", "_")
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/briefings/{briefing_id}/comments", status_code=201)
def comment(
    briefing_id: int, body: CommentIn, principal: CurrentPrincipal, session: DbSession
) -> dict[str, Any]:
    """An analyst's comment on a draft (409 once published)."""
    c = briefings.add_comment(
        session, briefing_id, body=body.body, section=body.section, actor=principal
    )
    return {"id": c.id, "briefing_id": briefing_id, "author": c.author, "body": c.body}


@router.post("/briefings/{briefing_id}/publish", response_model=BriefingOut)
def publish(briefing_id: int, principal: CurrentPrincipal, session: DbSession) -> BriefingOut:
    """Publish a draft: it takes no more comments; a regeneration makes a new version."""
    return BriefingOut.of(briefings.publish(session, briefing_id, actor=principal))


@router.put("/sensitive-period")
def sensitive_period(
    body: SensitiveIn, principal: CurrentPrincipal, session: DbSession
) -> dict[str, Any]:
    """Declare (or end) a sensitive period: daily briefings every morning until it ends."""
    set_sensitive_until(session, body.until, actor=principal)
    return {"until": body.until}


# --- safety index ----------------------------------------------------------------------


@router.get("/safety-index")
def safety_index(
    principal: CurrentPrincipal,
    session: DbSession,
    unit: str = UNIT,
    period: str = PERIOD,
    level: str = Query("subdistrict", description="subdistrict or community"),
    weights: list[str] = Query([], description="component=weight, e.g. violent=0.5"),
) -> dict[str, Any]:
    """The composite safety index of every subdistrict or community in the unit, with components."""
    principal.require(Perm.REPORTS_READ)
    parsed: dict[str, float] = {}
    for item in weights:
        name, _, value = item.partition("=")
        try:
            parsed[name.strip()] = float(value)
        except ValueError:
            from pingan.kit.errors import ValidationFailed

            raise ValidationFailed(f"cannot read weight {item!r}", field="weights") from None
    target = unit_for(session, unit, principal)
    rows = safety.safety_index(
        session, actor=principal, parent=target, level=level, period=parse_period(period),
        weights=parsed,
    )  # fmt: skip
    return {"weights": safety.parse_weights(parsed), "units": [r.as_dict() for r in rows]}


# --- campaigns ---------------------------------------------------------------------------


@router.post("/campaigns", status_code=201, response_model=CampaignOut)
def create_campaign(
    body: CampaignIn, principal: CurrentPrincipal, session: DbSession
) -> CampaignOut:
    target = unit_for(session, body.unit, principal)
    c = campaigns.register_campaign(
        session, name=body.name, unit=target, types=body.types, starts_on=body.starts_on,
        ends_on=body.ends_on, area=body.area, band_m=body.band_m, actor=principal,
    )  # fmt: skip
    return CampaignOut.of(c)


@router.get("/campaigns", response_model=list[CampaignOut])
def list_campaigns(principal: CurrentPrincipal, session: DbSession) -> list[CampaignOut]:
    return [CampaignOut.of(c) for c in campaigns.list_campaigns(session, actor=principal)]


@router.get("/campaigns/{campaign_id}", response_model=CampaignOut)
def get_campaign(campaign_id: int, principal: CurrentPrincipal, session: DbSession) -> CampaignOut:
    return CampaignOut.of(campaigns.get_campaign(session, campaign_id, actor=principal))


@router.post("/campaigns/{campaign_id}/evaluate")
def evaluate_campaign(
    campaign_id: int, body: EvaluateIn, principal: CurrentPrincipal, session: DbSession
) -> dict[str, Any]:
    """Difference-in-differences against control grids with a confidence interval, and
    the displacement check in the surrounding band; stored on the campaign."""
    return campaigns.evaluate(
        session, campaign_id, actor=principal, step_days=body.step_days,
        controls=body.controls, confidence=body.confidence, se=body.se,
    )  # fmt: skip
