"""The full-scale city in PostgreSQL, with the daily jobs timed (issue 11).

Loads a fresh PostgreSQL database (``--db``, dropped and recreated; no other
database is touched) with the synthetic city at ``--scale`` (``full``:
14,000 km², 10,000 grids, about 10 million incidents a year), ``--cameras``
cameras through the cameras bulk path (``registry.upsert_cameras``, scattered
along the city's streets by the camera coverage benchmark's generator), and
``--responders`` responders (the dispatch full-scale benchmark's generator,
placed on the city's road nodes). Then every job the scheduler runs
(``pingan.schedules``) is submitted and run once through the job runner
(``pingan.kit.jobs.run_job``), as a worker would, plus the whole camera
coverage recompute (no job kind: the API and CLI call it directly).

Each step runs in its own child process, so its peak RSS is its own
(``os.wait4``). Prints one table: step, wall s, rows or result, peak RSS.

    .venv/bin/python -m benchmarks.fullscale_city                       # full, ~1 h+ to load
    .venv/bin/python -m benchmarks.fullscale_city --scale city --db pingan_city \\
        --cameras 100000 --responders 20000
    .venv/bin/python -m benchmarks.fullscale_city --skip-load          # jobs only, loaded db
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432"
RESULT_TAG = "STEP-RESULT "
CAMERA_CHUNK = 50_000


# ---------------------------------------------------------------- steps (child side)


def _engine(url: str) -> Any:
    from pingan.kit.db import engine_for

    return engine_for(url)


def step_cameras(url: str, n: int) -> dict[str, Any]:
    """Cameras scattered along the city's streets, registered through the bulk path."""
    import numpy as np
    import shapely
    from benchmarks.cameras_coverage import scatter_cameras
    from sqlalchemy import func, select

    from pingan.analytics.coverage import split_lines
    from pingan.cameras.models import Camera, CameraOwner
    from pingan.cameras.registry import upsert_cameras
    from pingan.cameras.schemas import CameraIn
    from pingan.dispatch.models import RoadEdge
    from pingan.kit.db import session_scope
    from pingan.org.principal import Principal
    from pingan.org.service import require_projector

    actor = Principal.system("bench")
    engine = _engine(url)
    with session_scope(engine) as s:
        have = s.scalar(select(func.count()).select_from(Camera)) or 0
        if have >= n:  # loaded by an earlier (or a concurrent --load-extras) run
            return {"rows": have, "skipped": "already loaded", "_run_s": 0.0}
        proj = require_projector(s)
        lonlat = np.array(s.scalars(select(RoadEdge.geom)).all(), dtype=object)
        if s.scalar(select(CameraOwner.id).where(CameraOwner.code == "CITY")) is None:
            s.add(CameraOwner(code="CITY", name="City public security bureau"))
    metric = shapely.transform(lonlat, lambda c: np.column_stack(proj.to_metric(c[:, 0], c[:, 1])))
    pieces = split_lines(metric, 10.0)
    sectors = scatter_cameras(np.random.default_rng(1), pieces.mid_x, pieces.mid_y, n)
    lon, lat = proj.to_lonlat(sectors.x, sectors.y)
    fov = np.minimum(2 * sectors.half_angle_deg, 360.0)
    created = 0
    for start in range(0, n, CAMERA_CHUNK):
        stop = min(start + CAMERA_CHUNK, n)
        rows = [
            (k + 1, CameraIn(owner_code="CITY", owner_camera_id=f"C{k:07d}", network="public_hd",
                             lon=float(lon[k]), lat=float(lat[k]),
                             heading_deg=float(sectors.heading_deg[k]) % 360.0,
                             fov_deg=float(fov[k]), range_m=float(sectors.range_m[k])))
            for k in range(start, stop)
        ]  # fmt: skip
        with session_scope(engine) as s:
            report = upsert_cameras(s, rows, actor=actor, source="fullscale")
        if report.rejected:
            raise SystemExit(f"{report.rejected} cameras rejected: {report.errors[:3]}")
        created += report.created
    return {"rows": created, "road pieces": len(pieces.mid_x)}


def step_segments(url: str) -> dict[str, Any]:
    """Cut the roads into 10 m street segments (counts cover on the way)."""
    from pingan.cameras import streets
    from pingan.kit.db import session_scope
    from pingan.org.principal import Principal

    with session_scope(_engine(url)) as s:
        have = streets.segment_count(s)
        if have:
            return {"rows": have, "skipped": "already loaded", "_run_s": 0.0}
        n = streets.build_segments(s, actor=Principal.system("bench"))
    return {"rows": n}


