"""Load test and soak (issue 11): the realistic mix against real API servers on 127.0.0.1.

One command does it all: a fresh database (PostgreSQL by default) with the
demo city, its cases, responders and cameras; console users who log in and
integrations that each hold an API key; ``uvicorn`` with ``--workers`` worker
processes; ``--sse`` alert streams held open for the whole run; and the mix of
``mix.py`` driven by Locust (headless, a fixed total rate, ``--minutes``
long, stopping by itself). The workers' RSS is sampled every few seconds.
It prints requests/s and p50/p95/p99 per request kind and overall, errors,
streams held, RSS first/last/max, and PASS/FAIL per goal:
>= 1,000 requests/s, p99 < 200 ms, zero errors, 500 streams, for 10 minutes;
with ``--soak``, 30 minutes at a lower rate and the RSS slope (flat: < 5 MB
per 10 minutes).

    .venv/bin/python benchmarks/load/run.py                     # the 10-minute load test
    .venv/bin/python benchmarks/load/run.py --soak              # the 30-minute soak
    .venv/bin/python benchmarks/load/run.py --minutes 1         # a short look
    .venv/bin/python benchmarks/load/run.py --backend sqlite --scale tiny --minutes 0.2 \\
        --users 4 --rate 20 --sse 5 --workers 1                 # what the smoke test runs
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psutil  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks.load.city import (  # noqa: E402
    PASSWORD,
    Plan,
    drop_database,
    fresh_database,
    load_city,
    make_identities,
)
from benchmarks.load.cpu import CpuAccount, postgres_processes, render_cpu  # noqa: E402
from benchmarks.load.report import Goals, render  # noqa: E402
from benchmarks.load.server import MemorySampler, Server  # noqa: E402
from benchmarks.load.sse import OPEN_PER_S  # noqa: E402
from benchmarks.load.stats import StatisticsKeeper, analyse, autovacuum_is_on  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--database-url", help="use this prepared database (kept) instead")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the fresh database")
    parser.add_argument(
        "--scale", default="demo", help="synthetic city: demo (as `pingan demo`) or tiny"
    )
    parser.add_argument("--days", type=int, default=365, help="days of incidents in the city")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--soak", action="store_true", help="30 minutes at --soak-rate; RSS slope")
    parser.add_argument("--minutes", type=float, help="length of the measured run (10; soak 30)")
    parser.add_argument("--rate", type=float, help="requests/s asked of the clients (1000)")
    parser.add_argument("--soak-rate", type=float, default=300.0)
    parser.add_argument("--users", type=int, default=100, help="simulated client seats")
    parser.add_argument("--sse", type=int, default=500, help="alert streams held open")
    parser.add_argument("--ramp-seconds", type=float, default=5.0, help="start-up, not measured")
    parser.add_argument(
        "--cover-every-kind",
        action="store_true",
        help="a smoke run: go on past --minutes (2 minutes at most) until every kind answered",
    )
    parser.add_argument(
        "--glibc-defaults",
        action="store_true",
        help="run the server without deploy/pingan.env.example's MALLOC_* settings",
    )
    parser.add_argument("--rss-every", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--keep-logs", action="store_true", help="keep the work folder's logs")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.minutes is None:
        args.minutes = 30.0 if args.soak else 10.0
    if args.rate is None:
        args.rate = args.soak_rate if args.soak else 1000.0
    if args.minutes <= 0 or args.rate <= 0 or args.users < 1 or args.workers < 1:
        parser.error("--minutes, --rate, --users and --workers must be positive")
    return args


def backend_of(args: argparse.Namespace) -> str:
    """The backend run against: the given database's, else ``--backend``."""
    if args.database_url:
        return "postgres" if args.database_url.startswith("postgresql") else "sqlite"
    return str(args.backend)


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f} ({os.cpu_count()} CPUs)"


