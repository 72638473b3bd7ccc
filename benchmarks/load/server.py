"""The API server under test (uvicorn with N worker processes) and its memory, sampled."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]


def _deploy_malloc() -> dict[str, str]:
    """The MALLOC_* lines of the operators' settings file: the server runs as deployed."""
    found = {}
    for line in (ROOT / "deploy" / "pingan.env.example").read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and name.startswith("MALLOC_"):
            found[name.strip()] = value.strip()
    return found


DEPLOY_MALLOC = _deploy_malloc()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``uvicorn --workers N --factory pingan.app:create_app`` on 127.0.0.1."""

    def __init__(
        self, db_url: str, *, workers: int, log_path: Path, deploy_malloc: bool = True
    ) -> None:
        self.deploy_malloc = deploy_malloc
        self.db_url = db_url
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "PINGAN_DATABASE_URL": self.db_url,
            # The job runner is its own process in production (deploy/); not under test here.
            "PINGAN_RUN_JOBS": "false",
            "PINGAN_LOG_LEVEL": "WARNING",
            # Every simulated citizen and console shares 127.0.0.1 here, so the per-IP limit
            # of public routes (login, Open311 POST) would throttle them all as one person.
            # Keys keep their real per-key limit: each integration holds its own key.
            "PINGAN_RATE_LIMIT_PUBLIC_PER_MINUTE": "10000000",
        }
        if self.deploy_malloc:
            # The allocator settings of deploy/pingan.env.example (unless the caller set them).
            env.update({k: os.environ.get(k, v) for k, v in DEPLOY_MALLOC.items()})
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "pingan.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--workers",
            str(self.workers),
            "--timeout-graceful-shutdown",
            "5",
            # As deployed (deploy/systemd): idle keep-alive connections live 65 s. With
            # uvicorn's 5 s a seat idle that long raced the server closing its connection,
            # and lost the request (3 in 178,139 in the 30-minute soak).
            "--timeout-keep-alive",
            "65",
        ]
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        self._wait_ready()

    def _wait_ready(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"the server exited at start; see {self.log_path}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200 and (
                    len(self.processes()) >= self.workers
                ):
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"the server did not become ready in 180 s; see {self.log_path}")

    def processes(self) -> list[psutil.Process]:
        """The serving processes: the workers, or the one process when there is one worker."""
        assert self.proc is not None
        try:
            parent = psutil.Process(self.proc.pid)
            children = parent.children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        # uvicorn's supervisor only watches; multiprocessing's resource tracker is idle.
        workers = [c for c in children if "resource_tracker" not in " ".join(_cmdline(c))]
        return workers if self.workers > 1 else [parent]

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            for child in psutil.Process(self.proc.pid).children(recursive=True):
                child.kill()
            self.proc.kill()
            self.proc.wait(timeout=10)


def _cmdline(proc: psutil.Process) -> list[str]:
    try:
        return [str(part) for part in proc.cmdline()]
    except psutil.Error:
        return []


@dataclass
class MemorySamples:
    """(seconds since start, total RSS in MB, per-process RSS in MB), every ``every_s``."""

    every_s: float
    rows: list[tuple[float, float, list[float]]] = field(default_factory=list)
    # Every serving process seen: more than the worker count means workers died and respawned.
    pids: set[int] = field(default_factory=set)


class MemorySampler:
    def __init__(self, server: Server, *, every_s: float) -> None:
        self.server = server
        self.samples = MemorySamples(every_s=every_s)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._t0 = time.monotonic()

    def start(self) -> None:
        self._t0 = time.monotonic()
        self._thread.start()

    def stop(self) -> MemorySamples:
        self._stop.set()
        self._thread.join(timeout=10)
        return self.samples

    def _run(self) -> None:
        while True:
            per_process = []
            for proc in self.server.processes():
                try:
                    per_process.append(proc.memory_info().rss / 2**20)
                except psutil.Error:
                    continue
                self.samples.pids.add(proc.pid)
            if per_process:
                at = time.monotonic() - self._t0
                self.samples.rows.append((at, sum(per_process), per_process))
            if self._stop.wait(self.samples.every_s):
                return
