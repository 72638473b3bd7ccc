"""Run the Alembic migrations that ship inside the package."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Index, text

from pingan.kit.db import engine_for

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision``, creating PostGIS first."""
    engine = engine_for(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    command.upgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine_for(url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


# Indexes written as SQL in a migration because no model can express them (expression
# indexes with operator classes); comparisons of models and schema leave them alone.
SQL_ONLY_INDEXES = frozenset({"ix_cases_search_trgm"})
# Likewise SQLite's full-text tables (the FTS5 table and its shadow tables).
SQL_ONLY_TABLE_PREFIXES = ("cases_fts",)


def include_object_for(dialect: str) -> Callable[..., bool]:
    """GiST indexes exist only on PostgreSQL; elsewhere they are not part of the schema."""

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        if type_ == "index" and name in SQL_ONLY_INDEXES:
            return False
        if type_ == "table" and name is not None and name.startswith(SQL_ONLY_TABLE_PREFIXES):
            return False
        if type_ == "index" and isinstance(obj, Index) and not reflected:
            using = obj.dialect_options["postgresql"]["using"]
            return dialect == "postgresql" or using != "gist"
        return True

    return include


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head
