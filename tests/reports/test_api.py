"""The reports and KPI API on the real app: jobs, downloads, problems and scope."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from pingan.app import create_app
from pingan.kit import jobs
from pingan.kit.db import session_scope
from pingan.org import auth, users
from pingan.settings import get_settings
from tests.citykit import TestCity, unit
from tests.reports.conftest import SYSTEM, Planted


def _font_names(pdf: bytes) -> str:
    """The PDF's objects, inflated where compressed, as text: font names included."""
    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        try:
            parts.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return b"".join(parts).decode("latin-1")


PEOPLE = {"chief": ("officer", "C"), "east": ("analyst", "DE"), "worker": ("grid_worker", "W1")}


@pytest.fixture
def api(engine: Engine) -> Iterator[TestClient]:
    settings = get_settings().model_copy(update={"run_jobs": False})
    with TestClient(create_app(settings, engine)) as client:
        yield client


@pytest.fixture
def keys(engine: Engine, city: TestCity) -> dict[str, dict[str, str]]:
    headers = {}
    with session_scope(engine) as session:
        for name, (role, code) in PEOPLE.items():
            user = users.create_user(session, username=name, password=None, is_service=True,
                                     actor=SYSTEM)  # fmt: skip
            users.grant_role(session, user=user, role_name=role, unit=unit(session, code),
                             actor=SYSTEM)  # fmt: skip
            key, _ = auth.create_api_key(session, user=user, name="t", actor=SYSTEM)
            headers[name] = {"X-API-Key": key}
    return headers


def test_kpis_and_their_records(
    api: TestClient, keys: dict[str, dict[str, str]], planted: Planted
) -> None:
    r = api.get("/api/v1/kpis", params={"unit": "C", "period": "2026-10"}, headers=keys["chief"])
    assert r.status_code == 200, r.text
    values = {k["code"]: k for k in r.json()["kpis"]}
    assert values["incidents.total"]["value"] == 18
    assert values["incidents.total"]["record_count"] == 18
    r = api.get(
        "/api/v1/kpis/incidents.total/records",
        params={"unit": "DW", "period": "2026-10", "limit": 5},
        headers=keys["chief"],
    )
    assert r.json()["total"] == 13
    assert r.json()["records"] == planted.october("W1", "W2")[:5]
    # The east analyst sees the city's figure with only the east's incidents in it.
    r = api.get("/api/v1/kpis", params={"unit": "DE", "period": "2026-10"}, headers=keys["east"])
    assert {k["code"]: k for k in r.json()["kpis"]}["incidents.total"]["value"] == 5
    r = api.get("/api/v1/kpis", params={"unit": "DW", "period": "2026-10"}, headers=keys["east"])
    assert r.status_code == 404
    r = api.get("/api/v1/kpis", params={"unit": "C", "period": "Oct"}, headers=keys["chief"])
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "period"
    defs = api.get("/api/v1/kpis/definitions", headers=keys["chief"]).json()
    assert {"incidents.by_type", "cases.on_time_rate", "cameras.availability"} <= {
        d["code"] for d in defs
    }


