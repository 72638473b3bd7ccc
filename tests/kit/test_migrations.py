"""Migrations run from empty and match the models exactly, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from pingan.kit.migrate import current_revision, head_revision, include_object_for
from pingan.models import Base


def test_schema_is_at_head_and_matches_models(engine: Engine, db_url: str) -> None:
    assert current_revision(db_url) == head_revision()
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={"compare_type": True, "include_object": include_object_for(conn.dialect.name)},
        )
        diff = compare_metadata(context, Base.metadata)
    # PostGIS adds its own tables (spatial_ref_sys ...): ignore what is not ours.
    ours = set(Base.metadata.tables)
    relevant = [d for d in diff if not (d[0] == "remove_table" and d[1].name not in ours)]
    relevant = [d for d in relevant if not (d[0] == "remove_index" and d[1].table.name not in ours)]
    assert relevant == []


def test_spatial_indexes_on_postgres(engine: Engine) -> None:
    indexes = {i["name"] for i in inspect(engine).get_indexes("incidents")}
    if engine.dialect.name == "postgresql":
        assert "ix_incidents_geom" in indexes
    else:
        assert "ix_incidents_geom" not in indexes
