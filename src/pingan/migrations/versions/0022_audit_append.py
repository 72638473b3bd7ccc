"""audit chain appended by the server in one call

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 20:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The chain's lock is held from the append to COMMIT. Done by the server in one call,
# no Python runs while it is held but the COMMIT itself. The payload hashed is the
# same text kit/audit.py builds: [id,<the entry's JSON middle>,"<prev hash>"].
APPEND = """
CREATE OR REPLACE FUNCTION pingan_audit_append(lock_key bigint, entries jsonb)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    last_id bigint;
    last_hash text;
    entry jsonb;
    digest text;
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    -- A statement after the lock: it sees every entry committed before it was granted.
    SELECT id, hash INTO last_id, last_hash FROM audit_log ORDER BY id DESC LIMIT 1;
    IF last_id IS NULL THEN
        last_id := 0;
        last_hash := repeat('0', 64);
    END IF;
    FOR entry IN SELECT value FROM jsonb_array_elements(entries) LOOP
        last_id := last_id + 1;
        digest := encode(sha256(convert_to(
            '[' || last_id || ',' || (entry->>'middle') || ',"' || last_hash || '"]', 'UTF8'
        )), 'hex');
        INSERT INTO audit_log (id, at, actor, action, object_type, object_id, detail,
                               prev_hash, hash)
        VALUES (last_id, (entry->>'at')::timestamptz, entry->>'actor', entry->>'action',
                entry->>'object_type', entry->>'object_id', entry->>'detail', last_hash, digest);
        last_hash := digest;
    END LOOP;
    RETURN last_id;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS pingan_audit_append(bigint, jsonb)")