def log_in(plan: Plan, base: str) -> None:
    """Console users log in as the browser does (the session cookie's value is the token)."""
    with httpx.Client(base_url=base, timeout=60) as http:
        for name in plan.console_users:
            r = http.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
            if r.status_code != 200 or not r.cookies.get("pingan_session"):
                raise SystemExit(f"login of {name} failed: HTTP {r.status_code} {r.text[:200]}")
            plan.console_tokens.append(r.cookies["pingan_session"])
        services = http.get("/open311/v2/services.json")
        services.raise_for_status()
        plan.open311_codes = [s["service_code"] for s in services.json()]
    if not plan.open311_codes:
        raise SystemExit("Open311 lists no services")


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def hold_streams(
    args: argparse.Namespace, plan_path: Path, work: Path
) -> tuple[subprocess.Popen[bytes] | None, Path, Path]:
    status, result = work / "sse-status.json", work / "sse-result.json"
    if args.sse <= 0:
        return None, status, result
    max_seconds = min(3600.0, args.minutes * 60 + 180)
    command = python_module(
        "benchmarks.load.sse",
        str(plan_path),
        str(status),
        str(result),
        "--streams",
        str(args.sse),
        "--max-seconds",
        f"{max_seconds:g}",
    )
    log = (work / "sse.log").open("wb")
    proc = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=log)
    # Wait until all are held (or a minute has passed: the report says how many were).
    deadline = time.monotonic() + 60 + args.sse / OPEN_PER_S
    while time.monotonic() < deadline and proc.poll() is None:
        if status.exists():
            try:
                if json.loads(status.read_text())["open"] >= args.sse:
                    break
            except (ValueError, KeyError):
                pass
        time.sleep(0.5)
    return proc, status, result


def stop_streams(proc: subprocess.Popen[bytes] | None, result: Path) -> dict[str, Any] | None:
    if proc is None:
        return None
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if not result.exists():
        raise SystemExit("the stream holder wrote no result; see sse.log")
    doc: dict[str, Any] = json.loads(result.read_text())
    return doc


def drive(args: argparse.Namespace, plan_path: Path, work: Path) -> dict[str, Any]:
    result = work / "load-result.json"
    command = python_module(
        "benchmarks.load.driver",
        str(plan_path),
        str(result),
        "--users",
        str(args.users),
        "--rate",
        f"{args.rate:g}",
        "--seconds",
        f"{args.minutes * 60:g}",
        "--ramp-seconds",
        f"{args.ramp_seconds:g}",
        *(["--cover-every-kind"] if args.cover_every_kind else []),
    )
    with (work / "driver.log").open("wb") as log:
        done = subprocess.run(
            command, cwd=ROOT, stdout=log, stderr=log, timeout=args.minutes * 60 + 420, check=False
        )
    if done.returncode != 0 or not result.exists():
        tail = (work / "driver.log").read_text(errors="replace")[-3000:]
        raise SystemExit(f"the Locust driver failed (exit {done.returncode}):\n{tail}")
    doc: dict[str, Any] = json.loads(result.read_text())
    return doc


def cpu_account(server: Server, sse_proc: subprocess.Popen[bytes] | None) -> CpuAccount:
    """The server's processes, PostgreSQL, the stream holder; the driver once it has exited."""

    def server_processes() -> list[psutil.Process]:
        assert server.proc is not None
        return [psutil.Process(server.proc.pid), *server.processes()]

    def stream_holder() -> list[psutil.Process]:
        return [] if sse_proc is None else [psutil.Process(sse_proc.pid)]

    groups = {"server": server_processes, "postgres": postgres_processes, "streams": stream_holder}
    return CpuAccount(groups, reaped="locust")


