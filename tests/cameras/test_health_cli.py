"""``pingan cameras health ...`` against the test database."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from sqlalchemy import Engine, select
from typer.testing import CliRunner

from pingan.cameras.health_models import CameraOutage
from pingan.cli import app
from pingan.kit.db import session_scope, utcnow
from tests.cameras.test_health_kit import add_cameras, add_owner
from tests.citykit import TestCity


def test_ingest_check_status_and_availability(
    engine: Engine, city: TestCity, tmp_path: Path
) -> None:
    with session_scope(engine) as s:
        add_owner(s, "pso", contact_email="noc@pso")
        a, b = add_cameras(s, "pso", "W1", 2)
    t = (utcnow() - dt.timedelta(hours=2)).replace(microsecond=0)
    stamp = t.isoformat().replace("+00:00", "Z")
    csv_file = tmp_path / "beats.csv"
    csv_file.write_text(
        "camera_id,at,online,fps,bitrate_kbps\n"
        f"{a},{stamp},true,25,4096\n"
        f"{b},{stamp},1,,\n"
        f"{b},not-a-time,true,,\n"
        f"{b},{t.timestamp() + 60:.0f},0,,\n"
    )
    runner = CliRunner()
    done = runner.invoke(app, ["cameras", "health", "ingest", str(csv_file)])
    assert done.exit_code == 0, done.output
    assert "3 heartbeats applied, 1 rejected" in done.output
    assert "line 4 (at): at is not an ISO 8601 time" in done.output
    checked = runner.invoke(app, ["cameras", "health", "check"])
    assert checked.exit_code == 0, checked.output
    assert "1 cameras went silent" in checked.output  # a; b said it was offline
    assert "reminder_1h 2" in checked.output
    with session_scope(engine) as s:
        outages = {o.camera_id: o.cause for o in s.scalars(select(CameraOutage))}
    assert outages == {a: "silent", b: "reported"}
    status = runner.invoke(app, ["cameras", "health", "status", "--state", "offline"])
    assert status.exit_code == 0 and f"│ {a} " in status.output and f"│ {b} " in status.output
    layer = tmp_path / "down.geojson"
    summed = runner.invoke(app, ["cameras", "health", "summary", "--geojson", str(layer)])
    assert summed.exit_code == 0, summed.output
    assert re.search(r"public_hd\s*│\s*0\s*│\s*2\s*│\s*0", summed.output)
    features = json.loads(layer.read_text())["features"]
    assert sorted(f["id"] for f in features) == [a, b]
    assert all(f["geometry"]["type"] == "Point" for f in features)
    listed = runner.invoke(app, ["cameras", "health", "outages", "--open"])
    assert listed.exit_code == 0 and "noc@pso" in listed.output
    out = tmp_path / "avail.json"
    since = (t - dt.timedelta(hours=1)).isoformat()
    avail = runner.invoke(
        app,
        ["cameras", "health", "availability", "--since", since, "--by", "camera", "-o", str(out)],
    )
    assert avail.exit_code == 0, avail.output
    rows = {r["key"]: r for r in json.loads(out.read_text())}
    # b was up for one minute of its watched time, a for none (down since its only heartbeat).
    assert rows[str(a)]["uptime_pct"] == 0.0
    assert 0 < rows[str(b)]["uptime_pct"] < 1
    naive = runner.invoke(app, ["cameras", "health", "availability", "--since", "2026-01-01"])
    assert naive.exit_code != 0
