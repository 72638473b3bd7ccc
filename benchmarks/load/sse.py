"""Holds N alert streams (Server-Sent Events) open, as N console tabs do, and counts what happens.

Each stream is ``GET /api/v1/alerts/stream`` with an officer's session cookie.
A stream that ends or fails before the holder is told to stop is a
disconnect; like a browser's EventSource it reconnects after the server's
``retry`` delay, sending ``Last-Event-ID``. Every second the number of streams
open (answered 200 and reading) is written to STATUS.json; on SIGTERM or
SIGINT the totals go to RESULT.json.

    python -m benchmarks.load.sse PLAN.json STATUS.json RESULT.json --streams 500
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
from benchmarks.load.city import Plan

RETRY_S = 3.0
# Tabs open over a while, not at once: 500 streams take 20 s to open.
OPEN_PER_S = 25


@dataclass
class Counts:
    target: int = 0
    open: int = 0
    max_open: int = 0
    # The least number open from the moment all were first held until the end.
    min_open_after_ramp: int | None = None
    # Open when the holder was told to stop (the end of the measured run).
    held_at_stop: int = 0
    ramp_s: float | None = None
    alert_events: int = 0
    keepalives: int = 0
    connects: int = 0
    disconnects: int = 0
    refused: int = 0
    errors: list[str] = field(default_factory=list)

    def note_error(self, what: str) -> None:
        if len(self.errors) < 10:
            self.errors.append(what)


async def hold(
    client: httpx.AsyncClient, url: str, cookie: str, counts: Counts, stop: asyncio.Event
) -> None:
    last_id: str | None = None
    while not stop.is_set():
        headers = {"Cookie": f"pingan_session={cookie}", "Accept": "text/event-stream"}
        if last_id:
            headers["Last-Event-ID"] = last_id
        opened = False
        try:
            async with client.stream("GET", url, headers=headers) as response:
                if response.status_code != 200:
                    counts.refused += 1
                    counts.note_error(f"HTTP {response.status_code}")
                else:
                    opened = True
                    counts.connects += 1
                    counts.open += 1
                    counts.max_open = max(counts.max_open, counts.open)
                    async for line in response.aiter_lines():
                        if line.startswith("id: "):
                            last_id = line[4:]
                        elif line.startswith("event: alert"):
                            counts.alert_events += 1
                        elif line.startswith(": keep-alive"):
                            counts.keepalives += 1
                        if stop.is_set():
                            break
        except (httpx.HTTPError, OSError) as exc:
            if not stop.is_set():
                counts.note_error(f"{type(exc).__name__}: {exc}"[:200])
        finally:
            if opened:
                counts.open -= 1
        if stop.is_set():
            return
        if opened:
            counts.disconnects += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=RETRY_S)


async def main_async(args: argparse.Namespace) -> Counts:
    plan = Plan.from_json(json.loads(args.plan.read_text()))
    counts = Counts(target=args.streams)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    url = f"{plan.base_url}/api/v1/alerts/stream?max_seconds={args.max_seconds:g}"
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    timeout = httpx.Timeout(30.0, read=None)
    started = time.monotonic()
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
        tasks = []
        for i in range(args.streams):
            cookie = plan.console_tokens[i % len(plan.console_tokens)]
            tasks.append(asyncio.create_task(hold(client, url, cookie, counts, stop)))
            if (i + 1) % args.open_per_s == 0:
                await asyncio.sleep(1.0)
        while not stop.is_set():
            if counts.ramp_s is None and counts.open >= args.streams:
                counts.ramp_s = time.monotonic() - started
            if counts.ramp_s is not None:
                low = counts.min_open_after_ramp
                counts.min_open_after_ramp = counts.open if low is None else min(low, counts.open)
            args.status.write_text(json.dumps(asdict(counts)))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=1.0)
        counts.held_at_stop = counts.open
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("plan", type=Path)
    parser.add_argument("status", type=Path)
    parser.add_argument("result", type=Path)
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument(
        "--open-per-s", type=int, default=OPEN_PER_S, help="streams opened per second"
    )
    parser.add_argument("--max-seconds", type=float, default=3600.0, help="asked of the server")
    args = parser.parse_args()
    counts = asyncio.run(main_async(args))
    args.result.write_text(json.dumps(asdict(counts), indent=1))


if __name__ == "__main__":
    main()
