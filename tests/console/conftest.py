"""A real console: the built static files served by uvicorn over a small city, and Chromium.

The server runs in a thread on a free port against the test database (SQLite or
PostgreSQL, per ``--backend``). Chromium is Debian's (``make test`` installs it);
Playwright drives it without downloading a browser.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import Engine, select

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
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
