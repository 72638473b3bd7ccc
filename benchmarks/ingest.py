"""Batch intake throughput, end to end through the service layer.

For each backend: a fresh database, a lattice city of 20 x 20 grids, then N
incidents as API-shaped dicts sent through ``incidents.service.intake_batch``
in batches (validation, type lookup, grid assignment, idempotency check,
insert, audit: everything a request does except HTTP parsing). The peer in
the same run is the plain way to do it, SQLAlchemy ORM ``add_all`` of
``Incident`` objects (after the same grid lookup), on a smaller sample; the
ratio is printed.

Besides wall time it prints CPU time per row of the client process and of
the PostgreSQL backend serving it (read from /proc, same machine), so runs
on a busy machine can still be compared, plus the load average and the
server settings that matter for writes.

    .venv/bin/python benchmarks/ingest.py                # 1,000,000 on both backends
    .venv/bin/python benchmarks/ingest.py --n 200000 --backend sqlite
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pgdb
from pgdb import drop_database
from shapely import box
from sqlalchemy import func, select, text

from pingan.bootstrap import seed_reference_data
from pingan.incidents import service
from pingan.incidents.models import Incident
from pingan.incidents.taxonomy import type_table
from pingan.kit.db import engine_for, session_scope
from pingan.kit.migrate import upgrade
from pingan.org.levels import Level
from pingan.org.principal import Principal
from pingan.org.service import UnitSpec, add_units, grid_locator, require_projector

SYSTEM = Principal.system("bench")
LON0, LAT0, SIDE, CELLS = 120.0, 30.0, 0.2, 20
TYPES = ["theft.bicycle", "burglary.residential", "fight", "traffic.collision", "fraud.telecom"]


def lattice_city() -> list[UnitSpec]:
    """City > 1 district > 1 subdistrict > 4 communities > 400 grids on a square lattice."""
    whole = box(LON0, LAT0, LON0 + SIDE, LAT0 + SIDE)
    specs = [
        UnitSpec(Level.CITY, "C", "基准市", "Bench City", whole),
        UnitSpec(Level.DISTRICT, "D", "区", "District", whole, parent_code="C"),
        UnitSpec(Level.SUBDISTRICT, "S", "街道", "Subdistrict", whole, parent_code="D"),
    ]
    step = SIDE / CELLS
    half = CELLS // 2
    for q in range(4):
        qx, qy = q % 2, q // 2
        specs.append(
            UnitSpec(
                Level.COMMUNITY, f"M{q}", f"社区{q}", f"Community {q}",
                box(LON0 + qx * SIDE / 2, LAT0 + qy * SIDE / 2,
                    LON0 + (qx + 1) * SIDE / 2, LAT0 + (qy + 1) * SIDE / 2),
                parent_code="S",
            )
        )  # fmt: skip
    for i in range(CELLS):
        for j in range(CELLS):
            q = (i // half) + 2 * (j // half)
            specs.append(
                UnitSpec(
                    Level.GRID, f"G{i:02d}{j:02d}", f"网格{i}-{j}", f"Grid {i}-{j}",
                    box(LON0 + i * step, LAT0 + j * step,
                        LON0 + (i + 1) * step, LAT0 + (j + 1) * step),
                    parent_code=f"M{q}",
                )
            )  # fmt: skip
    return specs


def fresh_database(backend: str, workdir: Path) -> str:
    """A new database with the schema, the reference data and the lattice city."""
    sqlite_path = workdir / f"bench-{uuid.uuid4().hex[:6]}.db"
    url = pgdb.fresh_database(backend, sqlite_path, prefix="pingan_bench")
    upgrade(url)
    with session_scope(engine_for(url)) as session:
        seed_reference_data(session)
        add_units(session, lattice_city(), actor=SYSTEM)
    return url


def make_rows(n: int, seed: int, prefix: str) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    lon = LON0 + rng.uniform(0.001, SIDE - 0.001, n)
    lat = LAT0 + rng.uniform(0.001, SIDE - 0.001, n)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    minutes = rng.integers(0, 300 * 24 * 60, n)
    kinds = rng.integers(0, len(TYPES), n)
    return [
        {
            "type": TYPES[int(kinds[i])],
            "occurred_at": (start + dt.timedelta(minutes=int(minutes[i]))).isoformat(),
            "lon": float(lon[i]),
            "lat": float(lat[i]),
            "source": "call",
            "external_id": f"{prefix}-{i}",
        }
        for i in range(n)
    ]


class BatchTimes:
    """Wall and CPU seconds per batch: the client process and its server backend."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.client_cpu: list[float] = []
        self.server_cpu: list[float] = []

    def per_row_us(self, seconds: list[float], batch: int) -> str:
        if not seconds:
            return "n/a"
        return f"{statistics.median(seconds) / batch * 1e6:5.1f}"


