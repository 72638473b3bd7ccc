"""PostgreSQL restarted under load: the API reports unready, recovers by itself, loses nothing.

The shared PostgreSQL server must not be restarted, so this starts a private
cluster of its own (``initdb`` into a temporary directory, a free port; as
root it runs the server as the ``postgres`` user), migrates it, starts one
API server (uvicorn, its own process) on it, and then:

* client threads post single incidents for ``--seconds``, each with a new
  ``(source, external_id)``; a failed request is retried with the same key
  until it is answered 201 (stored) or 409 (already stored);
* a poller reads ``/readyz`` every 100 ms;
* after ``--restart-at`` seconds the cluster is restarted (``pg_ctl restart -m fast``).

It prints how long ``/readyz`` said 503, how long writes failed, the
throughput before and after, and checks that every acknowledged incident is
stored exactly once. The peer is the same load with no restart (``--no-restart``).

    .venv/bin/python benchmarks/pg_restart.py
    .venv/bin/python benchmarks/pg_restart.py --seconds 20 --restart-at 6 --clients 4
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.citykit import build_test_city, grid_centre, unit  # noqa: E402

from pingan.bootstrap import seed_reference_data  # noqa: E402
from pingan.incidents.models import Incident  # noqa: E402
from pingan.kit.db import engine_for, session_scope  # noqa: E402
from pingan.kit.migrate import upgrade  # noqa: E402
from pingan.org import auth, users  # noqa: E402
from pingan.org.principal import Principal  # noqa: E402

BIN = Path("/usr/lib/postgresql/15/bin")
SYSTEM = Principal.system("bench")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    """A throw-away PostgreSQL cluster in a temporary directory."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="pingan-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")

    def run(self, *args: str) -> None:
        command = [str(BIN / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=180)

    def init(self) -> None:
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.start()

    def _options(self) -> str:
        return f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=on"

    def start(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-o", self._options(),
                 "-l", str(self.dir / "log"), "-w", "start")  # fmt: skip

    def restart(self) -> None:
        # -l again: without it the new server would write to (and hold open) our pipe.
        self.run("pg_ctl", "-D", str(self.data), "-o", self._options(),
                 "-l", str(self.dir / "log"), "-m", "fast", "-w", "restart")  # fmt: skip

    def stop(self) -> None:
        try:
            self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/pingan"


def prepare(cluster: Cluster) -> str:
    admin = create_engine(
        f"postgresql+psycopg://postgres@127.0.0.1:{cluster.port}/postgres",
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE pingan"))
    admin.dispose()
    upgrade(cluster.url)
    engine = engine_for(cluster.url)
    with session_scope(engine) as session:
        seed_reference_data(session)
        build_test_city(session)
        bridge = users.create_user(session, username="cad", password=None, is_service=True,
                                   actor=SYSTEM)  # fmt: skip
        users.grant_role(session, user=bridge, role_name="officer", unit=unit(session, "C"),
                         actor=SYSTEM)  # fmt: skip
        key, _ = auth.create_api_key(session, user=bridge, name="cad", actor=SYSTEM)
    engine.dispose()
    return key


def start_server(url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "PINGAN_DATABASE_URL": url, "PINGAN_RUN_JOBS": "false"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "pingan.app:create_app",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("the API server did not become ready")


def load(base: str, key: str, args: argparse.Namespace, cluster: Cluster, restart: bool) -> None:
    lon, lat = grid_centre("W1")
    acked: set[str] = set()
    ok_at: list[float] = []
    failed_at: list[float] = []
    ready: list[tuple[float, int]] = []
    lock = threading.Lock()
    t0 = time.monotonic()
    stop = threading.Event()

    def client(n: int) -> None:
        http = httpx.Client(headers={"X-API-Key": key}, timeout=10)
        i = 0
        while not stop.is_set():
            ext = f"c{n}-{i}"
            i += 1
            body = {"type": "fight", "occurred_at": "2026-06-01T20:00:00Z",
                    "lon": lon, "lat": lat, "external_id": ext}  # fmt: skip
            while True:  # retry the same key until it is answered
                try:
                    status = http.post(f"{base}/api/v1/incidents", json=body).status_code
                except httpx.TransportError:
                    status = 0
                now = time.monotonic() - t0
                if status in (201, 409):
                    with lock:
                        acked.add(ext)
                        ok_at.append(now)
                    break
                with lock:
                    failed_at.append(now)
                if now > args.seconds + 60:
                    raise SystemExit(f"{ext} never stored")
                time.sleep(0.2)

    def poll_ready() -> None:
        while not stop.is_set():
            try:
                status = httpx.get(f"{base}/readyz", timeout=2).status_code
            except httpx.TransportError:
                status = 0
            ready.append((time.monotonic() - t0, status))
            time.sleep(0.1)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
    threads.append(threading.Thread(target=poll_ready))
    for t in threads:
        t.start()
    restart_took = None
    if restart:
        time.sleep(args.restart_at)
        r0 = time.monotonic()
        cluster.restart()
        restart_took = time.monotonic() - r0
        time.sleep(max(0.0, args.seconds - args.restart_at - restart_took))
    else:
        time.sleep(args.seconds)
    stop.set()
    for t in threads:
        t.join()

    unready = [t for t, s in ready if s != 200]
    print(f"  acknowledged writes: {len(acked):,} in {args.seconds:g} s "
          f"({len(acked) / args.seconds:,.0f} /s)")  # fmt: skip
    if restart:
        print(f"  pg_ctl restart took {restart_took:.2f} s (at t = {args.restart_at:g} s)")
        if unready:
            print(f"  /readyz not 200 for {len(unready)} polls, from t = {min(unready):.2f} s "
                  f"to t = {max(unready):.2f} s")  # fmt: skip
        else:
            print("  /readyz never saw the outage (restart shorter than one poll)")
        if failed_at:
            print(f"  failed attempts (all retried): {len(failed_at)}, from t = "
                  f"{min(failed_at):.2f} s to t = {max(failed_at):.2f} s")  # fmt: skip
        before = sum(1 for t in ok_at if t < args.restart_at)
        after = sum(1 for t in ok_at if t > args.restart_at + (restart_took or 0) + 2)
        span_after = args.seconds - args.restart_at - (restart_took or 0) - 2
        print(f"  writes/s before: {before / args.restart_at:,.0f}, "
              f"after recovery: {after / max(span_after, 0.1):,.0f}")  # fmt: skip
    return_codes = Counter(s for _t, s in ready)
    print(f"  /readyz answers: {dict(return_codes)}")
    check(acked, cluster)


def check(acked: set[str], cluster: Cluster) -> None:
    engine = engine_for(cluster.url)
    with session_scope(engine) as session:
        stored = session.scalars(
            select(Incident.external_id).where(Incident.source == "call")
        ).all()
        total = session.scalar(select(func.count(Incident.id)))
    engine.dispose()
    counts = Counter(stored)
    lost = acked - set(counts)
    twice = [k for k, n in counts.items() if n > 1]
    print(f"  stored: {total:,}; acknowledged but missing: {len(lost)}; stored twice: {len(twice)}")
    if lost or twice:
        raise SystemExit("FAILED: acknowledged writes lost or duplicated")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--restart-at", type=float, default=6.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--no-restart", action="store_true", help="the peer: same load, no restart")
    args = parser.parse_args()
    cluster = Cluster()
    server = None
    try:
        cluster.init()
        key = prepare(cluster)
        server, base = start_server(cluster.url)
        label = "no restart (peer)" if args.no_restart else "PostgreSQL restarted under load"
        print(f"{label}: {args.clients} clients, {args.seconds:g} s")
        load(base, key, args, cluster, restart=not args.no_restart)
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=20)
        cluster.stop()


if __name__ == "__main__":
    main()
