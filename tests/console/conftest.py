"""A real console: the built static files served by uvicorn over a small city, and Chromium.

The server runs in a thread on a free port against the test database (SQLite or
PostgreSQL, per ``--backend``). Chromium is Debian's (``make test`` installs it);
Playwright drives it without downloading a browser.
"""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pingan.app import STATIC_DIR, create_app
from pingan.kit.db import session_scope
from pingan.org import users
from pingan.org.levels import Level
from pingan.org.models import OrgUnit
from pingan.org.principal import Principal
from pingan.settings import get_settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
USERNAME = "console-admin"
PASSWORD = "console-pass-123"
SHOTS_FOR_LEAD = Path("/tmp/console-shots")
# Assertions wait longer than Playwright's 5 s: the machine running the suite is often
# loaded, and the map bundle is parsed after login.
expect.set_options(timeout=15_000)


@dataclass
class Console:
    url: str
    shots: Path

    def shoot(self, page: Page, name: str) -> Path:
        """Save a screenshot as a test artifact and a copy for people to look at."""
        path = self.shots / f"{name}.png"
        page.screenshot(path=str(path))
        SHOTS_FOR_LEAD.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, SHOTS_FOR_LEAD / path.name)
        return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _seed_city_and_admin(engine: Engine) -> None:
    from pingan.sim.city import build_city, recent_start

    build_city(engine, scale="tiny", seed=3, start=recent_start(60), days=60)
    operator = Principal.system("console-test")
    with session_scope(engine) as session:
        city = session.scalar(select(OrgUnit).where(OrgUnit.level == Level.CITY.value))
        assert city is not None
        user = users.create_user(
            session, username=USERNAME, password=PASSWORD, display_name="Admin", actor=operator
        )
        users.grant_role(session, user=user, role_name="admin", unit=city, actor=operator)
    _seed_operations(engine, operator)


def grids_of_a_community(session: Session, index: int = 0) -> tuple[OrgUnit, list[int]]:
    """A community (the index-th by id) and the ids of its grids."""
    communities = session.scalars(
        select(OrgUnit).where(OrgUnit.level == Level.COMMUNITY.value).order_by(OrgUnit.id)
    ).all()
    community = communities[index % len(communities)]
    grids = session.scalars(
        select(OrgUnit.id).where(OrgUnit.parent_id == community.id).order_by(OrgUnit.id)
    ).all()
    return community, list(grids)


def record_alert(engine: Engine, *, index: int, observed: int) -> int:
    """An early-warning alert over one community's grids, as a detection run would record it."""
    from pingan.alerts.service import Signal, record_signal

    today = dt.datetime.now(dt.UTC).date()
    with session_scope(engine) as session:
        community, grids = grids_of_a_community(session, index)
        alert, _ = record_signal(
            session,
            signal=Signal(
                method="scan.space_time_permutation", org_unit_id=community.id,
                grid_ids=tuple(grids), window_start=today - dt.timedelta(days=3),
                window_end=today, statistic=9.5 + index, observed=observed, expected=3.2,
                p_value=0.002,
            ),
            actor=Principal.system("console-test"),
        )  # fmt: skip
        return alert.id


def _seed_operations(engine: Engine, operator: Principal) -> None:
    """What the screens work on: responders on the roads, alerts, open incidents, a case."""
    from pingan.cases.categories import ensure_categories
    from pingan.cases.schemas import CaseIn
    from pingan.cases.service import create_case
    from pingan.dispatch.seed import seed_responders
    from pingan.incidents import service as incidents
    from pingan.incidents.schemas import IncidentIn

    with session_scope(engine) as session:
        seed_responders(session, actor=operator, seed=1, available_share=1.0)
    record_alert(engine, index=0, observed=14)
    record_alert(engine, index=1, observed=9)
    now = dt.datetime.now(dt.UTC)
    with session_scope(engine) as session:
        ensure_categories(session)
        _, grids = grids_of_a_community(session, 2)
        grid = session.get(OrgUnit, grids[0])
        assert grid is not None and grid.boundary is not None
        centre = grid.boundary.representative_point()
        for minutes, kind in ((25, "theft"), (5, "traffic")):
            incidents.create(
                session,
                incident_in=IncidentIn(
                    type=kind, occurred_at=now - dt.timedelta(minutes=minutes),
                    lon=centre.x, lat=centre.y, summary=f"console test {kind}",
                ),
                actor=operator,
            )  # fmt: skip
        create_case(
            session,
            case_in=CaseIn(
                category="manhole_cover", title="Manhole cover missing", lon=centre.x,
                lat=centre.y, address="Test Road 1",
            ),
            actor=operator,
        )  # fmt: skip


@pytest.fixture
def console(engine: Engine, tmp_path: Path) -> Iterator[Console]:
    assert (STATIC_DIR / "index.html").exists(), "console not built: run `make web`"
    _seed_city_and_admin(engine)
    settings = get_settings().model_copy(update={"run_jobs": False})
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, engine), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the console server did not start"
        time.sleep(0.05)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    try:
        yield Console(url=f"http://127.0.0.1:{port}", shots=shots)
    finally:
        # Event streams may still be open: do not wait for them to end.
        server.should_exit = True
        server.force_exit = True
        thread.join(timeout=10)


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
