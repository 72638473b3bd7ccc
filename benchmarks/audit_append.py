"""Concurrent writers and the audit chain: the chain's lock taken at commit vs held all along.

Every write appends an audit entry, and the chain has one lock on PostgreSQL
(a fork would break it). Each writer thread runs transactions that record an
entry, then do the rest of their work (a few statements and ``--work-ms`` of
Python), then commit. Two ways, in the same run, on a fresh database:

- **held all along** (how pingan did it before 2026-12-07, the peer here): the
  chain's advisory lock is taken when the entry is recorded and held to COMMIT,
  so the writers go one at a time;
- **at commit** (pingan now, ``kit.audit``): the entry waits in the session and
  is chained by the server in one call just before COMMIT.

Prints commits/s, the ratio, and checks the chain verifies after both.

    .venv/bin/python benchmarks/audit_append.py
    .venv/bin/python benchmarks/audit_append.py --threads 16 --seconds 10 --work-ms 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).parent))

from pgdb import drop_database, fresh_database

from pingan.kit import audit, migrate
from pingan.kit.db import engine_for

LOCK = text("SELECT pg_advisory_xact_lock(:k)")


def run(url: str, *, threads: int, seconds: float, work_ms: float, held: bool) -> float:
    engine = engine_for(url)
    stop = time.monotonic() + seconds
    done = [0] * threads

    def writer(k: int) -> None:
        while time.monotonic() < stop:
            with Session(engine) as session:
                if held:
                    session.execute(LOCK, {"k": audit._PG_LOCK_KEY})
                n = done[k]
                detail = {"n": n}
                audit.record(
                    session, actor=f"user:w{k}", action="x.y", object_type="x", detail=detail
                )
                for _ in range(3):  # the transaction's own reads and writes
                    session.execute(text("SELECT count(*) FROM pingan_meta"))
                time.sleep(work_ms / 1000.0)
                session.commit()
            done[k] += 1

    pool = [threading.Thread(target=writer, args=(k,)) for k in range(threads)]
    started = time.monotonic()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(done) / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--work-ms", type=float, default=5.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    url = fresh_database("postgresql", "", prefix="pingan_bench_audit")
    try:
        migrate.upgrade(url)
        rates: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(args.repeats):
            for held in (True, False):
                rate = run(
                    url, threads=args.threads, seconds=args.seconds, work_ms=args.work_ms, held=held
                )
                rates[held].append(rate)
        with Session(engine_for(url)) as session:
            report = audit.verify_chain(session)
        old, new = statistics.median(rates[True]), statistics.median(rates[False])
        shape = f"{args.threads} writers, {args.work_ms:g} ms of work per transaction"
        print(f"{shape}, {args.repeats} x {args.seconds:g} s each, PostgreSQL")
        print(f"  lock held all along (before): {old:8.1f} commits/s  {rates[True]}")
        print(f"  chained at commit (now):      {new:8.1f} commits/s  {rates[False]}")
        print(f"  ratio: {new / old:.1f}x; chain of {report.checked} entries verifies: {report.ok}")
    finally:
        drop_database(url)


if __name__ == "__main__":
    main()
