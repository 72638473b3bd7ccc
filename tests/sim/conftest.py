"""A tiny synthetic city built once per module, and spare empty databases.

Building even the tiny city takes a second or two, so the read-only checks
share one; tests that need their own database take ``spare_db``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from pingan.kit.db import engine_for
from pingan.sim.city import CitySummary, build_city
from tests.conftest import PG_BASE_URL, _admin_engine

SEED = int(os.environ.get("PINGAN_TEST_SIM_SEED", "11"))


def _copy_database(
    backend: str, sqlite_template: Path | None, pg_template: str | None, folder: Path
) -> str:
    if backend == "sqlite":
        assert sqlite_template is not None
        path = folder / f"sim-{uuid.uuid4().hex[:8]}.db"
        path.write_bytes(sqlite_template.read_bytes())
        return f"sqlite:///{path}"
    name = f"pingan_sim_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    admin.dispose()
    return f"{PG_BASE_URL}/{name}"


def _drop_database(url: str) -> None:
    engine_for(url).dispose()
    if url.startswith("sqlite"):
        return
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def tiny_city(
    backend: str,
    _sqlite_template: Path | None,
    _pg_template: str | None,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, CitySummary]]:
    """(database URL, summary) of the tiny city for seed ``SEED``."""
    folder = tmp_path_factory.mktemp("sim")
    url = _copy_database(backend, _sqlite_template, _pg_template, folder)
    summary = build_city(engine_for(url), scale="tiny", seed=SEED)
    yield url, summary
    _drop_database(url)


@pytest.fixture
def spare_db(
    backend: str, _sqlite_template: Path | None, _pg_template: str | None, tmp_path: Path
) -> Iterator[Callable[[], str]]:
    """Makes fresh, migrated and seeded databases on demand; drops them afterwards."""
    made: list[str] = []

    def make() -> str:
        made.append(_copy_database(backend, _sqlite_template, _pg_template, tmp_path))
        return made[-1]

    yield make
    for url in made:
        _drop_database(url)