def step_responders(url: str, n: int) -> dict[str, Any]:
    import numpy as np
    from benchmarks.dispatch_fullscale import add_responders
    from sqlalchemy import func, select

    from pingan.dispatch.models import RoadNode
    from pingan.dispatch.responder_models import Responder
    from pingan.kit.db import session_scope

    with session_scope(_engine(url)) as s:
        have = s.scalar(select(func.count()).select_from(Responder)) or 0
        if have >= n:
            return {"rows": have, "skipped": "already loaded", "_run_s": 0.0}
        xy = s.execute(select(RoadNode.x, RoadNode.y)).all()
    x = np.array([r[0] for r in xy], dtype=np.float64)
    y = np.array([r[1] for r in xy], dtype=np.float64)
    available = add_responders(url, n, 0.2, x, y)
    return {"rows": n, "available": available}


def step_coverage(url: str) -> dict[str, Any]:
    from pingan.cameras import streets
    from pingan.kit.db import session_scope

    with session_scope(_engine(url)) as s:
        return {"changed": streets.recompute(s, workers=2)}


def step_job(url: str, kind: str) -> dict[str, Any]:
    """Submit one scheduled job as the scheduler does and run it as a worker does."""
    from pingan import schedules
    from pingan.kit import jobs
    from pingan.kit.db import session_scope

    schedules.install()
    engine = _engine(url)
    kind, _, extra = kind.partition("@")  # "kind@{json}": the schedule's params, overridden
    params = {**dict(jobs._schedules[kind].params), **(json.loads(extra) if extra else {})}
    with session_scope(engine) as s:
        job = jobs.submit(s, kind=kind, params=params, created_by="system:scheduler")
        job_id = job.id
    began = time.perf_counter()
    taken = jobs.claim(engine)  # the database is ours alone: the oldest queued job is this one
    assert taken is not None and taken.job_id == job_id, (taken, job_id)
    jobs.run_job(engine, taken.job_id, taken.runner)
    with session_scope(engine) as s:
        job = jobs.get(s, job_id)
        if job.status != jobs.JobStatus.SUCCEEDED:
            raise SystemExit(f"job {kind} {job.status}: {(job.error or '')[:1500]}")
        return {**(job.result_dict() or {}), "_run_s": time.perf_counter() - began}


