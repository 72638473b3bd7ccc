"""Key-site watch rules: alerts at once for incidents near protected sites, or a surge."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from fastapi.testclient import TestClient
from shapely import Point
from sqlalchemy import Engine, select

from pingan.alerts.models import Alert
from pingan.alerts.watch import LAG, RuleIn, WatchReport, add_rule, run_watch
from pingan.alerts.watch_models import WatchKind
from pingan.incidents import service as incidents
from pingan.kit.db import session_scope, utcnow
from pingan.kit.errors import ValidationFailed
from pingan.org.principal import Principal
from pingan.places.models import Place, PlaceKind
from pingan.places.service import PlaceIn, add_places
from tests.citykit import TestCity, grid_centre

SYSTEM = Principal.system("test")
# A level-1 site in W1, a level-3 one in E1.
SCHOOL = grid_centre("W1")
MARKET = grid_centre("E1")
METRE_DEG = 1 / 111_000  # degrees of latitude per metre, near enough for offsets here


def _sites(engine: Engine, city: TestCity) -> dict[str, int]:
    with session_scope(engine) as s:
        add_places(s, [
            PlaceIn("SCH-1", PlaceKind.SCHOOL, "一小", "No. 1 School", 1, Point(*SCHOOL),
                    city.id("W1")),
            PlaceIn("MKT-1", PlaceKind.COMMERCIAL_STREET, "步行街", "Market street", 3,
                    Point(*MARKET), city.id("E1")),
        ], actor=SYSTEM)  # fmt: skip
        return {p.code: p.id for p in s.scalars(select(Place))}


def _incident(engine: Engine, at: tuple[float, float], north_m: float, when: dt.datetime,
              kind: str = "fight", key: str = "") -> None:  # fmt: skip
    with session_scope(engine) as s:
        incidents.intake_batch(
            s, actor=SYSTEM,
            rows=[{"type": kind, "occurred_at": when.isoformat(), "lon": at[0],
                   "lat": at[1] + north_m * METRE_DEG, "external_id": key or None}],
        )  # fmt: skip


def _run_now(engine: Engine) -> WatchReport:
    """A run as the job would make it LAG from now: everything stored so far is seen."""
    return run_watch(engine, now=utcnow() + LAG)


def _alerts(engine: Engine) -> list[Alert]:
    with session_scope(engine) as s:
        found = list(s.scalars(select(Alert).order_by(Alert.id)))
        s.expunge_all()
        return found


def test_proximity_rule_fires_once_per_site(engine: Engine, city: TestCity) -> None:
    _sites(engine, city)
    with session_scope(engine) as s:
        add_rule(s, RuleIn("Violence near level-1 sites", WatchKind.PROXIMITY,
                           incident_types=("fight", "assault"), max_level=1, radius_m=300),
                 actor=SYSTEM)  # fmt: skip
    now = utcnow()
    _incident(engine, SCHOOL, 120, now)  # 120 m from the school: in
    _incident(engine, SCHOOL, 900, now)  # 900 m: out
    _incident(engine, MARKET, 10, now)  # next to a level-3 site: not watched by this rule
    _incident(engine, SCHOOL, 50, now, kind="theft")  # wrong type
    report = _run_now(engine)
    assert report.incidents == 4 and report.alerts_opened == 1
    (alert,) = _alerts(engine)
    assert alert.method == "watch.proximity" and alert.observed == 1
    assert alert.area_dict()["site"] == "SCH-1"
    # A second fight nearby, next run: the same open alert is updated, not a new one.
    _incident(engine, SCHOOL, 200, utcnow())
    again = _run_now(engine)
    assert again.signals == 1 and again.alerts_opened == 0
    (alert,) = _alerts(engine)
    assert alert.signal_count == 2
    # Nothing new: the high-water mark keeps a run from seeing the same incidents twice.
    nothing = _run_now(engine)
    assert nothing.incidents == 0 and nothing.signals == 0


def test_count_rule_needs_a_surge_over_the_baseline(engine: Engine, city: TestCity) -> None:
    ids = _sites(engine, city)
    with session_scope(engine) as s:
        add_rule(s, RuleIn("Theft surge at the market", WatchKind.COUNT, ("theft",),
                           place_id=ids["MKT-1"], radius_m=400, window_hours=24,
                           baseline_days=28, alpha=0.01), actor=SYSTEM)  # fmt: skip
    now = utcnow()
    rng = np.random.default_rng(2)
    # About one theft a day near the market over four weeks: expected ~1 per 24 h.
    for i, days in enumerate(rng.uniform(1.1, 28.9, size=28)):
        _incident(engine, MARKET, float(rng.uniform(-300, 300)), now - dt.timedelta(days=days),
                  kind="theft", key=f"base{i}")  # fmt: skip
    assert _run_now(engine).signals == 0  # the history itself is no surge
    _incident(engine, MARKET, 30, utcnow(), kind="theft", key="today0")
    quiet = _run_now(engine)
    assert quiet.incidents == 1 and quiet.signals == 0  # one theft today is ordinary
    for i in range(1, 6):
        _incident(engine, MARKET, 20.0 * i, utcnow(), kind="theft", key=f"today{i}")
    surge = _run_now(engine)
    assert surge.alerts_opened == 1
    (alert,) = _alerts(engine)
    assert alert.method == "watch.count" and alert.observed == 6
    # Expected = 28 thefts x 24 h / (28 days x 24 h) = 1.0; P(X >= 6 | 1.0) = 0.00059.
    assert alert.expected == pytest.approx(1.0)
    assert alert.p_value == pytest.approx(0.000594, rel=0.01)


def test_rules_over_http_and_bad_input(
    api: TestClient, keys: dict[str, dict[str, str]], city: TestCity, engine: Engine
) -> None:
    body = {"name": "Fires near sites", "kind": "proximity", "incident_types": ["fire"],
            "max_level": 2, "radius_m": 200}  # fmt: skip
    made = api.post("/api/v1/alerts/watch-rules", json=body, headers=keys["chief"])
    assert made.status_code == 201, made.text
    listed = api.get("/api/v1/alerts/watch-rules", headers=keys["east_analyst"]).json()
    assert [r["name"] for r in listed] == ["Fires near sites"]
    # Analysts read rules but do not write them.
    assert api.post("/api/v1/alerts/watch-rules", json=body,
                    headers=keys["east_analyst"]).status_code == 403  # fmt: skip
    off = api.post(f"/api/v1/alerts/watch-rules/{made.json()['id']}/active",
                   json={"active": False}, headers=keys["chief"])  # fmt: skip
    assert off.status_code == 200 and off.json()["active"] is False
    bad = api.post("/api/v1/alerts/watch-rules", json={**body, "incident_types": ["ufo"]},
                   headers=keys["chief"])  # fmt: skip
    assert bad.status_code == 422 and "ufo" in bad.json()["detail"]
    assert api.get("/api/v1/alerts/watch-rules").status_code == 401
    with session_scope(engine) as s, pytest.raises(ValidationFailed):
        add_rule(s, RuleIn("x", WatchKind.PROXIMITY, radius_m=5), actor=SYSTEM)


def test_watch_from_the_cli(engine: Engine, city: TestCity) -> None:
    from typer.testing import CliRunner

    from pingan.cli import app

    _sites(engine, city)
    with session_scope(engine) as s:
        add_rule(s, RuleIn("Any incident at level-1 sites", WatchKind.PROXIMITY, radius_m=250),
                 actor=SYSTEM)  # fmt: skip
    runner = CliRunner(env={"COLUMNS": "200"})
    listed = runner.invoke(app, ["alerts", "watch-rules"])
    assert listed.exit_code == 0 and "Any incident at level-1 sites" in listed.stdout
    _incident(engine, SCHOOL, 100, utcnow(), kind="theft")
    # The CLI runs at real time, LAG behind: the incident just stored waits for the next run.
    first = runner.invoke(app, ["alerts", "watch"])
    assert first.exit_code == 0 and "0 new incidents" in first.stdout