def test_briefing_job_comment_publish_and_download(
    api: TestClient, engine: Engine, keys: dict[str, dict[str, str]], planted: Planted
) -> None:
    body = {"kind": "monthly", "unit": "DE", "date": "2026-10-05", "lang": "en"}
    r = api.post("/api/v1/reports/briefings", json=body, headers=keys["east"])
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    assert jobs.run_pending(engine) >= 1
    job = api.get(f"/api/v1/jobs/{job_id}", headers=keys["east"]).json()
    assert job["status"] == "succeeded", job
    briefing_id = job["result"]["briefing_id"]
    detail = api.get(f"/api/v1/reports/briefings/{briefing_id}", headers=keys["east"]).json()
    assert detail["status"] == "draft" and detail["version"] == 1
    # Two grids are too few for a hotspot statistic: the heat map only, and a note that says so.
    assert set(detail["analysis_runs"]) == {"heat"}
    assert detail["content"]["maps_note"].startswith("hotspot map not available")
    assert "images" not in detail["content"]
    html = api.get(f"/api/v1/reports/briefings/{briefing_id}/html", headers=keys["east"])
    assert html.status_code == 200 and "Monthly safety briefing" in html.text
    r = api.post(f"/api/v1/reports/briefings/{briefing_id}/comments",
                 json={"body": "Burglaries fell by two thirds."}, headers=keys["east"])  # fmt: skip
    assert r.status_code == 201
    # Analysts draft; publishing needs an officer.
    r = api.post(f"/api/v1/reports/briefings/{briefing_id}/publish", headers=keys["east"])
    assert r.status_code == 403
    r = api.post(f"/api/v1/reports/briefings/{briefing_id}/publish", headers=keys["chief"])
    assert r.status_code == 200 and r.json()["status"] == "published"
    pdf = api.get(f"/api/v1/reports/briefings/{briefing_id}/pdf", headers=keys["east"])
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert "WenQuanYi" in _font_names(pdf.content)  # the CJK font is embedded
    r = api.post(f"/api/v1/reports/briefings/{briefing_id}/comments",
                 json={"body": "too late"}, headers=keys["east"])  # fmt: skip
    assert r.status_code == 409
    # A grid worker has no reports role; another unit's briefing reads as missing.
    listed = api.get("/api/v1/reports/briefings", headers=keys["worker"])
    assert listed.status_code == 403
    r = api.post("/api/v1/reports/briefings", json={**body, "unit": "DW"}, headers=keys["east"])
    assert r.status_code == 404
    r = api.post("/api/v1/reports/briefings", json={**body, "kind": "yearly"},
                 headers=keys["east"])  # fmt: skip
    assert r.status_code == 422


def test_safety_index_and_campaigns(
    api: TestClient, keys: dict[str, dict[str, str]], planted: Planted
) -> None:
    r = api.get("/api/v1/reports/safety-index",
                params={"unit": "C", "period": "2026-10", "level": "subdistrict",
                        "weights": ["violent=1", "property=0", "disorder=0",
                                    "cases_on_time=0", "response=0"]},
                headers=keys["chief"])  # fmt: skip
    assert r.status_code == 200, r.text
    by_code = {u["code"]: u for u in r.json()["units"]}
    assert (by_code["SW"]["index"], by_code["SE"]["index"]) == (75.0, 25.0)
    r = api.get("/api/v1/reports/safety-index",
                params={"unit": "C", "period": "2026-10", "weights": ["violent=x"]},
                headers=keys["chief"])  # fmt: skip
    assert r.status_code == 422 and r.json()["field"] == "weights"
    campaign = {"name": "West bicycle thefts", "unit": "DW", "types": ["theft"],
                "starts_on": "2026-10-01", "ends_on": "2026-10-31", "band_m": 0}  # fmt: skip
    r = api.post("/api/v1/reports/campaigns", json=campaign, headers=keys["chief"])
    assert r.status_code == 201, r.text
    campaign_id = r.json()["id"]
    r = api.post(f"/api/v1/reports/campaigns/{campaign_id}/evaluate",
                 json={"step_days": 7, "controls": 2}, headers=keys["chief"])  # fmt: skip
    assert r.status_code == 200, r.text
    assert {c["code"] for c in r.json()["controls"]} == {"E1", "E2"}
    stored = api.get(f"/api/v1/reports/campaigns/{campaign_id}", headers=keys["chief"]).json()
    assert stored["evaluation"]["effect"] == r.json()["effect"]
    r = api.post("/api/v1/reports/campaigns", json={**campaign, "types": ["nope"]},
                 headers=keys["chief"])  # fmt: skip
    assert r.status_code == 422 and r.json()["field"] == "types"
    assert api.get("/api/v1/reports/campaigns", headers=keys["east"]).json() == []
    # Declaring a sensitive period is for officers.
    r = api.put("/api/v1/reports/sensitive-period", json={"until": "2026-12-31"},
                headers=keys["chief"])  # fmt: skip
    assert r.status_code == 200 and r.json() == {"until": "2026-12-31"}
    r = api.put("/api/v1/reports/sensitive-period", json={"until": None}, headers=keys["east"])
    assert r.status_code == 403
