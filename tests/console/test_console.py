"""The console end to end in Chromium: log in, map layers, heat, hotspots, language, audit."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Browser, Page, Response, expect

from tests.console.conftest import PASSWORD, USERNAME, Console

TIMEOUT_MS = 60_000


def wait_loaded(page: Page, key: str) -> None:
    """The app lists the layers whose data arrived in #map[data-loaded]."""
    page.wait_for_selector(f'#map[data-loaded~="{key}"]', timeout=TIMEOUT_MS)


def incident_pixel(page: Page) -> dict[str, float]:
    """Screen position of a single (unclustered) incident drawn on the map."""
    point: dict[str, float] | None = page.evaluate(
        """() => {
          const map = window.pinganMap;
          const box = map.getContainer().getBoundingClientRect();
          const canvas = map.getCanvas();
          // The first point whose pixel is not under a panel, legend or label (inside an
          // alert's area too: a click on a point opens the point, not the alert).
          for (const hit of map.queryRenderedFeatures({ layers: ['incident-points'] })) {
            const p = map.project(hit.geometry.coordinates);
            const x = box.left + p.x, y = box.top + p.y;
            if (document.elementFromPoint(x, y) === canvas) return { x, y };
          }
          return null;
        }"""
    )
    assert point is not None, "no single incident is drawn on the open map"
    return point


def hot_cell_pixel(page: Page) -> dict[str, float]:
    """Screen position of the centre of a hot cell drawn on the map."""
    point: dict[str, float] | None = page.evaluate(
        """() => {
          const map = window.pinganMap;
          const box = map.getContainer().getBoundingClientRect();
          const canvas = map.getCanvas();
          const hits = map.queryRenderedFeatures({ layers: ['hotspots'] })
            .filter((f) => f.properties.class > 0);
          // The first hot cell whose centre is not under a panel, legend or label.
          for (const hit of hits) {
            const ring = hit.geometry.coordinates[0];
            const lon = ring.slice(0, -1).reduce((s, c) => s + c[0], 0) / (ring.length - 1);
            const lat = ring.slice(0, -1).reduce((s, c) => s + c[1], 0) / (ring.length - 1);
            const p = map.project([lon, lat]);
            const x = box.left + p.x, y = box.top + p.y;
            if (document.elementFromPoint(x, y) === canvas) return { x, y };
          }
          return null;
        }"""
    )
    assert point is not None, "no hot cell is drawn on the open map"
    return point


def test_console_end_to_end(console: Console, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 1366, "height": 860}, locale="zh-CN")
    page.set_default_timeout(TIMEOUT_MS)
    failures: list[str] = []
    page.on("pageerror", lambda exc: failures.append(str(exc)))
    page.goto(console.url + "/")

    # Login: a wrong password shows the API's problem detail, then the right one enters.
    page.get_by_label("用户名").fill(USERNAME)
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#login-error")).not_to_be_empty()
    console.shoot(page, "01-login-error")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()

    # The map with the district boundaries (on by default) and roads.
    expect(page.locator("#map canvas.maplibregl-canvas")).to_be_visible()
    wait_loaded(page, "org-district")
    wait_loaded(page, "roads")
    expect(page.locator(".topbar .brand")).to_have_text("平安 · 城市运行中心")
    console.shoot(page, "02-map-districts")

    # The heat map: its tiles are fetched and answered as PNGs.
    tiles: list[Response] = []
    page.on("response", lambda r: tiles.append(r) if "/heat/tiles/" in r.url else None)
    page.get_by_label("热力图").check()
    wait_loaded(page, "heat")
    page.wait_for_function("() => window.pinganMap.areTilesLoaded()")
    page.wait_for_timeout(300)
    assert tiles, "no heat tile was requested"
    assert all(r.status == 200 for r in tiles), [(r.url, r.status) for r in tiles]
    assert tiles[0].header_value("content-type") == "image/png"
    expect(page.locator("#legend-heat .ramp")).to_be_visible()
    expect(page.get_by_role("button", name="地图")).to_have_attribute("aria-pressed", "true")
    console.shoot(page, "03-heat")

    # Hotspots: coloured cells with a legend; a click shows the cell in the detail panel.
    page.get_by_label("热力图").uncheck()
    hotspot_urls: list[str] = []
    page.on("request", lambda r: hotspot_urls.append(r.url) if "/hotspots" in r.url else None)
    page.get_by_label("热点（Gi*）").check()
    wait_loaded(page, "hotspots")
    expect(page.locator("#legend-hotspots")).to_contain_text("热点 99%")
    page.wait_for_function(
        "() => window.pinganMap.queryRenderedFeatures({layers:['hotspots']}).length > 0"
    )
    cell = hot_cell_pixel(page)
    page.mouse.click(cell["x"], cell["y"])
    detail = page.locator("#detail-panel")
    expect(detail.locator("h2")).to_contain_text("热点单元")
    expect(detail.locator("dl")).to_contain_text(re.compile(r"hot \d+%"))
    expect(detail.locator("dt").first).to_have_text("编号")
    console.shoot(page, "04-hotspot-detail")

    # The time window reloads the hotspots for the last 7 days.
    with page.expect_response(lambda r: "/analysis/hotspots" in r.url) as answer:
        page.get_by_label("近7天").check()
    assert answer.value.status == 200
    assert "since=" in answer.value.url and answer.value.url != hotspot_urls[0]
    wait_loaded(page, "hotspots")

    # Emerging hotspots (last 12 weeks): cells by category, with a legend of those present.
    page.get_by_label("新兴热点（近12周）").check()
    wait_loaded(page, "emerging")
    expect(page.locator("#legend-emerging h3")).to_have_text("新兴热点类别")
    page.get_by_label("新兴热点（近12周）").uncheck()

    # Incidents as clustered points within the view, counted in the panel.
    page.get_by_label("事件（聚合点）").check()
    wait_loaded(page, "incidents")
    expect(page.locator("#incident-count")).to_contain_text("显示事件")
    spot = incident_pixel(page)
    page.mouse.click(spot["x"], spot["y"])
    expect(detail.locator("h2")).to_contain_text("事件 · #")
    expect(detail.locator("dl")).to_contain_text("发生时间")
    expect(detail.get_by_role("button", name="在调度台打开")).to_be_visible()

    # Language: every label switches to English, and back.
    page.get_by_label("语言").select_option("en")
    expect(page.locator(".topbar .brand")).to_have_text("Pingan · City Operations")
    expect(page.get_by_label("Heat map")).to_be_visible()
    expect(detail.locator("h2")).to_contain_text("Incident · #")
    expect(detail.locator("dl")).to_contain_text("Occurred")
    expect(page.locator("#incident-count")).to_contain_text("incidents shown")
    console.shoot(page, "05-english")

    # Admin: the audit log and a verified chain.
    page.get_by_role("button", name="Admin").click()
    page.get_by_role("tab", name="Audit log").click()
    expect(page.locator(".audit-table tbody tr").first).to_be_visible()
    page.get_by_role("button", name="Verify chain").click()
    result = page.locator("#chain-result")
    expect(result).to_have_attribute("data-ok", "true")
    expect(result).to_contain_text("Chain intact")
    console.shoot(page, "06-audit-verified")

    # Tablet width: the detail panel moves under the map, nothing overflows.
    page.get_by_role("button", name="Map").click()
    page.set_viewport_size({"width": 820, "height": 1180})
    page.wait_for_timeout(300)
    width: Any = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 820
    console.shoot(page, "07-tablet")
    assert failures == [], failures
