"""Live alert streams across processes and at 500 connections, on real uvicorn servers.

The servers' safety poll is set to 10 minutes, so an event that arrives within
seconds came over the event bus (PostgreSQL LISTEN/NOTIFY between processes;
in-process on SQLite), not from a poll.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from pingan.alerts.service import Signal, record_signal
from pingan.kit.db import session_scope
from tests.api.conftest import PASSWORD
from tests.citykit import TestCity
from tests.ops.conftest import SYSTEM
from tests.ops.procs import ServerProcess

CONNECTIONS = 500
THREAD_POOL = 40  # anyio's default worker threads, shared by every sync route
ARRIVE_WITHIN_S = 5.0  # generous for a loaded machine; a missed event would take 600 s


@pytest.fixture(autouse=True)
def _no_safety_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINGAN_EVENTS_SAFETY_POLL_S", "600")


@pytest.fixture
def servers(db_url: str, backend: str, people: dict[str, int]) -> Iterator[list[ServerProcess]]:
    """Two servers on PostgreSQL; on SQLite (single-process mode) the same one twice."""
    procs = [ServerProcess(db_url)]
    if backend == "postgres":
        procs.append(ServerProcess(db_url))
    try:
        for proc in procs:
            proc.launch()
        for proc in procs:
            proc.wait_ready()
        yield procs if len(procs) == 2 else procs * 2
    finally:
        for proc in procs:
            proc.stop()


@pytest.fixture
def server(db_url: str, people: dict[str, int]) -> Iterator[ServerProcess]:
    proc = ServerProcess(db_url)
    try:
        proc.start()
        yield proc
    finally:
        proc.stop()


def _new_alert(engine: Engine, city: TestCity) -> int:
    day = dt.date(2026, 3, 20)
    signal = Signal(
        method="scan.space_time_permutation", org_unit_id=city.id("W2"),
        grid_ids=(city.id("W2"),), window_start=day, window_end=day, statistic=5.0,
        observed=12, expected=3.5, p_value=0.001, incident_types=("theft.bicycle",),
    )  # fmt: skip
    with session_scope(engine) as session:
        alert, _ = record_signal(session, signal=signal, actor=SYSTEM)
        return alert.id


def _token(server: ServerProcess, username: str) -> str:
    response = httpx.post(
        f"{server.url}/api/v1/auth/login", json={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


class StreamReader(threading.Thread):
    """Holds one SSE connection and queues each alert event with its arrival time."""

    def __init__(self, server: ServerProcess, token: str) -> None:
        super().__init__(daemon=True)
        self.url = f"{server.url}/api/v1/alerts/stream?max_seconds=10"  # ends soon after the test
        self.headers = {"Authorization": f"Bearer {token}"}
        self.opened = threading.Event()
        self.alerts: queue.Queue[tuple[float, dict[str, object]]] = queue.Queue()

    def run(self) -> None:
        try:
            with httpx.stream("GET", self.url, headers=self.headers, timeout=90) as response:
                event = ""
                for line in response.iter_lines():
                    if line.startswith("retry:"):
                        self.opened.set()  # sent once the connection listens
                    elif line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: ") and event == "alert":
                        self.alerts.put((time.monotonic(), json.loads(line[6:])))
        except httpx.TransportError:  # the server stops at the end of the test
            pass

    def next_alert(self, timeout: float) -> tuple[float, dict[str, object]]:
        return self.alerts.get(timeout=timeout)


def test_acknowledge_on_one_server_reaches_a_stream_held_on_another(
    engine: Engine, city: TestCity, servers: list[ServerProcess]
) -> None:
    alert_id = _new_alert(engine, city)
    acting, holding = servers
    west = StreamReader(holding, _token(holding, "west_officer"))
    east = StreamReader(holding, _token(holding, "east_analyst"))  # out of scope: W2 is west
    for reader in (west, east):
        reader.start()
        assert reader.opened.wait(30), "the stream did not open"
    ack = httpx.post(
        f"{acting.url}/api/v1/alerts/{alert_id}/acknowledge",
        headers={"Authorization": f"Bearer {_token(acting, 'west_officer')}"},
    )
    answered = time.monotonic()
    assert ack.status_code == 200, ack.text
    arrived, body = west.next_alert(timeout=ARRIVE_WITHIN_S)
    assert body["id"] == alert_id and body["status"] == "acknowledged"
    print(f"acknowledged on one process, seen on the other after {arrived - answered:.3f} s")
    # The out-of-scope reader's connection got the same hub item and sent nothing.
    time.sleep(1.0)
    assert east.alerts.empty(), "an out-of-scope alert was sent"


def _threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no thread count")


async def _open(port: int, token: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A raw HTTP/1.1 SSE request; returns once the stream has opened."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET /api/v1/alerts/stream?max_seconds=120 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n".encode()
    )
    await writer.drain()
    seen = b""
    while b"retry: 3000" not in seen:
        chunk = await reader.read(65536)
        assert chunk, f"connection closed before the stream opened: {seen[:200]!r}"
        seen += chunk
    assert seen.startswith(b"HTTP/1.1 200"), seen[:200]
    return reader, writer


async def _until(reader: asyncio.StreamReader, needle: bytes) -> None:
    seen = b""
    while needle not in seen:
        chunk = await reader.read(65536)
        assert chunk, "connection closed before the event arrived"
        seen += chunk


async def _hold_and_acknowledge(
    server: ServerProcess, token: str, alert_id: int, pid: int
) -> tuple[int, int, int, float]:
    assert server.proc is not None
    idle_threads = _threads(pid)
    streams: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    for _wave in range(CONNECTIONS // 50):  # in waves, as browsers reconnect
        wave = [_open(server.port, token) for _ in range(50)]
        streams += await asyncio.wait_for(asyncio.gather(*wave), timeout=120)
    open_threads = _threads(pid)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        ack = await client.post(
            f"/api/v1/alerts/{alert_id}/acknowledge", headers={"Authorization": f"Bearer {token}"}
        )
    assert ack.status_code == 200, ack.text
    t0 = time.monotonic()
    needle = b'"status": "acknowledged"'
    await asyncio.wait_for(asyncio.gather(*(_until(r, needle) for r, _ in streams)), timeout=60)
    took = time.monotonic() - t0
    for _, writer in streams:
        writer.close()
    return len(streams), idle_threads, open_threads, took


def test_500_open_streams_all_receive_one_alert_change_with_bounded_threads(
    engine: Engine, city: TestCity, server: ServerProcess
) -> None:
    alert_id = _new_alert(engine, city)
    assert server.proc is not None
    token = _token(server, "west_officer")
    held, idle_threads, open_threads, took = asyncio.run(
        _hold_and_acknowledge(server, token, alert_id, server.proc.pid)
    )
    print(
        f"{held} streams; server threads idle {idle_threads}, with {held} open {open_threads}; "
        f"all {held} had the change after {took:.2f} s"
    )
    assert held == CONNECTIONS
    # A thread per connection would add 500. What may be added: the request thread pool
    # (capped at 40, used briefly by each request's authentication) and a few of ours.
    assert open_threads - idle_threads <= THREAD_POOL + 10, (idle_threads, open_threads)
