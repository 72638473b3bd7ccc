"""The console's screens in Chromium: alerts (live), dispatch board, cases, analytics, admin."""

from __future__ import annotations

import datetime as dt
import json
import re
import struct
import zlib
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine, select

from pingan.alerts import service as alerts
from pingan.alerts.models import Alert, AlertStatus
from pingan.incidents.models import Incident
from pingan.kit.db import session_scope
from pingan.org.principal import Principal
from tests.console.conftest import PASSWORD, USERNAME, Console, record_alert

TIMEOUT_MS = 30_000


def log_in(browser: Browser, console: Console, viewport: dict[str, int], locale: str) -> Page:
    page = browser.new_page(viewport=viewport, locale=locale)  # type: ignore[arg-type]
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(console.url + "/")
    page.locator("#login-username").fill(USERNAME)
    page.locator("#login-password").fill(PASSWORD)
    page.locator("form.login-card button[type=submit]").click()
    page.wait_for_selector('#map[data-loaded~="org-district"]', timeout=TIMEOUT_MS)
    return page


def rendered(page: Page, layer: str) -> int:
    count: int = page.evaluate(
        "(layer) => window.pinganMap.queryRenderedFeatures({ layers: [layer] }).length", layer
    )
    return count


def incident_in_alert_area(engine: Engine, alert_id: int) -> tuple[int, float, float]:
    """An incident of the last 20 days in one of the alert's grids: (id, lon, lat)."""
    with session_scope(engine) as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        grids = json.loads(alert.area)["grid_ids"]
        since = dt.datetime.now(dt.UTC) - dt.timedelta(days=20)
        row = session.execute(
            select(Incident.id, Incident.lon, Incident.lat)
            .where(Incident.grid_id.in_(grids), Incident.occurred_at >= since)
            .order_by(Incident.occurred_at.desc(), Incident.id)
            .limit(1)
        ).one()
        return row.id, row.lon, row.lat


# Screen position of the first spot in an alert's area with no point (circle) within 15 px,
# not under a panel: where a click means the area itself.
AREA_SPOT_JS = """(id) => {
  const map = window.pinganMap;
  const box = map.getContainer().getBoundingClientRect();
  const canvas = map.getCanvas();
  for (let y = 20; y < box.height - 20; y += 25) {
    for (let x = 20; x < box.width - 20; x += 25) {
      const inArea = map.queryRenderedFeatures([x, y], { layers: ['alert-areas-fill'] })
        .some((f) => f.properties.alert_id === id);
      if (!inArea) continue;
      const near = map.queryRenderedFeatures([[x - 15, y - 15], [x + 15, y + 15]])
        .some((f) => f.layer.type === 'circle');
      if (near || document.elementFromPoint(box.left + x, box.top + y) !== canvas) continue;
      return { x: box.left + x, y: box.top + y };
    }
  }
  return null;
}"""


