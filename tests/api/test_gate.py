"""The request gate: no more than its limit inside the app, the rest wait and all finish."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from pingan.api.gate import STREAM_PATHS, ConcurrencyGate


def _app(inside: list[int], peak: list[int]) -> Starlette:
    async def slow(request: Request) -> PlainTextResponse:
        inside[0] += 1
        peak[0] = max(peak[0], inside[0])
        await asyncio.sleep(0.02)
        inside[0] -= 1
        return PlainTextResponse("ok")

    routes = [Route("/work", slow), *(Route(path, slow) for path in STREAM_PATHS)]
    return Starlette(routes=routes)


def test_gate_keeps_requests_inside_to_its_limit() -> None:
    inside, peak = [0], [0]
    gated = ConcurrencyGate(_app(inside, peak), limit=4)

    async def run() -> list[int]:
        transport = httpx.ASGITransport(app=gated)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            answers = await asyncio.gather(*(client.get("/work") for _ in range(30)))
        return [a.status_code for a in answers]

    assert asyncio.run(run()) == [200] * 30
    assert peak[0] == 4  # the limit was reached, never passed


def test_live_streams_are_not_counted() -> None:
    inside, peak = [0], [0]
    gated = ConcurrencyGate(_app(inside, peak), limit=1)

    async def run() -> None:
        transport = httpx.ASGITransport(app=gated)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await asyncio.gather(*(client.get(STREAM_PATHS[0]) for _ in range(5)))

    asyncio.run(run())
    assert peak[0] == 5


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError):
        ConcurrencyGate(_app([0], [0]), limit=0)
