"""The console's first paint and time to map, with a bare MapLibre page as the peer, same run.

A temporary SQLite city (``--scale``, tiny by default) is served by uvicorn
with the built console (``make web`` first). Chromium (Debian's) opens, each
run in a fresh context (cold cache):

* ours: ``/console/`` -> first contentful paint, and when the login form is
  in the page (from navigation start); then sign in and wait until the district
  boundaries are drawn (``#map[data-loaded]``): "time to map" counts from the
  click on Sign in;
* peer: a static page holding only MapLibre GL (the same package the console
  bundles, as its UMD build) that draws the same districts (a local GeoJSON
  file) on the same empty style: its first contentful paint, and time to map
  counted from navigation start until the map is idle with the data.

Prints the medians and the ratios ours / peer.

    .venv/bin/python benchmarks/console_first_paint.py
    .venv/bin/python benchmarks/console_first_paint.py --runs 9 --scale demo
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import shutil
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy import Engine, select

from pingan.app import STATIC_DIR, create_app
from pingan.kit.db import engine_for, session_scope
from pingan.kit.migrate import upgrade
from pingan.org import users
from pingan.org.levels import Level
from pingan.org.models import OrgUnit
from pingan.org.principal import Principal
from pingan.settings import get_settings

ROOT = Path(__file__).resolve().parents[1]
MAPLIBRE = ROOT / "web" / "node_modules" / "maplibre-gl" / "dist"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
USER, PASSWORD = "bench-admin", "bench-pass-123456"

PEER_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>peer</title>
<link rel="stylesheet" href="maplibre-gl.css">
<style>html, body, #map { height: 100%; margin: 0; }</style></head>
<body><p>peer</p><div id="map"></div>
<script src="maplibre-gl.js"></script><script src="peer.js"></script>
</body></html>
"""
PEER_JS = """
const map = new maplibregl.Map({
  container: "map",
  style: { version: 8, sources: {}, layers: [
    { id: "background", type: "background", paint: { "background-color": "#eef1f4" } }] },
  center: [121.47, 31.23], zoom: 10, attributionControl: false, fadeDuration: 0,
});
map.on("load", async () => {
  const doc = await (await fetch("districts.geojson")).json();
  map.addSource("d", { type: "geojson", data: doc });
  map.addLayer({ id: "d", type: "line", source: "d", paint: { "line-color": "#3b4a6b" } });
  map.once("idle", () => { document.body.dataset.loaded = String(performance.now()); });
});
"""
# First contentful paint; NaN when the browser never reports one.
FCP = """() => new Promise((resolve) => {
  const seen = performance.getEntriesByName('first-contentful-paint');
  if (seen.length) return resolve(seen[0].startTime);
  new PerformanceObserver((list) => {
    const hit = list.getEntriesByName('first-contentful-paint');
    if (hit.length) resolve(hit[0].startTime);
  }).observe({ type: 'paint', buffered: true });
  setTimeout(() => resolve(NaN), 10000);
})"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _city(url: str, scale: str) -> Engine:
    from pingan.sim.city import build_city, recent_start

    upgrade(url)
    engine = engine_for(url)
    build_city(engine, scale=scale, seed=3, start=recent_start(60), days=60)
    actor = Principal.system("bench")
    with session_scope(engine) as session:
        users.ensure_builtin_roles(session)
        city = session.scalar(select(OrgUnit).where(OrgUnit.level == Level.CITY.value))
        assert city is not None
        user = users.create_user(
            session, username=USER, password=PASSWORD, display_name="Bench", actor=actor
        )
        users.grant_role(session, user=user, role_name="admin", unit=city, actor=actor)
    return engine


def _serve_app(engine: Engine) -> tuple[str, uvicorn.Server, threading.Thread]:
    settings = get_settings().model_copy(update={"run_jobs": False})
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, engine), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


def _serve_peer(folder: Path) -> tuple[str, http.server.ThreadingHTTPServer]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            del format, args

    handler = functools.partial(Quiet, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{httpd.server_address[1]}", httpd


def _ours(browser: Browser, url: str) -> tuple[float, float, float]:
    context = browser.new_context(viewport={"width": 1366, "height": 860})
    page = context.new_page()
    page.goto(url + "/console/")
    fcp = float(page.evaluate(FCP))
    page.wait_for_selector("#login-username")
    form = float(page.evaluate("() => performance.now()"))
    page.locator("#login-username").fill(USER)
    page.locator("#login-password").fill(PASSWORD)
    began = time.perf_counter()
    page.locator("form.login-card button[type=submit]").click()
    page.wait_for_selector('#map[data-loaded~="org-district"]', timeout=120_000)
    to_map = (time.perf_counter() - began) * 1000
    context.close()
    return fcp, form, to_map


def _peer(browser: Browser, url: str) -> tuple[float, float, float]:
    context = browser.new_context(viewport={"width": 1366, "height": 860})
    page = context.new_page()
    page.goto(url + "/index.html")
    fcp = float(page.evaluate(FCP))
    page.wait_for_selector("body[data-loaded]", timeout=120_000)
    to_map = float(page.evaluate("() => Number(document.body.dataset.loaded)"))
    context.close()
    return fcp, float("nan"), to_map


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--scale", default="tiny")
    args = parser.parse_args()
    assert (STATIC_DIR / "index.html").exists(), "console not built: run `make web`"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"building the {args.scale} city...", flush=True)
        engine = _city(f"sqlite:///{folder / 'bench.db'}", args.scale)
        url, server, thread = _serve_app(engine)
        peer_dir = folder / "peer"
        peer_dir.mkdir()
        for name in ("maplibre-gl.js", "maplibre-gl.css"):
            shutil.copy(MAPLIBRE / name, peer_dir / name)
        (peer_dir / "index.html").write_text(PEER_HTML)
        (peer_dir / "peer.js").write_text(PEER_JS)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            request = pw.request.new_context(base_url=url)
            request.post("/api/v1/auth/login", data={"username": USER, "password": PASSWORD})
            doc = request.get("/api/v1/org/units.geojson?level=district").json()
            (peer_dir / "districts.geojson").write_text(json.dumps(doc))
            peer_url, httpd = _serve_peer(peer_dir)
            ours, peer = [], []
            for run in range(args.runs):  # interleaved, so load on the machine hits both alike
                ours.append(_ours(browser, url))
                peer.append(_peer(browser, peer_url))
                print(f"run {run + 1}: console {ours[-1]}, peer {peer[-1]}", flush=True)
            browser.close()
            httpd.shutdown()
        server.should_exit = True
        thread.join(timeout=10)
    rows = [("first contentful paint", 0), ("login form shown", 1), ("time to map", 2)]
    print(f"runs: {args.runs}, scale: {args.scale}, medians in ms")
    print(f"{'measure':<24}{'console':>10}{'bare MapLibre':>15}{'ratio':>8}")
    for label, i in rows:
        a = statistics.median(r[i] for r in ours)
        b = statistics.median(r[i] for r in peer)
        print(f"{label:<24}{a:>10.0f}{b:>15.0f}{a / b:>8.2f}")


if __name__ == "__main__":
    main()