def _own_peak_rss_kib() -> int:
    """This process's peak RSS (VmHWM): the parent's size does not leak into it."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def run_step(args: argparse.Namespace) -> None:
    from sqlalchemy import create_engine, text

    name = args.step
    # Load steps may run from two drivers at once (--load-extras beside a full
    # load): the second waits for the first, then finds the rows there.
    holder = create_engine(args.url).connect()
    holder.execute(text("SELECT pg_advisory_lock(hashtext(:k))"), {"k": f"fullscale.{name}"})
    began = time.perf_counter()
    if name == "cameras":
        out = step_cameras(args.url, args.cameras)
    elif name == "segments":
        out = step_segments(args.url)
    elif name == "responders":
        out = step_responders(args.url, args.responders)
    elif name == "coverage.recompute":
        out = step_coverage(args.url)
    else:
        out = step_job(args.url, name)
    holder.close()
    out.setdefault("_run_s", time.perf_counter() - began)
    out["_hwm_kib"] = _own_peak_rss_kib()
    print(RESULT_TAG + json.dumps(out, default=str), flush=True)


# ---------------------------------------------------------------- driver (parent side)


def _child(cmd: list[str], env: dict[str, str], log: Path) -> tuple[float, float, int, int, str]:
    """Run a child; returns its wall s, the step's own s (without start-up), exit status,
    peak RSS (KiB) and its result line."""
    began = time.perf_counter()
    with log.open("ab") as sink:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=sink, cwd=ROOT)
        assert proc.stdout is not None
        result = ""
        for raw in proc.stdout:
            line = raw.decode(errors="replace")
            sink.write(raw)
            sink.flush()
            if line.startswith(RESULT_TAG):
                result = line[len(RESULT_TAG) :].strip()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss of an exec'd child starts at the parent's size; the child's own
    # VmHWM (when it reports one) is the honest figure.
    wall = time.perf_counter() - began
    rss, own = int(usage.ru_maxrss), wall
    if result:
        data = json.loads(result)
        rss, own = int(data.get("_hwm_kib", rss)), float(data.get("_run_s", wall))
    return wall, own, proc.returncode, rss, result


def _summary(result: str) -> str:
    if not result:
        return ""
    data = json.loads(result)
    data = {k: v for k, v in data.items() if not k.startswith("_")}
    if not isinstance(data, dict):
        return str(data)[:70]
    if "rows" in data:
        rest = {k: v for k, v in data.items() if k != "rows"}
        head = f"{data['rows']:,} rows"
        return head + (" " + json.dumps(rest) if rest else "")
    flat = {k: v for k, v in data.items() if isinstance(v, int | float | str)}
    text = json.dumps(flat)
    return text if len(text) <= 90 else text[:87] + "..."


def _recreate(db: str) -> str:
    from sqlalchemy import create_engine, text

    if not db.startswith("pingan_full") and not db.startswith("pingan_city"):
        raise SystemExit("refusing: --db must start with pingan_full or pingan_city")
    admin = create_engine(f"{PG_BASE}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{db}"'))
    admin.dispose()
    return f"{PG_BASE}/{db}"


def _pg_facts(url: str) -> list[str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        settings = [
            f"{name}={conn.execute(text(f'SHOW {name}')).scalar()}"
            for name in ("shared_buffers", "work_mem", "maintenance_work_mem",
                         "max_wal_size", "effective_cache_size", "max_parallel_workers_per_gather")
        ]  # fmt: skip
        counts = [
            f"{t}={conn.execute(text(f'SELECT count(*) FROM {t}')).scalar():,}"
            for t in ("incidents", "cameras", "responders", "camera_street_segments", "org_units")
        ]
    engine.dispose()
    return [
        "PostgreSQL: " + ", ".join(settings),
        "rows: " + ", ".join(counts),
    ]


def _db_size(url: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        size = conn.execute(text("SELECT pg_size_pretty(pg_database_size(current_database()))"))
        value = str(size.scalar())
    engine.dispose()
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="full")
    parser.add_argument("--db", default="pingan_full")
    parser.add_argument("--cameras", type=int, default=830_000)
    parser.add_argument("--responders", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--skip-load", action="store_true", help="the database is loaded")
    parser.add_argument(
        "--load-extras",
        action="store_true",
        help="only cameras, street segments and responders, into a loaded city",
    )
    parser.add_argument("--only", help="comma-separated steps to run (after --skip-load)")
    parser.add_argument("--log", type=Path, default=Path("/tmp/fullscale_city.log"))
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        run_step(args)
        return

    url = f"{PG_BASE}/{args.db}"
    env = {**os.environ, "PINGAN_DATABASE_URL": url}
    me = [sys.executable, "-m", "benchmarks.fullscale_city", "--url", url,
          "--cameras", str(args.cameras), "--responders", str(args.responders)]  # fmt: skip
    steps: list[tuple[str, list[str]]] = []
    extras = [
        ("load: cameras (bulk upsert)", [*me, "--step", "cameras"]),
        ("load: street segments (10 m)", [*me, "--step", "segments"]),
        ("load: responders", [*me, "--step", "responders"]),
    ]
    if args.load_extras:
        steps += extras
    elif args.skip_load:
        from pingan.kit.migrate import upgrade

        upgrade(url)  # migrations added since the load
    else:
        _recreate(args.db)
        pingan = str(Path(sys.executable).with_name("pingan"))
        steps += [
            (f"load: sim city --scale {args.scale}",
             [pingan, "sim", "city", "--scale", args.scale, "--days", str(args.days)]),
            *extras,
        ]  # fmt: skip
    from pingan import schedules
    from pingan.kit import jobs

    schedules.install()
    kinds = [] if args.load_extras else list(jobs._schedules)
    kinds = sorted(kinds, key=lambda k: (-jobs._schedules[k].every_seconds, k))
    steps += [(f"job: {k} (every {jobs._schedules[k].every_seconds:,} s)",
               [*me, "--step", k]) for k in kinds]  # fmt: skip
    if not args.load_extras:
        # The sim city has no sensitive period, so on most days no briefing is due:
        # also run the day on which the weekly and the monthly ones fall together.
        heavy = 'reports.scheduled@{"today": "2026-06-01"}'
        steps.append((f"job: {heavy} (weekly + monthly due)", [*me, "--step", heavy]))
        steps.append(("coverage recompute (all cameras)", [*me, "--step", "coverage.recompute"]))
    if args.only:
        wanted = set(args.only.split(","))
        steps = [s for s in steps if any(w in s[0] for w in wanted)]

    print(f"database {args.db}; load average {os.getloadavg()}", flush=True)
    rows: list[tuple[str, float, float, int, int, str]] = []
    for name, cmd in steps:
        print(f"-> {name}", flush=True)
        wall, own, code, rss, result = _child(cmd, env, args.log)
        rows.append((name, wall, own, code, rss, _summary(result)))
        status = "ok" if code == 0 else f"FAILED (exit {code}, see {args.log})"
        print(f"   {wall:9.1f} s ({own:.1f} s in the step)  {rss / 1024:7.0f} MiB  {status}  "
              f"{_summary(result)}", flush=True)  # fmt: skip
        if code != 0 and name.startswith("load"):
            break

    print(f"\nload average at the end {os.getloadavg()}")
    for line in _pg_facts(url):
        if line:
            print(line)
    print(f"database size: {_db_size(url)}")
    print("\n| step | wall s | of which the step | peak RSS | rows / result |")
    print("| --- | ---: | ---: | ---: | --- |")
    for name, wall, own, code, rss, summary in rows:
        flag = "" if code == 0 else f" **failed (exit {code})**"
        print(f"| {name} | {wall:,.1f} | {own:,.1f} | {rss / 1024:,.0f} MiB | {summary}{flag} |")


if __name__ == "__main__":
    main()
