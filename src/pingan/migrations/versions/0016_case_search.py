"""case text search: FTS5 trigram table on SQLite, pg_trgm GIN index on PostgreSQL

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 13:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Must stay the same expression as pingan.cases.search.SEARCH_TEXT.
PG_TEXT = (
    "(coalesce(title, '') || ' ' || coalesce(description, '') || ' ' || "
    "coalesce(address, '') || ' ' || number)"
)
SQLITE_ROW = "new.id, new.title, new.description, new.address, new.number"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(f"CREATE INDEX ix_cases_search_trgm ON cases USING gin ({PG_TEXT} gin_trgm_ops)")
        return
    op.execute(
        "CREATE VIRTUAL TABLE cases_fts USING fts5(title, description, address, number, "
        "content='cases', content_rowid='id', tokenize='trigram')"
    )
    op.execute(
        "INSERT INTO cases_fts(rowid, title, description, address, number) "
        "SELECT id, title, description, address, number FROM cases"
    )
    op.execute(
        "CREATE TRIGGER cases_fts_insert AFTER INSERT ON cases BEGIN "
        f"INSERT INTO cases_fts(rowid, title, description, address, number) VALUES ({SQLITE_ROW}); "
        "END"
    )
    op.execute(
        "CREATE TRIGGER cases_fts_delete AFTER DELETE ON cases BEGIN "
        "INSERT INTO cases_fts(cases_fts, rowid, title, description, address, number) "
        "VALUES ('delete', old.id, old.title, old.description, old.address, old.number); END"
    )
    op.execute(
        "CREATE TRIGGER cases_fts_update AFTER UPDATE OF title, description, address, number "
        "ON cases BEGIN "
        "INSERT INTO cases_fts(cases_fts, rowid, title, description, address, number) "
        "VALUES ('delete', old.id, old.title, old.description, old.address, old.number); "
        f"INSERT INTO cases_fts(rowid, title, description, address, number) VALUES ({SQLITE_ROW}); "
        "END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_cases_search_trgm")
        return
    for trigger in ("cases_fts_insert", "cases_fts_delete", "cases_fts_update"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS cases_fts")
