"""Cost of the HTTP hardening (headers, body limit, CSRF check, rate limits) per request.

The same app is measured twice in one run, alternating rounds: ours with
``pingan.api.security.SecurityMiddleware`` installed, the peer without it.
Requests go in-process through httpx's ASGI transport, so the numbers are the
middleware's own cost, not the network's. Three request kinds:

* ``GET /healthz`` (headers only),
* ``POST /open311/v2/requests.json`` (per-address token bucket + body limit),
* ``GET /api/v1/auth/me`` with an ``X-API-Key`` header (per-key token bucket;
  the key is unknown, so both answer 401 without touching a user row).

    .venv/bin/python benchmarks/security_overhead.py            # 3 rounds of 2,000 each
    .venv/bin/python benchmarks/security_overhead.py --n 500 --rounds 1
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import httpx

from pingan.api import security
from pingan.app import create_app
from pingan.kit.migrate import upgrade
from pingan.settings import Settings


def _app(url: str, hardened: bool) -> object:
    settings = Settings(
        database_url=url,
        run_jobs=False,
        rate_limit_public_per_minute=10**9,  # measure the bucket, never refuse
        rate_limit_api_key_per_minute=10**9,
    )
    original = security.install
    if not hardened:
        security.install = lambda app, settings: None  # type: ignore[assignment]
    try:
        return create_app(settings)
    finally:
        security.install = original


async def _run(app: object, n: int) -> dict[str, float]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    out = {}
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for name, call in (
            ("GET /healthz", lambda: client.get("/healthz")),
            ("POST open311 (public)", lambda: client.post(
                "/open311/v2/requests.json", data={"service_code": "x"})),
            ("GET /auth/me (API key)", lambda: client.get(
                "/api/v1/auth/me", headers={"X-API-Key": "pgk_unknown"})),
        ):  # fmt: skip
            await call()  # warm
            started = time.perf_counter()
            for _ in range(n):
                await call()
            out[name] = (time.perf_counter() - started) / n * 1e6
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        ours, peer = _app(url, True), _app(url, False)
        best: dict[str, list[float]] = {}
        for _ in range(args.rounds):
            for label, app in (("ours", ours), ("peer", peer)):
                for name, us in asyncio.run(_run(app, args.n)).items():
                    best.setdefault(f"{name}|{label}", []).append(us)
    print(f"{'request':28} {'with (us)':>10} {'without (us)':>13} {'ratio':>6}")
    for name in dict.fromkeys(k.split("|")[0] for k in best):
        with_us, without_us = min(best[f"{name}|ours"]), min(best[f"{name}|peer"])
        print(f"{name:28} {with_us:10.0f} {without_us:13.0f} {with_us / without_us:6.2f}")


if __name__ == "__main__":
    main()