def tiny_png(path: Path) -> Path:
    """A 1x1 PNG written by hand, for the attachment upload."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels)
    path.write_bytes(png + chunk(b"IEND", b""))
    return path


def test_alerts_inbox_and_dispatch_board(
    console: Console, browser: Browser, engine: Engine
) -> None:
    page = log_in(browser, console, {"width": 1440, "height": 900}, "zh-CN")
    failures: list[str] = []
    page.on("pageerror", lambda exc: failures.append(str(exc)))

    # Alerts: the count of new alerts is on the top bar; the inbox lists both seeded alerts.
    expect(page.locator('[data-count-for="alerts"]')).to_have_text("2")
    page.get_by_role("button", name=re.compile("^预警")).click()
    inbox = page.locator("#alerts-panel")
    expect(inbox.locator("li.card")).to_have_count(2)
    expect(inbox.locator("li.card").first).to_contain_text("时空重排扫描")
    # Their areas are drawn on the map; "show area" selects one and moves the map there.
    page.wait_for_function(
        "() => window.pinganMap.queryRenderedFeatures({layers:['alert-areas-fill']}).length > 0"
    )
    first = inbox.locator("li.card").first
    alert_id = int(first.get_attribute("data-alert") or "0")
    first.get_by_role("button", name="在地图上查看").click()
    expect(inbox.locator(f'li.card[data-alert="{alert_id}"]')).to_have_class(re.compile("selected"))

    # Dismissing needs a reason: without one the inbox says so and nothing is sent.
    card = inbox.locator(f'li.card[data-alert="{alert_id}"]')
    card.get_by_role("button", name="驳回").click()
    expect(card.locator(".error")).to_have_text("驳回需要填写理由。")
    # Acknowledge: the alert moves to the acknowledged tab and the count drops.
    card.get_by_label("理由").fill("值班长已知悉")
    card.get_by_role("button", name="确认").click()
    expect(inbox.locator("li.card")).to_have_count(1)
    expect(page.locator('[data-count-for="alerts"]')).to_have_text("1")
    inbox.get_by_role("tab", name=re.compile("已确认")).click()
    acked = inbox.locator(f'li.card[data-alert="{alert_id}"]')
    expect(acked).to_contain_text("值班长已知悉")
    # Across: the alert's area on the map with its incidents (a click on one leads to dispatch).
    acked.get_by_role("button", name="查看区域内事件").click()
    expect(page.get_by_label("事件（聚合点）")).to_be_checked()
    page.wait_for_selector('#map[data-loaded~="incidents"]')
    page.get_by_role("button", name=re.compile("^预警")).click()
    inbox.get_by_role("tab", name=re.compile("新预警")).click()

    # Live: a new alert recorded on the server appears without a reload, and a change
    # made elsewhere (another officer dismisses the other alert) moves it out of the inbox.
    fresh = record_alert(engine, index=3, observed=21)
    expect(inbox.locator(f'li.card[data-alert="{fresh}"]')).to_be_visible(timeout=15_000)
    with session_scope(engine) as session:
        other = session.scalars(
            select(Alert.id).where(Alert.status == AlertStatus.NEW.value, Alert.id != fresh)
        ).one()
        alerts.transition(
            session, alert_id=other, to=AlertStatus.DISMISSED,
            actor=Principal.system("another-officer"), reason="duplicate",
        )  # fmt: skip
    expect(inbox.locator(f'li.card[data-alert="{other}"]')).to_have_count(0, timeout=15_000)
    expect(page.locator('[data-count-for="alerts"]')).to_have_text("1")
    console.shoot(page, "10-alerts-inbox")

    # On the map a click on an incident opens the incident, even inside an alert's area;
    # a click on the area away from any point opens the alert in the inbox.
    fresh_card = inbox.locator(f'li.card[data-alert="{fresh}"]')
    fresh_card.get_by_role("button", name="在地图上查看").click()
    page.get_by_role("button", name="地图", exact=True).click()
    expect(inbox).to_be_hidden()
    page.wait_for_timeout(600)  # the map eases to the area
    incident_id, lon, lat = incident_in_alert_area(engine, fresh)
    # Zoom 17: past the clusters' last zoom, the incident is a point of its own.
    page.evaluate("(c) => window.pinganMap.jumpTo({ center: c, zoom: 17 })", [lon, lat])
    page.wait_for_function(
        """(id) => !window.pinganMap.isMoving() && window.pinganMap
          .queryRenderedFeatures({ layers: ['incident-points'] })
          .some((f) => f.properties.id === id)""",
        arg=incident_id,
    )
    spot: dict[str, Any] = page.evaluate(
        """([id, lonlat]) => {
          const map = window.pinganMap;
          const p = map.project(lonlat);
          const box = map.getContainer().getBoundingClientRect();
          const under = map.queryRenderedFeatures(p);
          return {
            x: box.left + p.x, y: box.top + p.y,
            ids: under.filter((f) => f.layer.id === 'incident-points').map((f) => f.properties.id),
            inAlert: under.some((f) => f.layer.id === 'alert-areas-fill'
              && f.properties.alert_id === id),
            onCanvas: document.elementFromPoint(box.left + p.x, box.top + p.y) === map.getCanvas(),
          };
        }""",
        [fresh, [lon, lat]],
    )
    assert spot["inAlert"] and spot["onCanvas"] and incident_id in spot["ids"], spot
    page.mouse.click(spot["x"], spot["y"])
    title = page.locator("#detail-panel h2")
    expect(title).to_contain_text(re.compile(r"事件 · #\d+"))
    shown = int(re.search(r"#(\d+)", title.inner_text()).group(1))  # type: ignore[union-attr]
    assert shown in spot["ids"]
    expect(inbox).to_be_hidden()
    area: dict[str, float] | None = page.evaluate(AREA_SPOT_JS, fresh)
    assert area is not None, "no spot of the alert's area is clear of points"
    page.mouse.click(area["x"], area["y"])
    expect(inbox).to_be_visible()
    expect(fresh_card).to_have_class(re.compile("selected"))

    # A command is active (a planned event): the board shows command mode and its log.
    city = page.request.get(console.url + "/api/v1/org/units?level=city").json()["items"][0]
    activated = page.request.post(
        console.url + "/api/v1/dispatch/commands",
        data={"name": "Marathon", "kind": "event", "unit": city["code"]},
        headers={"Origin": console.url},
    )
    assert activated.status == 201, activated.text()

    # Dispatch board, opened by its shortcut: the two open incidents are incoming.
    page.locator("#map").focus()
    page.keyboard.press("d")
    board = page.locator("#dispatch-panel")
    expect(board).to_be_visible()
    rows = board.locator("ul.incidents button[data-incident]")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("交通")
    # The responders layer shows on-duty responders at their positions.
    expect(board).to_have_attribute("data-responders", re.compile(r"^[1-9]\d*$"))
    page.wait_for_function(
        "() => window.pinganMap.queryRenderedFeatures({layers:['responders']}).length > 0"
    )

    # Selecting an incident recommends responders with ETAs and draws their routes.
    rows.first.click()
    candidates = board.locator("table.candidates tbody tr[data-responder]")
    expect(candidates.first).to_be_visible()
    expect(candidates.first.locator("td.eta")).to_have_text(re.compile(r"^\d+:\d\d"))
    page.wait_for_function(
        "() => window.pinganMap.queryRenderedFeatures({layers:['routes']}).length > 0"
    )
    etas = [t for t in candidates.locator("td.eta").all_inner_texts()]
    seconds = [int(m) * 60 + int(s) for m, s in (e.split(":")[-2:] for e in etas)]
    assert seconds == sorted(seconds), etas  # best first

    # Pick the nearest and dispatch: the assignment shows with its acknowledgement countdown.
    candidates.first.locator("input[type=checkbox]").check()
    board.locator("#dispatch-chosen").click()
    assignment = board.locator("ul.assignments li.card").first
    expect(assignment).to_have_attribute("data-status", "dispatched")
    expect(assignment.locator(".countdown")).to_have_text(re.compile(r"待确认 \d+:\d\d"))
    expect(board.locator("ol.incident-log li").first).to_be_visible()
    console.shoot(page, "11-dispatch-board")

    # Command mode: a decision goes into the shared command log.
    command = board.locator("section.command-mode")
    expect(command).to_contain_text("Marathon")
    command.locator("#command-log-kind").select_option("decision")
    command.locator("#command-log-text").fill("封闭南段，改道东线")
    command.get_by_role("button", name="记入指挥日志").click()
    expect(board.locator("ol.command-log")).to_contain_text("封闭南段，改道东线")

    # The responder acknowledges (here set by the dispatcher): state and log follow.
    assignment.locator('button[data-next="acknowledged"]').click()
    expect(board.locator("ul.assignments li.card").first).to_have_attribute(
        "data-status", "acknowledged"
    )
    expect(board.locator("ol.incident-log")).to_contain_text("已确认")
    expect(rows.first).to_contain_text("已派遣")

    # Tablet: the board sits under the map and nothing overflows sideways.
    page.set_viewport_size({"width": 820, "height": 1180})
    page.wait_for_timeout(300)
    width: Any = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 820
    console.shoot(page, "12-dispatch-tablet")
    assert failures == [], failures


def test_case_workflow_analytics_and_admin(
    console: Console, browser: Browser, tmp_path: Path
) -> None:
    # A phone: the login form fits the screen (the grid workers' own app is /worker/).
    phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    phone.goto(console.url + "/")
    expect(phone.locator("#login-username")).to_be_visible()
    width: Any = phone.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390
    console.shoot(phone, "16-login-phone")
    phone.close()

    page = log_in(browser, console, {"width": 1366, "height": 900}, "en-GB")
    failures: list[str] = []
    page.on("pageerror", lambda exc: failures.append(str(exc)))
    page.get_by_label("语言").select_option("en")

    # Case inbox: the seeded case with its acceptance clock counting down.
    page.get_by_role("button", name="Cases").click()
    screen = page.locator("#cases-screen")
    row = screen.locator("tr[data-case]").first
    expect(row).to_contain_text("Manhole cover missing")
    expect(row.locator(".clock-left")).to_have_text(re.compile(r"left$"))
    row.get_by_role("button").click()
    case = screen.locator("article.case-page")
    expect(case.locator("#case-state")).to_have_text("reported")
    expect(case.locator(".clocks")).to_contain_text("Acceptance")

    def take(transition: str, **fields: str) -> None:
        form = case.locator(f'form[data-transition="{transition}"]')
        for name, value in fields.items():
            control = form.locator(f"#case-{transition}-{name}")
            if name == "rating":
                control.select_option(value)
            else:
                control.fill(value)
        with page.expect_request(lambda r: r.url.endswith("/transitions")) as sent:
            form.locator("button[type=submit]").click()
        answer = sent.value.response()
        assert answer is not None and answer.status == 200, answer and answer.text()
        expect(case.locator(".case-actions .error")).to_be_empty()

    # Through the workflow; only the actions allowed from each state are offered.
    expect(case.locator("form[data-transition]")).to_have_count(2)  # accept, cancel
    take("accept")
    expect(case.locator("#case-state")).to_have_text("accepted")
    take("dispatch")
    expect(case.locator("#case-state")).to_have_text("dispatched")
    expect(case.locator(".clocks")).to_contain_text("Handling")
    take("start")
    expect(case.locator("#case-state")).to_have_text("handling")
    # A required field left empty is named, and the case stays where it was.
    case.locator('form[data-transition="feedback"] button[type=submit]').click()
    expect(case.locator(".case-actions .error")).to_have_text("Required: Result")
    expect(case.locator("#case-state")).to_have_text("handling")
    take("feedback", result="Cover replaced")
    expect(case.locator("#case-state")).to_have_text("feedback")
    take("verify")
    expect(case.locator("#case-state")).to_have_text("verified")
    take("evaluate", rating="5")
    expect(case.locator("#case-state")).to_have_text("evaluated")
    expect(case.locator(".case-actions")).to_contain_text("no actions")
    timeline = case.locator("ol.timeline")
    for step in ("File", "Accept", "Start handling", "Report result", "Evaluate"):
        expect(timeline).to_contain_text(step)
    expect(timeline).to_contain_text("Cover replaced")

    # Attachments: upload a photo, then it is listed with a download link.
    case.locator("#case-file").set_input_files(str(tiny_png(tmp_path / "cover.png")))
    case.get_by_role("button", name="Upload").click()
    link = case.locator("ul.attachments a")
    expect(link).to_have_text("cover.png")
    answer = page.request.get(console.url + str(link.get_attribute("href")))
    assert answer.status == 200 and answer.headers["content-type"] == "image/png"
    console.shoot(page, "13-case-page")

    # Chinese again: the case page follows.
    page.get_by_label("Language").select_option("zh")
    expect(case.locator("#case-state")).to_have_text("已评价")
    expect(case.locator("h3").first).to_have_text("时限")
    page.get_by_label("语言").select_option("en")

    # Analytics: two periods side by side, each with its hotspot cells and counts.
    page.get_by_role("button", name="Analytics").click()
    analytics = page.locator("#analytics-screen")
    analytics.locator("#compare").click()
    notes = analytics.locator(".compare-note")
    # Each side is a hotspot analysis on the server: slow under load, so a longer wait.
    expect(notes.nth(0)).to_have_attribute("data-hot", re.compile(r"^\d+$"), timeout=TIMEOUT_MS)
    expect(notes.nth(1)).to_have_attribute("data-hot", re.compile(r"^\d+$"), timeout=TIMEOUT_MS)
    expect(notes.nth(1)).to_contain_text("incidents")
    # A run is a job: it is queued and its status is shown (this server runs no worker).
    analytics.locator("#run-kind").select_option("analysis.hotspots")
    analytics.get_by_role("button", name="Run as a job").click()
    expect(analytics.locator("#job-status")).to_have_attribute("data-state", "queued")
    expect(analytics.locator("#job-status progress")).to_be_visible()
    # The play-through steps week by week.
    slider = analytics.locator("#week-slider")
    slider.fill("3")
    expect(analytics.locator("section.play")).to_have_attribute("data-week", "3")
    analytics.locator("#play").click()
    expect(analytics.locator("section.play")).to_have_attribute("data-week", "4", timeout=5_000)
    analytics.locator("#play").click()
    console.shoot(page, "14-analytics")

    # Reports: the briefings archive, filtered by kind (this city has none yet).
    page.get_by_role("button", name="Reports").click()
    reports = page.locator("#reports-screen")
    expect(reports.locator("table.briefings-table")).to_contain_text("No briefings.")
    reports.locator("#briefing-kind").select_option("weekly")
    expect(reports.locator("#briefing-kind")).to_have_value("weekly")
    expect(reports.locator("table.briefings-table")).to_contain_text("No briefings.")

    # Admin: the org tree opens level by level; users and roles; a role granted.
    page.get_by_role("button", name="Admin").click()
    admin = page.locator("#admin")
    root = admin.locator('.org-tree > li[data-level="city"]')
    root.get_by_role("button").first.click()
    expect(root.locator('li[data-level="district"]').first).to_be_visible()
    expect(root).to_have_attribute("aria-expanded", "true")
    admin.get_by_role("tab", name="Users and roles").click()
    users = admin.locator("table.users-table")
    expect(users.locator(f'tr[data-user="{USERNAME}"]')).to_contain_text("admin@")
    admin.locator("#new-username").fill("duty-officer")
    admin.locator("#new-display").fill("Duty officer")
    admin.locator("#new-password").fill("duty-pass-123456")
    admin.get_by_role("button", name="Create").click()
    expect(users.locator('tr[data-user="duty-officer"]')).to_be_visible()
    admin.locator("#grant-user").select_option(label="duty-officer")
    admin.locator("#grant-role").select_option("officer")
    admin.locator("#grant-unit").fill(str(root.get_attribute("data-unit")))
    admin.get_by_role("button", name="Grant").click()
    expect(users.locator('tr[data-user="duty-officer"]')).to_contain_text("officer@")
    console.shoot(page, "15-admin-users")

    # Keyboard: the help dialog lists the shortcuts; Escape closes it.
    page.locator("body").press("?")
    expect(page.locator("#help-dialog")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#help-dialog")).to_be_hidden()
    assert failures == [], failures
