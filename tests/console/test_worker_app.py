"""The grid workers' phone app in Chromium with a phone viewport: offline and back online."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from playwright.sync_api import Browser, expect
from sqlalchemy import Engine, func, select

from pingan.app import WORKER_DIR
from pingan.cases import actions
from pingan.cases.models import Case, CaseAttachment
from pingan.cases.schemas import CaseIn
from pingan.cases.service import create_case
from pingan.kit.db import session_scope
from pingan.org import users
from pingan.org.levels import Level
from pingan.org.models import OrgUnit
from pingan.org.principal import Principal
from tests.console.conftest import Console

TIMEOUT_MS = 60_000
WORKER, WORKER_PASSWORD = "grid-worker-1", "grid-pass-123"
PHONE = {"width": 390, "height": 844}


def _worker_in_a_grid(engine: Engine) -> tuple[float, float]:
    """A grid worker for the first grid; returns a point inside that grid."""
    operator = Principal.system("worker-test")
    with session_scope(engine) as s:
        grid = s.scalars(
            select(OrgUnit).where(OrgUnit.level == Level.GRID.value).order_by(OrgUnit.id)
        ).first()
        assert grid is not None and grid.boundary is not None
        user = users.create_user(s, username=WORKER, password=WORKER_PASSWORD, actor=operator)
        users.grant_role(s, user=user, role_name="grid_worker", unit=grid, actor=operator)
        point = grid.boundary.representative_point()
        return point.x, point.y


def _photo(tmp_path: Path) -> Path:
    path = tmp_path / "hazard.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 80, 40)).save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())
    return path


def _cases_titled(engine: Engine, title: str) -> list[int]:
    with session_scope(engine) as s:
        return list(s.scalars(select(Case.id).where(Case.title == title)))


def _attachments(engine: Engine, case_id: int) -> int:
    with session_scope(engine) as s:
        count = s.scalar(
            select(func.count())
            .select_from(CaseAttachment)
            .where(CaseAttachment.case_id == case_id)
        )
        return int(count or 0)


def test_report_offline_arrives_once(
    console: Console, browser: Browser, engine: Engine, tmp_path: Path
) -> None:
    assert (WORKER_DIR / "index.html").exists(), "worker app not built: run `make web`"
    lon, lat = _worker_in_a_grid(engine)
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN",
        geolocation={"longitude": lon, "latitude": lat}, permissions=["geolocation"],
    )  # fmt: skip
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{console.url}/worker/")
    page.fill("#username", WORKER)
    page.fill("#password", WORKER_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#new-report")
    # Installable: a manifest, and a service worker controlling the page.
    assert page.evaluate("navigator.serviceWorker.ready.then(r => !!r.active)")
    manifest = page.request.get(f"{console.url}/worker/manifest.webmanifest").json()
    assert manifest["start_url"] == "/worker/" and manifest["display"] == "standalone"
    page.reload()  # now under the service worker's control, so the shell gets cached
    page.wait_for_selector("#new-report")
    console.shoot(page, "worker-home")

    context.set_offline(True)
    expect(page.locator("#net")).to_have_class("net off")
    page.click("#new-report")
    page.select_option("#category", index=0)
    page.fill("#summary", "井盖破损 offline report")
    page.fill("#details", "Cover cracked at the school gate")
    page.set_input_files("#photo", str(_photo(tmp_path)))
    page.click("#gps")
    expect(page.locator("#where")).not_to_have_text("—")
    console.shoot(page, "worker-report-form")
    page.click("#send")
    expect(page.locator("#outbox li.queued")).to_have_count(1)
    assert _cases_titled(engine, "井盖破损 offline report") == []  # nothing left the phone

    # Offline, the app still opens from the service worker's cache, queue intact.
    page.reload()
    page.wait_for_selector("#new-report")
    expect(page.locator("#outbox li.queued")).to_have_count(1)
    console.shoot(page, "worker-offline-queue")

    context.set_offline(False)
    expect(page.locator("#outbox li")).to_have_count(0)
    (case_id,) = _cases_titled(engine, "井盖破损 offline report")
    assert _attachments(engine, case_id) == 1

    # The answer got lost: the phone still holds the report and sends it again with the
    # same idempotency key when the network returns. Still one case, and the queue empties.
    with session_scope(engine) as s:
        key = s.scalar(select(Case.idempotency_key).where(Case.id == case_id))
    assert key
    page.evaluate(
        """([key, lon, lat]) => new Promise((done) => {
          const open = indexedDB.open('pingan-worker', 1);
          open.onsuccess = () => {
            const tx = open.result.transaction('outbox', 'readwrite');
            tx.objectStore('outbox').put({ key, created: Date.now(), body: {
              category: 'manhole_cover', title: '井盖破损 offline report', description: '',
              lon, lat } });
            tx.oncomplete = () => done(true);
          };
        })""",
        [key, lon, lat],
    )
    context.set_offline(True)
    context.set_offline(False)
    expect(page.locator("#outbox li")).to_have_count(0)
    assert _cases_titled(engine, "井盖破损 offline report") == [case_id]
    assert errors == []
    context.close()


def test_task_closed_with_result_photo(
    console: Console, browser: Browser, engine: Engine, tmp_path: Path
) -> None:
    lon, lat = _worker_in_a_grid(engine)
    system = Principal.system("worker-test")
    with session_scope(engine) as s:
        case, _ = create_case(
            s, case_in=CaseIn(category="street_light", title="Street light out", lon=lon, lat=lat),
            actor=system,
        )  # fmt: skip
        for name, fields in (("accept", {}), ("dispatch", {}), ("start", {}),
                             ("feedback", {"result": "lamp replaced"})):  # fmt: skip
            actions.transition(s, case=case, name=name, fields=fields, actor=system)
        case_id = case.id
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{console.url}/worker/")
    page.click("#lang")  # English
    page.fill("#username", WORKER)
    page.fill("#password", WORKER_PASSWORD)
    page.click("button[type=submit]")
    task = page.locator(f'li.task[data-case="{case_id}"]')
    expect(task).to_be_visible()
    task.locator("input.result-photo").set_input_files(str(_photo(tmp_path)))
    console.shoot(page, "worker-task")
    task.locator('button[data-transition="verify"]').click()
    expect(page.locator("#message")).to_contain_text("Done")
    with session_scope(engine) as s:
        closed = s.get(Case, case_id)
        assert closed is not None and closed.state == "verified"
    assert _attachments(engine, case_id) == 1
    context.close()
