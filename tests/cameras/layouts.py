"""Camera layouts and an app client shared by the camera tests (map in camkit.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pingan.app import create_app
from pingan.cameras import streets
from pingan.settings import get_settings
from tests.cameras.camkit import SYSTEM, add_owner, build_roads


@contextmanager
def jobless_client(engine: Engine) -> Iterator[TestClient]:
    """The app with no background worker: a test runs queued jobs itself."""
    settings = get_settings().model_copy(update={"run_jobs": False})
    with TestClient(create_app(settings, engine)) as test_client:
        yield test_client


def street_grid(session: Session) -> None:
    """camkit's roads, the PSB owner, and the roads cut into 10 m pieces."""
    build_roads(session)
    add_owner(session)
    streets.build_segments(session, actor=SYSTEM)
