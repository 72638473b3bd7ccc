"""Camera heartbeat throughput: the service layer and HTTP end to end, against a naive peer.

For each backend: a fresh database with N registered cameras, then batches of
50,000 heartbeats (each camera reporting about once a minute, 1 % saying they
are offline, so outages open and close as in life):

* service: ``health_intake.validate`` + ``health_intake.ingest`` per batch
  (column validation, scope lookup, one upsert of live state, transitions,
  audit) — everything a request does except reading the HTTP body;
* http: the same batches as NDJSON POSTed to a real uvicorn server on
  127.0.0.1 (API-key auth, parsing, the service, the JSON answer);
* peer: the plain way, one ORM row per heartbeat (``session.add`` of a
  heartbeat object, commit per batch), on a smaller sample.

The goal is 1,000,000 heartbeats a minute (16,667/s) without falling behind.

    .venv/bin/python benchmarks/cameras_heartbeats.py                    # both backends
    .venv/bin/python benchmarks/cameras_heartbeats.py --backend sqlite --cameras 200000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import shapely
import uvicorn
from pgdb import drop_database, fresh_database
from sqlalchemy import BigInteger, Boolean, Float, Integer, MetaData, insert, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from pingan.app import create_app
from pingan.bootstrap import seed_reference_data
from pingan.cameras import health_intake, registry
from pingan.cameras.models import Camera, CameraOwner
from pingan.kit.db import UTCDateTime, engine_for, session_scope, utcnow
from pingan.kit.migrate import upgrade
from pingan.org import auth, users
from pingan.org.principal import Principal
from pingan.settings import Settings

DB_PREFIX = "pingan_bench_hb"
SYSTEM = Principal.system("bench")
BATCH = 50_000
GOAL_PER_S = 1_000_000 / 60


class _PeerBase(DeclarativeBase):
    metadata = MetaData()


class PeerHeartbeat(_PeerBase):
    """The naive design: every heartbeat is a row."""

    __tablename__ = "bench_peer_heartbeats"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    camera_id: Mapped[int] = mapped_column(BigInteger, index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    online: Mapped[bool] = mapped_column(Boolean)
    fps: Mapped[float | None] = mapped_column(Float)
    bitrate_kbps: Mapped[float | None] = mapped_column(Float)


def register_cameras(url: str, n: int) -> None:
    """N cameras of one owner on a lattice (bulk insert: the registry is not what we measure)."""
    side = int(np.ceil(np.sqrt(n)))
    with session_scope(engine_for(url)) as s:
        seed_reference_data(s)
        owner = CameraOwner(code="bench", name="Bench owner")
        s.add(owner)
        s.flush()
        for start in range(0, n, 20_000):
            ids = np.arange(start, min(n, start + 20_000))
            lon, lat = 120 + (ids % side) * 1e-4, 30 + (ids // side) * 1e-4
            s.execute(
                insert(Camera),
                [
                    {"id": int(i) + 1, "owner_id": owner.id, "owner_camera_id": f"c{i}",
                     "network": "public_hd", "location": shapely.Point(x, y),
                     "x": float(x), "y": float(y)}
                    for i, x, y in zip(ids, lon, lat, strict=True)
                ],
            )  # fmt: skip


def make_batches(
    n_cameras: int, batches: int, start: dt.datetime, seed: int
) -> list[list[dict[str, Any]]]:
    """Batch k: the next 50,000 cameras in turn; batches 1.2 s apart (~once a minute each)."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(batches):
        ids = (np.arange(k * BATCH, (k + 1) * BATCH) % n_cameras) + 1
        offline = rng.random(BATCH) < 0.01
        fps = np.round(rng.uniform(15, 30, BATCH), 1)
        rate = np.round(rng.uniform(1000, 8000, BATCH))
        at = start + dt.timedelta(seconds=1.2 * k)
        stamp = at.isoformat().replace("+00:00", "Z")
        out.append(
            [
                {"camera_id": int(c), "at": stamp, "online": not bool(o), "fps": float(f),
                 "bitrate_kbps": float(r)}
                for c, o, f, r in zip(ids, offline, fps, rate, strict=True)
            ]
        )  # fmt: skip
    return out