def statements_per_route(base_url: str) -> dict[str, tuple[int, float]]:
    """Requests and mean database statements per route, from one worker's /metrics."""
    text = httpx.get(f"{base_url}/metrics", timeout=30).text
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    pattern = re.compile(
        r'^pingan_http_request_db_statements_(sum|count)\{method="(\w+)",route="(.*)"\} (\S+)$'
    )
    for line in text.splitlines():
        found = pattern.match(line)
        if found:
            kind, method, route, value = found.groups()
            key = f"{method} {route}"
            if kind == "sum":
                sums[key] = float(value)
            else:
                counts[key] = int(float(value))
    return {k: (n, sums.get(k, 0.0) / n) for k, n in counts.items() if n}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    mode = "soak" if args.soak else "load"
    print(
        f"{mode} run: {args.minutes:g} min at {args.rate:g} requests/s asked, {args.users} "
        f"seats, {args.sse} alert streams, {args.workers} worker(s), {backend_of(args)}, "
        f"city {args.scale}"
    )
    print(f"load average before: {load_average()}")
    work = Path(tempfile.mkdtemp(prefix="pingan-load-"))
    drop_name: str | None = None
    server: Server | None = None
    sse_proc: subprocess.Popen[bytes] | None = None
    try:
        t0 = time.monotonic()
        if args.database_url:
            url = args.database_url
        else:
            url, drop_name = fresh_database(args.backend, str(work / "pingan.db"))
        load_city(url, scale=args.scale, days=args.days, seed=args.seed)
        plan = make_identities(url, run_tag=uuid.uuid4().hex[:6], seed=args.seed)
        keeper = None
        if backend_of(args) == "postgres" and not autovacuum_is_on(url):
            # Stand in for autovacuum, which keeps a production database's statistics.
            print(f"autovacuum is off: ANALYZE took {analyse(url):.1f} s; again every minute")
            keeper = StatisticsKeeper(url, every_s=60.0)
        cameras = sum(len(v) for v in plan.owner_cameras.values())
        print(
            f"database ready in {time.monotonic() - t0:.0f} s: {len(plan.case_ids)} cases, "
            f"{cameras} cameras of {len(plan.owner_cameras)} owners, "
            f"{len(plan.responders)} responders on duty"
        )
        server = Server(
            url,
            workers=args.workers,
            log_path=work / "server.log",
            deploy_malloc=not args.glibc_defaults,
        )
        server.start()
        plan.base_url = server.url
        log_in(plan, server.url)
        plan_path = work / "plan.json"
        plan_path.write_text(json.dumps(plan.to_json()))

        print(f"server ready ({args.workers} worker(s)) at {time.monotonic() - t0:.0f} s")
        sampler = MemorySampler(server, every_s=args.rss_every)
        sampler.start()
        sse_proc, _status, sse_result = hold_streams(args, plan_path, work)
        print(f"streams opened, driving the mix at {time.monotonic() - t0:.0f} s")
        cpu = cpu_account(server, sse_proc)
        cpu.start()
        drive_t0 = time.monotonic()
        if keeper is not None:
            keeper.start()
        load = drive(args, plan_path, work)
        if keeper is not None:
            keeper.stop()
        cpu_used = cpu.stop()
        drive_s = time.monotonic() - drive_t0
        print(f"mix done at {time.monotonic() - t0:.0f} s")
        statements = statements_per_route(server.url)
        sse = stop_streams(sse_proc, sse_result)
        sse_proc = None
        memory = sampler.stop()
        print(f"streams closed at {time.monotonic() - t0:.0f} s")
        if server.proc is not None and server.proc.poll() is not None:
            raise SystemExit(f"the server died during the run; see {work / 'server.log'}")
    finally:
        if sse_proc is not None and sse_proc.poll() is None:
            sse_proc.kill()
        if server is not None:
            server.stop()
        if not args.keep_db:
            drop_database(drop_name)
        elif not args.database_url:
            print(f"kept the database: {url}")
        if args.keep_logs or args.keep_db or sys.exc_info()[0] is not None:
            print(f"logs (server, driver, streams) in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    print(f"finished at {time.monotonic() - t0:.0f} s; load average after: {load_average()}")
    lines, verdict = render(
        load=load,
        sse=sse,
        memory=memory,
        goals=Goals(),
        soak=args.soak,
        minutes=args.minutes,
        workers=args.workers,
    )
    print("\n".join(lines))
    print("\n".join(render_cpu(cpu_used, requests=load["total"]["requests"], seconds=drive_s)))
    print("database statements per request, by route (one worker's metrics):")
    for route, (count, mean) in sorted(statements.items(), key=lambda kv: -kv[1][0]):
        print(f"  {mean:6.1f}  x {count:>7,}  {route}")
    if args.json:
        doc = {
            "mode": mode,
            "args": {k: str(v) for k, v in vars(args).items()},
            "load": load,
            "sse": sse,
            "rss": memory.rows,
            "verdict": verdict,
            "statements": statements,
            "cpu_s": cpu_used,
        }
        args.json.write_text(json.dumps(doc, indent=1))
    return 0 if all(verdict.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
