"""Test fixtures: real databases on SQLite or PostgreSQL + PostGIS.

Pick the backend with ``--backend sqlite|postgres`` or ``PINGAN_TEST_BACKEND``.
On PostgreSQL each test database is a fresh copy of a migrated template, so
tests never see each other's rows; PostgreSQL is reached at
``PINGAN_TEST_PG_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from pingan.kit.db import engine_for, session_scope
from pingan.kit.migrate import upgrade

PG_BASE_URL = os.environ.get("PINGAN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=["sqlite", "postgres"],
        default=os.environ.get("PINGAN_TEST_BACKEND", "sqlite"),
        help="database backend the tests run against",
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"pingan backend: {config.getoption('--backend')}"


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--backend"))


def _admin_engine() -> Engine:
    return create_engine(f"{PG_BASE_URL}/postgres", isolation_level="AUTOCOMMIT")


def _seed(url: str) -> None:
    from pingan.bootstrap import seed_reference_data

    with session_scope(engine_for(url)) as session:
        seed_reference_data(session)


@pytest.fixture(scope="session")
def _pg_template(backend: str) -> Iterator[str | None]:
    """A migrated, seeded PostgreSQL database to copy for each test."""
    if backend != "postgres":
        yield None
        return
    name = f"pingan_tpl_{uuid.uuid4().hex[:10]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{PG_BASE_URL}/{name}"
    upgrade(url)
    _seed(url)
    engine_for(url).dispose()
    engine_for.cache_clear()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    if backend != "sqlite":
        return None
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    _seed(url)
    engine = engine_for(url)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def db_url(
    backend: str, _pg_template: str | None, _sqlite_template: Path | None, tmp_path: Path
) -> Iterator[str]:
    """URL of a fresh, migrated and seeded database for one test."""
    if backend == "sqlite":
        assert _sqlite_template is not None
        path = tmp_path / "pingan.db"
        path.write_bytes(_sqlite_template.read_bytes())
        url = f"sqlite:///{path}"
        yield url
        engine_for(url).dispose()
        return
    name = f"pingan_t_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{_pg_template}"'))
    url = f"{PG_BASE_URL}/{name}"
    yield url
    engine_for(url).dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def engine(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Engine:
    """The engine of the test database; also what ``get_settings()`` points at."""
    from pingan.settings import get_settings

    monkeypatch.setenv("PINGAN_DATABASE_URL", db_url)
    # The event cube's snapshot of this test's database lives with the test.
    monkeypatch.setenv("PINGAN_CUBE_DIR", str(tmp_path / "cube"))
    # Periodic jobs (daily early warning...) would run in every test server; tests
    # that need them call pingan.kit.jobs.enqueue_due themselves.
    monkeypatch.setenv("PINGAN_RUN_SCHEDULES", "false")
    get_settings.cache_clear()
    return engine_for(db_url)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with session_scope(engine) as s:
        yield s


@pytest.fixture
def city(engine: Engine) -> TestCity:
    """The small hand-built city of ``tests/citykit.py``."""
    from tests.citykit import build_test_city

    with session_scope(engine) as s:
        return build_test_city(s)


from tests.citykit import TestCity  # noqa: E402
