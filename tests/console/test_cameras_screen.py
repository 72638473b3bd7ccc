"""The Cameras screen in Chromium: registry with filters, a camera on the map, coverage by
area, a blind spot, a placement plan run as a job, health; camera layers from vector tiles."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine, func, select

from pingan.cameras import coverage, health
from pingan.cameras.demo import seed_demo_cameras
from pingan.cameras.health_demo import seed_demo_health
from pingan.cameras.models import Camera, CameraOwner, Network, PlacementPlan
from pingan.kit import jobs
from pingan.kit.db import session_scope
from pingan.org.levels import Level
from pingan.org.models import OrgUnit
from pingan.org.principal import Principal
from tests.console.conftest import Console
from tests.console.test_screens import TIMEOUT_MS, log_in

SYSTEM = Principal.system("console-test")
PAGE = 25  # rows per registry page (web/src/cameras_registry.ts)


def percent(share: float) -> str:
    """A share as the console writes it: one decimal, half away from zero."""
    return f"{math.floor(share * 1000 + 0.5) / 10:g}%"


def settle(page: Page) -> None:
    """Wait until the map has stopped moving and drawn what it loaded."""
    page.wait_for_function("() => !window.pinganMap.isMoving() && window.pinganMap.loaded()")


def wait_rendered(page: Page, layer: str, count: int | None = None) -> None:
    """Wait until a map layer draws some features (or exactly ``count``)."""
    page.wait_for_function(
        """([layer, count]) => {
            const n = window.pinganMap.queryRenderedFeatures({ layers: [layer] }).length;
            return count === null ? n > 0 : n === count;
        }""",
        arg=[layer, count],
        timeout=TIMEOUT_MS,
    )


def district_with_school_cameras(engine: Engine) -> tuple[OrgUnit, set[int]]:
    """A district and the ids of the school cameras inside it (for the combined filter)."""
    with session_scope(engine) as s:
        for district in s.scalars(
            select(OrgUnit).where(OrgUnit.level == Level.DISTRICT.value).order_by(OrgUnit.id)
        ):
            inside = select(OrgUnit.id).where(OrgUnit.path.startswith(district.path))
            ids = set(
                s.scalars(
                    select(Camera.id).where(
                        Camera.network == Network.SCHOOL.value, Camera.org_unit_id.in_(inside)
                    )
                )
            )
            if 0 < len(ids) <= PAGE:
                s.expunge(district)
                return district, ids
    raise AssertionError("the demo city has no district with a page of school cameras")


def test_cameras_screen(console: Console, browser: Browser, engine: Engine) -> None:
    assert seed_demo_cameras(engine, seed=3) > PAGE
    assert seed_demo_health(engine, seed=3) > 0
    district, school_ids = district_with_school_cameras(engine)
    with session_scope(engine) as s:
        report = coverage.coverage_report(s, actor=SYSTEM)
        grids = coverage.coverage_report(s, actor=SYSTEM, level=Level.GRID)
        spots = coverage.blind_spots(s, actor=SYSTEM, limit=50)["features"]
        offline = health.list_health(s, actor=SYSTEM, state="offline", limit=1000)
        open_outages = health.list_outages(s, actor=SYSTEM, open_only=True, limit=50)
        networks = s.scalar(select(func.count(func.distinct(Camera.network))))
        one = s.execute(
            select(Camera.id, Camera.owner_camera_id, CameraOwner.name)
            .join(CameraOwner, CameraOwner.id == Camera.owner_id)
            .where(Camera.network == Network.SCHOOL.value)
            .order_by(Camera.id)
        ).first()
        assert one is not None
        demo_plans = s.scalar(select(func.count()).select_from(PlacementPlan))
        grid_names = dict(
            s.execute(
                select(OrgUnit.id, OrgUnit.name_zh).where(OrgUnit.level == Level.GRID.value)
            ).all()
        )

    page = log_in(browser, console, {"width": 1440, "height": 900}, "zh-CN")
    failures: list[str] = []
    page.on("pageerror", lambda exc: failures.append(str(exc)))
    page.get_by_role("button", name="摄像机", exact=True).click()
    panel = page.locator("#cameras-panel")

    # Registry: a first page, then the next one (keyset paging).
    rows = panel.locator("tr[data-camera]")
    expect(rows).to_have_count(PAGE)
    expect(panel.locator("#cam-rows")).to_have_text(f"第 1–{PAGE} 条")
    first_ids = [rows.nth(i).get_attribute("data-camera") for i in range(PAGE)]
    panel.get_by_role("button", name="下一页").click()
    expect(panel.locator("#cam-rows")).to_have_text(f"第 {PAGE + 1}–{2 * PAGE} 条")
    assert rows.first.get_attribute("data-camera") not in first_ids
    panel.get_by_role("button", name="上一页").click()
    expect(rows.first).to_have_attribute("data-camera", str(first_ids[0]))

    # Filters: school cameras of one district (the subdistrict box opens for that district).
    panel.get_by_label("网络").select_option("school")
    panel.get_by_label("所属区").select_option(str(district.id))
    expect(panel.get_by_label("所属街道")).to_be_enabled()
    panel.get_by_role("button", name="应用").click()
    expect(rows).to_have_count(len(school_ids))
    assert {int(rows.nth(i).get_attribute("data-camera") or 0) for i in range(len(school_ids))} == (
        school_ids
    )
    expect(panel.get_by_role("button", name="下一页")).to_be_disabled()
    # Text: the owner's own camera id finds exactly that camera.
    panel.get_by_label("网络").select_option("")
    panel.get_by_label("所属区").select_option("")
    panel.get_by_label("名称或编号").fill(one.owner_camera_id)
    panel.get_by_role("button", name="应用").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-camera", str(one.id))

    # A camera: details beside the map, the map flies to it and draws its field of view.
    rows.first.get_by_role("button").click()
    detail = panel.locator("#cam-detail")
    expect(detail).to_have_attribute("data-camera", str(one.id))
    expect(detail).to_contain_text(one.name)
    expect(detail).to_contain_text("学校")
    expect(detail.locator(".cam-state")).to_have_attribute(
        "data-state", re.compile("online|offline")
    )
    wait_rendered(page, "camera-focus-sector")
    settle(page)
    assert page.evaluate("() => window.pinganMap.getZoom()") >= 16
    # Close up the cameras layer is single cameras from the vector tiles, the picked one among them.
    page.wait_for_function(
        """(id) => window.pinganMap.queryRenderedFeatures({layers: ['camera-points']})
             .some((f) => f.properties.id === id)""",
        arg=one.id,
        timeout=TIMEOUT_MS,
    )
    console.shoot(page, "20-cameras-registry")

    # Coverage by area: the city's totals and one row per district, as the report says.
    panel.get_by_role("tab", name="覆盖").click()
    expect(panel.locator("#cam-coverage-totals")).to_contain_text(percent(report.share))
    area_rows = panel.locator(".cam-area-table tr[data-unit]")
    expect(area_rows).to_have_count(len(report.areas))
    worst = min(report.areas, key=lambda a: a.share)
    expect(area_rows.first).to_have_attribute("data-unit", str(worst.org_unit_id))
    expect(area_rows.first).to_contain_text(percent(worst.share))
    expect(panel.locator(".cam-class-table tbody tr")).to_have_count(len(report.road_classes))
    expect(panel.locator(".cam-site-table tbody tr")).to_have_count(len(report.sites))
    # Down to grids; a click outlines the area on the map.
    panel.get_by_label("统计层级").select_option("grid")
    panel.get_by_role("button", name="查询").click()
    expect(area_rows).to_have_count(min(len(grids.areas), 200))
    area_rows.first.get_by_role("button").click()
    # The road classes are now that area's.
    worst_grid = min(grids.areas, key=lambda a: a.share)
    inline = panel.locator(".cam-area-classes")
    expect(inline.locator("caption")).to_contain_text(grid_names[worst_grid.org_unit_id])
    expect(inline.locator("tbody tr")).to_have_count(len(worst_grid.road_classes))
    expect(area_rows.first.get_by_role("button")).to_have_attribute("aria-expanded", "true")
    wait_rendered(page, "camera-focus-area")
    settle(page)
    wait_rendered(page, "coverage")
    assert page.locator('input[data-layer="coverage"]').is_checked()
    console.shoot(page, "21-cameras-coverage")

    # Blind spots: ranked as the API ranks them; a click shows the piece of street.
    panel.get_by_role("tab", name="盲区").click()
    blind_rows = panel.locator(".cam-blind-table tr[data-rank]")
    expect(blind_rows).to_have_count(len(spots))
    top = spots[0]["properties"]
    expect(blind_rows.first.locator("td").nth(2)).to_have_text(str(top["incidents_near"]))
    blind_rows.first.get_by_role("button").click()
    expect(blind_rows.first).to_have_class(re.compile("selected"))
    wait_rendered(page, "camera-focus-line")
    page.wait_for_selector('#map[data-loaded~="blind-spots"]', timeout=TIMEOUT_MS)
    settle(page)
    # The fly-to moved the view, and the blind spots reload for it: wait for them.
    wait_rendered(page, "blind-spots")
    console.shoot(page, "22-cameras-blind-spot")

    # Placement: the demo plan is listed; a small plan with a district budget runs as a job.
    panel.get_by_role("tab", name="布点规划").click()
    expect(panel.locator("#cam-plan-pick option")).to_have_count(demo_plans or 0)
    panel.get_by_label("方案名称").fill("console plan")
    panel.get_by_label("新增点位数 N").fill("5")
    budget = panel.locator(".cam-budget input").first
    budget.fill("1")
    panel.get_by_role("button", name="运行规划").click()
    status = panel.locator("#cam-plan-status")
    expect(status).to_have_attribute("data-state", "queued")
    expect(status.locator("progress")).to_be_visible()
    assert jobs.run_pending(engine) >= 1  # this server runs no worker: the test is the worker
    with session_scope(engine) as s:
        plan = s.scalars(select(PlacementPlan).where(PlacementPlan.name == "console plan")).one()
        plan_id = plan.id
        sites = json.loads(plan.result)["sites"]
    expect(panel.locator("section.cam-plan")).to_have_attribute(
        "data-plan", str(plan_id), timeout=TIMEOUT_MS
    )
    assert len(sites) == 5
    # The job's outcome in the reader's language, from the job's result (its message is English).
    expect(status).to_have_attribute("data-state", "succeeded")
    expect(status.locator("p.meta")).to_have_text("已选出 5 个点位")
    budget_id = int((budget.get_attribute("id") or "").rsplit("-", 1)[1])
    assert sum(1 for site in sites if site["district_id"] == budget_id) <= 1
    site_rows = panel.locator(".cam-sites-table tr[data-order]")
    expect(site_rows).to_have_count(5)
    expect(site_rows.first.locator("td").nth(2)).to_have_text(re.compile(r"^[\d,.]+$"))
    # The sites on the map (the layer switched on), and as files.
    assert page.locator('input[data-layer="planned-sites"]').is_checked()
    settle(page)
    wait_rendered(page, "planned-sites", 5)
    csv_link = panel.get_by_role("link", name="下载 CSV")
    answer = page.request.get(console.url + str(csv_link.get_attribute("href")))
    assert answer.status == 200 and answer.headers["content-type"].startswith("text/csv")
    assert len(answer.text().strip().splitlines()) == 1 + 5
    geojson = page.request.get(
        console.url + str(panel.get_by_role("link", name="下载 GeoJSON").get_attribute("href"))
    )
    assert len(geojson.json()["features"]) == 5
    site_rows.nth(1).get_by_role("button").click()
    expect(site_rows.nth(1)).to_have_class(re.compile("selected"))
    console.shoot(page, "23-cameras-plan")

    # Health: the cameras offline now, open outages, availability by network and by area.
    panel.get_by_role("tab", name="运行状态").click()
    expect(panel.locator("#cam-offline-count")).to_have_attribute("data-count", str(len(offline)))
    expect(panel.locator(".cam-offline-table tr[data-camera]")).to_have_count(len(offline))
    expect(panel.locator(".cam-outage-table tr[data-outage]")).to_have_count(len(open_outages))
    availability = panel.locator(".cam-availability-table tbody tr")
    expect(availability).to_have_count(networks or 0)
    expect(availability.first.locator("td").nth(2)).to_have_text(re.compile(r"%$"))
    panel.get_by_label("分组").select_option("area")
    expect(panel.get_by_label("统计层级")).to_be_visible()
    expect(availability).to_have_count(len(report.areas))
    console.shoot(page, "24-cameras-health")
    # An offline camera opens in the registry, offline.
    down = offline[0].camera_id
    panel.locator(f'.cam-offline-table tr[data-camera="{down}"] button').click()
    expect(panel.get_by_role("tab", name="登记台账")).to_have_attribute("aria-selected", "true")
    expect(detail).to_have_attribute("data-camera", str(down))
    expect(detail.locator(".cam-state")).to_have_attribute("data-state", "offline")
    expect(detail.locator(".cam-outages li")).not_to_have_count(0)

    # English, and the tabs answer the arrow keys.
    page.get_by_label("语言").select_option("en")
    expect(panel.get_by_role("tab", name="Registry")).to_have_attribute("aria-selected", "true")
    panel.get_by_role("tab", name="Registry").focus()
    page.keyboard.press("ArrowRight")
    expect(panel.get_by_role("tab", name="Coverage")).to_have_attribute("aria-selected", "true")
    expect(panel.get_by_role("tab", name="Coverage")).to_be_focused()
    expect(panel.locator("#cam-coverage-totals")).to_contain_text("km covered")
    legend = page.locator("#legend-cameras")
    expect(legend).to_contain_text("Public HD")
    expect(legend).to_contain_text("Covered")
    console.shoot(page, "25-cameras-coverage-en")
    assert failures == [], failures


def test_cameras_screen_at_tablet_width(console: Console, browser: Browser, engine: Engine) -> None:
    assert seed_demo_cameras(engine, seed=3) > 0
    page = log_in(browser, console, {"width": 820, "height": 1180}, "en-GB")
    failures: list[str] = []
    page.on("pageerror", lambda exc: failures.append(str(exc)))
    page.get_by_label("语言").select_option("en")
    page.get_by_role("button", name="Cameras", exact=True).click()
    panel = page.locator("#cameras-panel")
    expect(panel.locator("tr[data-camera]")).to_have_count(PAGE)
    # The panel sits under the map; the page itself never scrolls sideways.
    box: Any = panel.bounding_box()
    map_box: Any = page.locator("#map").bounding_box()
    assert box["y"] >= map_box["y"] + map_box["height"] - 1
    panel.get_by_role("tab", name="Coverage").click()
    expect(panel.locator(".cam-area-table tr[data-unit]").first).to_be_visible()
    width: Any = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 820
    console.shoot(page, "26-cameras-tablet")
    assert failures == [], failures
