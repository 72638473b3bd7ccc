"""event cube snapshot: epoch triggers

The cube snapshot on local disk only appends new rows. Deleting rows,
truncating the table or rewriting a column the cube keeps bumps the
``incidents.epoch`` counter in ``pingan_meta``, and a snapshot whose epoch
differs is rebuilt. Intake only inserts, and no trigger fires on INSERT, so
intake costs nothing more. PostgreSQL: statement-level triggers (one bump per
statement); SQLite has only row triggers.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 19:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The columns the snapshot keeps (incidents/cube_store.py).
CUBE_COLUMNS = (
    "id, occurred_at, x, y, lon, lat, type_id, grid_id, community_id, subdistrict_id, "
    "district_id, city_id, severity"
)
_BUMP_PG = (
    "INSERT INTO pingan_meta (key, value) VALUES ('incidents.epoch', '1') "
    "ON CONFLICT (key) DO UPDATE SET value = (pingan_meta.value::bigint + 1)::text"
)
_BUMP_SQLITE = (
    "INSERT INTO pingan_meta (key, value) VALUES ('incidents.epoch', '1') "
    "ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"
)
_PG_TRIGGERS = {
    "incidents_epoch_delete": "AFTER DELETE",
    "incidents_epoch_truncate": "AFTER TRUNCATE",
    "incidents_epoch_update": f"AFTER UPDATE OF {CUBE_COLUMNS}",
}
_SQLITE_TRIGGERS = {
    "incidents_epoch_delete": "AFTER DELETE",
    "incidents_epoch_update": f"AFTER UPDATE OF {CUBE_COLUMNS}",
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION pingan_bump_incidents_epoch() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN {_BUMP_PG}; RETURN NULL; END $$"
        )
        for name, when in _PG_TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER {name} {when} ON incidents "
                "FOR EACH STATEMENT EXECUTE FUNCTION pingan_bump_incidents_epoch()"
            )
        return
    for name, when in _SQLITE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {when} ON incidents BEGIN {_BUMP_SQLITE}; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in _PG_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON incidents")
        op.execute("DROP FUNCTION IF EXISTS pingan_bump_incidents_epoch()")
        return
    for name in _SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