class Clock:
    """Wall time, and CPU time of this process plus PostgreSQL's backends for the database.

    The machine is shared, so wall time depends on everyone's load; heartbeats
    per CPU second is what one dedicated core would sustain.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.wall = time.perf_counter()
        self.cpu = time.process_time() + _db_cpu(url)

    def stop(self, n: int) -> dict[str, float]:
        wall = time.perf_counter() - self.wall
        cpu = time.process_time() + _db_cpu(self.url) - self.cpu
        return {"per_s": n / wall, "per_cpu_s": n / cpu}


def _db_cpu(url: str) -> float:
    """User + system CPU seconds of the PostgreSQL backends serving ``url`` (same machine)."""
    if not url.startswith("postgresql"):
        return 0.0
    with engine_for(url).connect() as conn:
        pids = conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        ).scalars()
        total = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def run_service(url: str, batches: list[list[dict[str, Any]]]) -> dict[str, float]:
    engine = engine_for(url)
    clock = Clock(url)
    for rows in batches:
        with session_scope(engine) as s:
            beats, rejected = health_intake.validate(rows)
            assert not rejected, rejected[:3]
            report = health_intake.ingest(s, beats, actor=SYSTEM)
            assert report.accepted == len(rows)
    return clock.stop(sum(len(b) for b in batches))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_http(url: str, batches: list[list[dict[str, Any]]]) -> dict[str, float]:
    with session_scope(engine_for(url)) as s:
        user = users.create_user(s, username="bench", password="bench-password-1", actor=SYSTEM)
        secret, _ = auth.create_api_key(s, user=user, name="bench", actor=SYSTEM)
        # An owner's video system reports for the owner's cameras.
        registry.link_owner_user(s, "bench", "bench", actor=SYSTEM)
    settings = Settings(database_url=url, run_jobs=False, log_json=True, log_level="WARNING")
    app = create_app(settings, engine_for(url))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    bodies = ["\n".join(json.dumps(r) for r in rows).encode() for rows in batches]
    headers = {"X-API-Key": secret, "Content-Type": "application/x-ndjson"}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            clock = Clock(url)
            for body in bodies:
                r = client.post("/api/v1/cameras/health/heartbeats", content=body, headers=headers)
                assert r.status_code == 200, r.text[:500]
                assert not r.json()["rejected"], r.json()["rejected"][:3]
            result = clock.stop(sum(len(b) for b in batches))
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    return result


def run_peer(url: str, rows: list[dict[str, Any]]) -> dict[str, float]:
    engine = engine_for(url)
    _PeerBase.metadata.create_all(engine)
    clock = Clock(url)
    with Session(engine) as s:
        for r in rows:
            s.add(
                PeerHeartbeat(
                    camera_id=r["camera_id"], at=dt.datetime.fromisoformat(r["at"]),
                    online=r["online"], fps=r["fps"], bitrate_kbps=r["bitrate_kbps"],
                )
            )  # fmt: skip
        s.commit()
    return clock.stop(len(rows))


def bench(backend: str, n_cameras: int, n_batches: int, peer_n: int) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database(backend, Path(tmp) / "bench.db", prefix=DB_PREFIX)
        try:
            upgrade(url)
            register_cameras(url, n_cameras)
            start = utcnow() - dt.timedelta(minutes=30)
            service = run_service(url, make_batches(n_cameras, n_batches, start, 1))
            http = run_http(
                url, make_batches(n_cameras, n_batches, start + dt.timedelta(minutes=5), 2)
            )
            peer_rows = make_batches(n_cameras, 1, start + dt.timedelta(minutes=10), 3)[0][:peer_n]
            peer = run_peer(url, peer_rows)
        finally:
            engine_for(url).dispose()
            drop_database(url)
    return {"service": service, "http": http, "peer": peer}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--cameras", type=int, default=200_000)
    parser.add_argument("--batches", type=int, default=10, help="batches of 50,000 per path")
    parser.add_argument("--peer", type=int, default=50_000, help="heartbeats for the naive peer")
    args = parser.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    print(f"{args.cameras:,} cameras, {args.batches} x {BATCH:,} heartbeats per path; "
          f"goal {GOAL_PER_S:,.0f}/s (1M a minute)")  # fmt: skip
    print(
        f"{'backend':10} {'path':8} {'per s (wall)':>13} {'x goal':>7} {'x peer':>7} "
        f"{'per CPU s':>10} {'x goal':>7} {'x peer':>7}"
    )
    for backend in backends:
        r = bench(backend, args.cameras, args.batches, args.peer)
        for path in ("service", "http", "peer"):
            w, c = r[path]["per_s"], r[path]["per_cpu_s"]
            print(
                f"{backend:10} {path:8} {w:13,.0f} {w / GOAL_PER_S:7.2f} "
                f"{w / r['peer']['per_s']:7.1f} {c:10,.0f} {c / GOAL_PER_S:7.2f} "
                f"{c / r['peer']['per_cpu_s']:7.1f}"
            )


if __name__ == "__main__":
    main()