def backend_cpu_seconds(pid: int | None) -> float | None:
    """utime + stime of a PostgreSQL backend; None off this machine or on SQLite."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_pingan(
    url: str, rows: list[dict[str, object]], batch: int
) -> tuple[float, list[float], BatchTimes]:
    engine = engine_for(url)
    per_batch = []
    times = BatchTimes()
    postgres = url.startswith("postgresql")
    started = time.perf_counter()
    for k in range(0, len(rows), batch):
        t0, c0 = time.perf_counter(), time.process_time()
        with session_scope(engine) as session:
            pid = session.scalar(text("SELECT pg_backend_pid()")) if postgres else None
            s0 = backend_cpu_seconds(pid)
            result = service.intake_batch(session, rows=rows[k : k + batch], actor=SYSTEM)
            assert not result.rejected, result.rejected[:3]
        s1 = backend_cpu_seconds(pid)
        wall = time.perf_counter() - t0
        per_batch.append(len(rows[k : k + batch]) / wall)
        times.wall.append(wall)
        times.client_cpu.append(time.process_time() - c0)
        if s0 is not None and s1 is not None:
            times.server_cpu.append(s1 - s0)
    elapsed = time.perf_counter() - started
    with session_scope(engine) as session:
        stored = session.scalar(select(func.count(Incident.id)))
    assert stored == len(rows), (stored, len(rows))
    return len(rows) / elapsed, per_batch, times


def server_settings(url: str) -> str:
    if not url.startswith("postgresql"):
        return "SQLite (WAL, pingan's pragmas)"
    names = ["server_version", "shared_buffers", "max_wal_size", "synchronous_commit",
             "wal_compression", "full_page_writes"]  # fmt: skip
    with engine_for(url).connect() as conn:
        values = [conn.scalar(text(f"SHOW {name}")) for name in names]
    return ", ".join(f"{n}={v}" for n, v in zip(names, values, strict=True))


def run_orm_peer(url: str, rows: list[dict[str, object]], batch: int) -> float:
    """The plain ORM way: build Incident objects and add_all them, batch by batch."""
    engine = engine_for(url)
    started = time.perf_counter()
    for k in range(0, len(rows), batch):
        chunk = rows[k : k + batch]
        with session_scope(engine) as session:
            types = type_table(session)
            locator = grid_locator(session)
            projector = require_projector(session)
            lon = np.array([r["lon"] for r in chunk], dtype=float)
            lat = np.array([r["lat"] for r in chunk], dtype=float)
            grids = locator.locate(lon, lat)
            xs, ys = projector.to_metric(lon, lat)
            objects = []
            for r, g, x, y in zip(chunk, grids.tolist(), xs.tolist(), ys.tolist(), strict=True):
                from shapely import Point

                community, subdistrict, district, city = locator.ancestors[g]
                at = dt.datetime.fromisoformat(str(r["occurred_at"]))
                type_id, severity = types[str(r["type"])]
                objects.append(
                    Incident(
                        type_id=type_id, occurred_at=at, reported_at=at,
                        geom=Point(float(str(r["lon"])), float(str(r["lat"]))),
                        lon=r["lon"], lat=r["lat"], x=x, y=y, severity=severity,
                        source="orm", status="reported", external_id=r["external_id"],
                        grid_id=g, community_id=community, subdistrict_id=subdistrict,
                        district_id=district, city_id=city,
                    )
                )  # fmt: skip
            session.add_all(objects)
    return len(rows) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="incidents through Pingan")
    parser.add_argument(
        "--peer-n", type=int, default=100_000, help="incidents through the ORM peer"
    )
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    rows = make_rows(args.n, seed=1, prefix="p")
    peer_rows = make_rows(args.peer_n, seed=2, prefix="o")
    print(f"{args.n:,} incidents in batches of {args.batch:,}; ORM peer on {args.peer_n:,}")
    print(f"load average at start: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            url = fresh_database(backend, Path(tmp))
            try:
                print(f"{backend}: {server_settings(url)}")
                rate, per_batch, times = run_pingan(url, rows, args.batch)
                peer = run_orm_peer(url, peer_rows, args.batch)
            finally:
                drop_database(url)
            print(
                f"{backend:9s} pingan {rate:9,.0f}/s "
                f"(median batch {statistics.median(per_batch):9,.0f}/s)"
                f"  orm peer {peer:8,.0f}/s  ratio {rate / peer:5.1f}x"
            )
            print(
                f"{'':9s} median per row: wall {times.per_row_us(times.wall, args.batch)} us, "
                f"client CPU {times.per_row_us(times.client_cpu, args.batch)} us, "
                f"server CPU {times.per_row_us(times.server_cpu, args.batch)} us; "
                f"load average now {os.getloadavg()[0]:.2f}"
            )


if __name__ == "__main__":
    main()
