"""`pingan backup` / `pingan restore` round trips on the test backend."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from typer.testing import CliRunner

from pingan.cli import app
from pingan.kit.db import engine_for
from pingan.ops import backup
from pingan.settings import get_settings
from tests.citykit import TestCity
from tests.conftest import PG_BASE_URL
from tests.ops.conftest import add_incidents

runner = CliRunner()


def _tamper_audit(engine: Engine, entry_id: int) -> None:
    """What someone with DDL rights could do: drop the guard triggers and edit a row."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER audit_log_no_change ON audit_log"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
        conn.execute(text(f"UPDATE audit_log SET actor = 'user:someone' WHERE id = {entry_id}"))


def test_round_trip_restores_every_row_and_the_audit_chain(
    engine: Engine, city: TestCity, tmp_path: Path
) -> None:
    add_incidents(engine, 40)
    before = backup.fingerprint(engine)
    assert {t.table: t.rows for t in before}["incidents"] == 40
    file = tmp_path / "pingan.backup"
    made = runner.invoke(app, ["backup", str(file)])
    assert made.exit_code == 0, made.output
    # Work goes on after the backup...
    add_incidents(engine, 5, prefix="later")
    assert backup.fingerprint(engine) != before
    # ...and the restore brings back exactly what was backed up.
    restored = runner.invoke(app, ["restore", str(file), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert "audit chain intact" in restored.output
    after = backup.fingerprint(engine_for(get_settings().database_url))
    assert after == before
    verified = runner.invoke(app, ["audit", "verify"])
    assert verified.exit_code == 0, verified.output


@pytest.fixture
def blank_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty database on the same server (or an absent SQLite file)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh' / 'pingan.db'}"
        return
    name = f"pingan_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(f"{PG_BASE_URL}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield f"{PG_BASE_URL}/{name}"
    engine_for(f"{PG_BASE_URL}/{name}").dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_restore_into_a_blank_database(
    engine: Engine, city: TestCity, tmp_path: Path, blank_url: str
) -> None:
    add_incidents(engine, 12)
    before = backup.fingerprint(engine)
    file = tmp_path / "disaster.backup"
    backup.backup(get_settings().database_url, file)
    report = backup.restore(blank_url, file)
    assert report.audit.ok and report.audit.checked > 0
    assert report.tables == before


def test_a_file_that_is_not_a_backup_is_refused_and_nothing_changes(
    engine: Engine, city: TestCity, tmp_path: Path
) -> None:
    add_incidents(engine, 3)
    before = backup.fingerprint(engine)
    bogus = tmp_path / "notes.backup"
    bogus.write_text("id,name\n1,not a database\n")
    refused = runner.invoke(app, ["restore", str(bogus), "--yes"])
    assert refused.exit_code == 1
    assert "not a" in refused.output
    missing = runner.invoke(app, ["restore", str(tmp_path / "absent.backup"), "--yes"])
    assert missing.exit_code == 1 and "no backup file" in missing.output
    assert backup.fingerprint(engine) == before


def test_restoring_a_tampered_database_reports_the_broken_entry(
    engine: Engine, city: TestCity, tmp_path: Path
) -> None:
    add_incidents(engine, 3)
    _tamper_audit(engine, 2)
    file = tmp_path / "tampered.backup"
    assert runner.invoke(app, ["backup", str(file)]).exit_code == 0
    restored = runner.invoke(app, ["restore", str(file), "--yes"])
    assert restored.exit_code == 1
    assert "audit chain broken at entry 2" in restored.output
