"""`pingan audit verify` over a million entries, with a naive peer in the same run.

For each backend: a fresh migrated database, N audit entries written as one
valid hash chain (hashes computed by ``pingan.kit.audit``'s own digest, rows
bulk-inserted), then:

* ours: ``pingan.kit.audit.verify_chain`` — what `pingan audit verify` and
  `GET /api/v1/audit/verify` run (ORM rows streamed in batches, each re-hashed);
* peer: the naive loop — a raw DB-API cursor over ``SELECT ... ORDER BY id``,
  each row re-hashed with hashlib and compared, in plain Python.

Both must report the same verdict; the script also breaks one row near the
end and checks both name it. Prints times, rows/s and the ratio.

    .venv/bin/python benchmarks/audit_verify.py                     # 1,000,000 on both backends
    .venv/bin/python benchmarks/audit_verify.py --n 200000 --backend sqlite
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, create_engine, insert, text

from pingan.kit import audit
from pingan.kit.db import engine_for, session_scope
from pingan.kit.migrate import upgrade

PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432"
CHUNK = 20_000


def entries(n: int) -> Iterator[dict[str, Any]]:
    """A valid chain of n entries with realistic sizes (a JSON detail of ~80 bytes)."""
    prev = audit.GENESIS_HASH
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    actions = ["incident.create", "case.transition", "alert.acknowledged", "users.read"]
    for i in range(1, n + 1):
        at = start + dt.timedelta(seconds=i * 3, microseconds=i % 1000)
        actor, action, oid = f"user:clerk{i % 50}", actions[i % 4], str(i // 3)
        detail = json.dumps({"from": "accepted", "to": "dispatched", "note": f"n{i}"})
        digest = audit._digest(
            entry_id=i, at=at, actor=actor, action=action, object_type="case",
            object_id=oid, detail=detail, prev_hash=prev,
        )  # fmt: skip
        row: dict[str, Any] = {
            "id": i, "at": at, "actor": actor, "action": action, "object_type": "case",
            "object_id": oid, "detail": detail, "prev_hash": prev, "hash": digest,
        }  # fmt: skip
        prev = digest
        yield row


def write_chain(engine: Engine, n: int) -> float:
    t0 = time.perf_counter()
    table = audit.AuditEntry.__table__
    assert isinstance(table, Table)
    batch: list[dict[str, Any]] = []
    with engine.begin() as conn:
        for row in entries(n):
            batch.append(row)
            if len(batch) == CHUNK:
                conn.execute(insert(table), batch)
                batch = []
        if batch:
            conn.execute(insert(table), batch)
    return time.perf_counter() - t0


def naive_verify(engine: Engine) -> tuple[int, int | None]:
    """The peer: a per-row Python loop over a raw cursor, hashlib on each row."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(
            "SELECT id, at, actor, action, object_type, object_id, detail, prev_hash, hash "
            "FROM audit_log ORDER BY id"
        )
        prev = audit.GENESIS_HASH
        expected = 1
        checked = 0
        while True:
            rows = cur.fetchmany(10_000)
            if not rows:
                break
            for rid, at, actor, action, otype, oid, detail, prev_hash, digest in rows:
                if isinstance(at, str):  # SQLite keeps naive UTC text
                    at = dt.datetime.fromisoformat(at).replace(tzinfo=dt.UTC)
                payload = json.dumps(
                    [rid, at.astimezone(dt.UTC).isoformat(timespec="microseconds"), actor,
                     action, otype, oid, detail, prev_hash],
                    ensure_ascii=False, separators=(",", ":"),
                )  # fmt: skip
                if (
                    rid != expected
                    or prev_hash != prev
                    or hashlib.sha256(payload.encode()).hexdigest() != digest
                ):
                    return checked, rid
                prev = digest
                expected += 1
                checked += 1
        return checked, None
    finally:
        raw.close()


def ours_verify(engine: Engine) -> tuple[int, int | None]:
    with session_scope(engine) as session:
        report = audit.verify_chain(session)
    return report.checked, report.first_broken_id


def timed(fn: Any, engine: Engine) -> tuple[float, tuple[int, int | None]]:
    t0 = time.perf_counter()
    out = fn(engine)
    return time.perf_counter() - t0, out


def break_one(engine: Engine, entry_id: int) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER audit_log_no_change ON audit_log"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
        conn.execute(text(f"UPDATE audit_log SET actor = 'user:x' WHERE id = {entry_id}"))


def run(url: str, n: int) -> None:
    upgrade(url)
    engine = engine_for(url)
    with engine.begin() as conn:  # a migrated database has no audit rows, but be sure
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar() == 0
    write_s = write_chain(engine, n)
    print(f"  wrote {n:,} chained entries in {write_s:.1f} s")
    t_peer, peer = timed(naive_verify, engine)
    t_ours, ours = timed(ours_verify, engine)
    assert peer == ours == (n, None), (peer, ours)
    print(f"  verify, ours (verify_chain): {t_ours:7.2f} s  {n / t_ours:>12,.0f} entries/s")
    print(f"  verify, peer (naive loop):   {t_peer:7.2f} s  {n / t_peer:>12,.0f} entries/s")
    print(f"  ratio peer/ours: {t_peer / t_ours:.2f} x (above 1: ours is faster)")
    broken = n - 10
    break_one(engine, broken)
    _, peer = timed(naive_verify, engine)
    _, ours = timed(ours_verify, engine)
    assert peer[1] == ours[1] == broken, (peer, ours)
    print(f"  both name entry {broken:,} after one row was edited")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            print(f"SQLite, {args.n:,} entries")
            run(f"sqlite:///{Path(tmp) / 'audit.db'}", args.n)
    if args.backend in ("postgres", "both"):
        name = f"pingan_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(f"{PG_BASE}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            print(f"PostgreSQL, {args.n:,} entries")
            run(f"{PG_BASE}/{name}", args.n)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
