"""Any edit, deletion or reordering of audit rows is detected, wherever it happens in the chain."""

from __future__ import annotations

from sqlalchemy import Engine, text

from pingan.kit import audit
from pingan.kit.db import session_scope

N = 8


def _append(engine: Engine, n: int) -> None:
    with session_scope(engine) as session:
        for i in range(n):
            audit.record(
                session, actor="user:clerk", action="case.update", object_type="case",
                object_id=i, detail={"field": "state", "to": f"s{i}"},
            )  # fmt: skip


def _unguard(engine: Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER audit_log_no_change ON audit_log"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))


def _verify(engine: Engine) -> audit.ChainReport:
    with session_scope(engine) as session:
        return audit.verify_chain(session, batch_size=3)


def _rows(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as conn:
        result = conn.execute(text("SELECT * FROM audit_log ORDER BY id"))
        return [dict(r._mapping) for r in result]


def test_editing_any_field_of_any_row_is_named(engine: Engine) -> None:
    _append(engine, N)
    _unguard(engine)
    assert _verify(engine).ok
    for row in _rows(engine):
        for column, forged in (("detail", '{"to":"forged"}'), ("actor", "user:other")):
            with engine.begin() as conn:
                conn.execute(
                    text(f"UPDATE audit_log SET {column} = :v WHERE id = :id"),
                    {"v": forged, "id": row["id"]},
                )
            report = _verify(engine)
            assert not report.ok and report.first_broken_id == row["id"], (column, row["id"])
            with engine.begin() as conn:
                conn.execute(
                    text(f"UPDATE audit_log SET {column} = :v WHERE id = :id"),
                    {"v": row[column], "id": row["id"]},
                )
            assert _verify(engine).ok


def test_deleting_any_row_is_detected(engine: Engine) -> None:
    _append(engine, N)
    _unguard(engine)
    rows = _rows(engine)
    columns = ", ".join(rows[0])
    values = ", ".join(f":{c}" for c in rows[0])
    for row in rows[:-1]:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": row["id"]})
        report = _verify(engine)
        assert not report.ok and report.first_broken_id == row["id"] + 1  # type: ignore[operator]
        with engine.begin() as conn:
            conn.execute(text(f"INSERT INTO audit_log ({columns}) VALUES ({values})"), row)
        assert _verify(engine).ok


def test_reordering_rows_is_detected(engine: Engine) -> None:
    _append(engine, N)
    _unguard(engine)
    rows = _rows(engine)
    # Swap the contents of entries 3 and 6, keeping the ids in order: the order of events changes.
    a, b = rows[2], rows[5]
    fields = [c for c in a if c != "id"]
    with engine.begin() as conn:
        # The hash columns are unique: park one row's values first.
        conn.execute(
            text("UPDATE audit_log SET hash = 'x', prev_hash = 'y' WHERE id = :id"), {"id": a["id"]}
        )
        for target, source in ((b, a), (a, b)):
            sets = ", ".join(f"{c} = :{c}" for c in fields)
            if target is b:
                conn.execute(
                    text("UPDATE audit_log SET hash = 'x2', prev_hash = 'y2' WHERE id = :id"),
                    {"id": b["id"]},
                )
            conn.execute(
                text(f"UPDATE audit_log SET {sets} WHERE id = :id"), {**source, "id": target["id"]}
            )
    report = _verify(engine)
    assert not report.ok and report.first_broken_id == a["id"]


def test_a_rehashed_forgery_still_breaks_at_the_next_entry(engine: Engine) -> None:
    """Recomputing a forged row's own hash does not help: the next row's prev_hash disagrees."""
    _append(engine, N)
    _unguard(engine)
    with session_scope(engine) as session:
        row = session.get(audit.AuditEntry, 4)
        assert row is not None
        detail = '{"field":"state","to":"forged"}'
        forged_hash = audit._digest(
            entry_id=row.id,
            at=row.at,
            actor=row.actor,
            action=row.action,
            object_type=row.object_type,
            object_id=row.object_id,
            detail=detail,
            prev_hash=row.prev_hash,
        )
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_log SET detail = :d, hash = :h WHERE id = 4"),
            {"d": detail, "h": forged_hash},
        )
    report = _verify(engine)
    assert not report.ok and report.first_broken_id == 5
