"""Rates per org unit match hand counts, with the exact test's p-value, within scope."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from fastapi.testclient import TestClient
from scipy.stats import binomtest
from sqlalchemy import Engine

from tests.citykit import TestCity, grid_centre
from tests.incidents.analysis.conftest import intake

RATES = "/api/v1/analysis/rates"
ZONE = dt.timezone(dt.timedelta(hours=8))
CURRENT = (dt.datetime(2026, 3, 1, tzinfo=ZONE), dt.datetime(2026, 3, 29, tzinfo=ZONE))
# grid -> (incidents in the current 28 days, in the 28 days before)
COUNTS = {"W1": (30, 10), "W2": (5, 5), "E1": (0, 3), "E2": (12, 0)}


def _row(kind: str, when: str, lon: float, lat: float, key: str) -> dict[str, object]:
    return {"type": kind, "occurred_at": when, "lon": lon, "lat": lat, "external_id": key}


@pytest.fixture
def counted(engine: Engine, city: TestCity) -> None:
    rows: list[dict[str, object]] = []
    for grid, (current, previous) in COUNTS.items():
        lon, lat = grid_centre(grid)
        for period, n in ((0, current), (1, previous)):
            start = CURRENT[0] - dt.timedelta(days=28 * period)
            for i in range(n):
                when = start + dt.timedelta(hours=13 * i + 1)
                key = f"{grid}-{period}-{i}"
                rows.append(_row("theft.bicycle", when.isoformat(), lon, lat + 0.0001 * i, key))
        # Outside both periods: never counted.
        rows.append(_row("fire", "2026-01-05T10:00:00+08:00", lon, lat, f"{grid}-old"))
    intake(engine, rows)


def _query(level: str) -> dict[str, str]:
    return {"level": level, "since": CURRENT[0].isoformat(), "until": CURRENT[1].isoformat()}


def test_grid_rates_match_hand_counts(
    api: TestClient, keys: dict[str, dict[str, str]], counted: None
) -> None:
    doc = api.get(RATES, params=_query("grid"), headers=keys["chief"]).json()
    assert doc["previous"]["since"] == "2026-01-31T16:00:00+00:00"
    assert doc["current"]["until"] == "2026-03-28T16:00:00+00:00"
    rows = {r["code"]: r for r in doc["rows"]}
    assert list(rows) == ["E1", "E2", "W1", "W2"]
    for code, (current, previous) in COUNTS.items():
        row = rows[code]
        assert (row["current"], row["previous"]) == (current, previous)
        assert row["population"] == 2000
        assert row["rate_current"] == pytest.approx(current * 5)
        assert row["rate_previous"] == pytest.approx(previous * 5)
        assert row["p_value"] == pytest.approx(
            binomtest(current, current + previous, 0.5).pvalue, rel=1e-5
        )
    assert rows["W1"]["trend"] == "up" and rows["W1"]["percent_change"] == pytest.approx(200)
    assert rows["E2"]["trend"] == "up" and rows["E2"]["percent_change"] is None
    assert rows["W2"]["trend"] == "none" and rows["E1"]["trend"] == "none"
    assert doc["totals"] == {"current": 47, "previous": 18}


def test_district_rates_use_the_grids_population(
    api: TestClient, keys: dict[str, dict[str, str]], counted: None
) -> None:
    doc = api.get(RATES, params=_query("district"), headers=keys["chief"]).json()
    rows = {r["code"]: r for r in doc["rows"]}
    assert (rows["DW"]["current"], rows["DW"]["previous"]) == (35, 15)
    assert (rows["DE"]["current"], rows["DE"]["previous"]) == (12, 3)
    assert rows["DW"]["population"] == 4000 and rows["DW"]["rate_current"] == pytest.approx(87.5)
    assert rows["DW"]["p_value"] == pytest.approx(binomtest(35, 50, 0.5).pvalue, rel=1e-5)


def test_rates_stay_within_scope_and_export_csv(
    api: TestClient, keys: dict[str, dict[str, str]], counted: None
) -> None:
    east = keys["east_analyst"]
    grids = api.get(RATES, params=_query("grid"), headers=east).json()
    assert [r["code"] for r in grids["rows"]] == ["E1", "E2"]
    districts = api.get(RATES, params=_query("district"), headers=east).json()
    assert [r["code"] for r in districts["rows"]] == ["DE"]
    response = api.get(RATES, params={**_query("grid"), "format": "csv"}, headers=east)
    assert response.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["code"], r["current"], r["previous"]) for r in table] == [
        ("E1", "0", "3"),
        ("E2", "12", "0"),
    ]
    chief = keys["chief"]
    with api.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        from tests.citykit import unit

        west = unit(session, "DW").id
    only_west = api.get(RATES, params={**_query("grid"), "org_unit_id": west}, headers=chief)
    assert [r["code"] for r in only_west.json()["rows"]] == ["W1", "W2"]
