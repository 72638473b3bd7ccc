"""Hotspot forecasts over the test city: the planted spot is forecast hot by every method."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from shapely import Point
from shapely.geometry import shape
from sqlalchemy import Engine
from typer.testing import CliRunner

from pingan.cli import app
from pingan.incidents.analysis.forecast import EvaluationParams, ForecastParams, evaluate, forecast
from pingan.kit.db import session_scope
from tests.citykit import TestCity
from tests.incidents.analysis.conftest import SPOT, SYSTEM, WINDOW, Planted

ORIGIN = WINDOW[1].isoformat()


@pytest.mark.parametrize("method", ["etas", "kde", "naive"])
def test_the_spot_is_the_top_cell(engine: Engine, planted: Planted, method: str) -> None:
    params = ForecastParams(until=WINDOW[1], method=method, history_days=60, top_share=0.05)
    with session_scope(engine) as s:
        doc = forecast(s, params, actor=SYSTEM)
    top = doc["features"][0]
    assert top["properties"]["rank"] == 1
    assert shape(top["geometry"]).buffer(1e-4).contains(Point(*SPOT))
    summary = doc["summary"]
    assert summary["events_in_history"] == planted.total
    # 250 m cells whose centres lie in the 3.9 km x 2.2 km city; 5 % of them returned.
    assert 120 < summary["cells"] < 160
    assert summary["returned"] == round(0.05 * summary["cells"])
    expected = [f["properties"]["expected"] for f in doc["features"]]
    assert expected == sorted(expected, reverse=True)
    if method == "etas":
        assert 0 <= summary["model"]["theta"] < 1


def test_evaluation_scores_follow_their_definitions(engine: Engine, planted: Planted) -> None:
    params = EvaluationParams(until=WINDOW[1], history_days=28, weeks=3)
    with session_scope(engine) as s:
        result = evaluate(s, params, actor=SYSTEM, weeks=3)
    n = result["cells"]
    assert len(result["held_out_events"]) == 3
    # Every held-out event of March is counted once, in some week (3 x 7 of 31 days).
    assert 0 < sum(result["held_out_events"]) < planted.total
    for scores in result["mean"].values():
        hits = [scores["hit@1%"], scores["hit@5%"], scores["hit@10%"]]
        assert hits == sorted(hits)  # a larger area never catches less
        # PAI = hit rate / area share, the share counted in whole cells.
        for area in (1, 5, 10):
            flagged = max(1, round(area / 100 * n))
            assert scores[f"pai@{area}%"] == pytest.approx(scores[f"hit@{area}%"] / (flagged / n))
        # The spot holds about 12 % of the events in under 1 % of the area.
        assert scores["pai@1%"] > 5


def test_forecast_over_http_and_cli(
    api: TestClient, keys: dict[str, dict[str, str]], planted: Planted, city: TestCity
) -> None:
    query = {"until": ORIGIN, "method": "kde", "history_days": 60}
    ok = api.get("/api/v1/analysis/forecast", params=query, headers=keys["chief"])
    assert ok.status_code == 200, ok.text
    assert ok.json()["type"] == "FeatureCollection"
    # Out of scope: the west's grid reads as unknown, and the east's own forecast has no
    # cell of the west's spot.
    west = {**query, "org_unit_id": city.id("W2")}
    refused = api.get("/api/v1/analysis/forecast", params=west, headers=keys["east_analyst"])
    assert refused.status_code == 422 and "not found" in refused.json()["detail"]
    east = api.get("/api/v1/analysis/forecast", params=query, headers=keys["east_analyst"])
    assert east.status_code == 200
    assert not any(shape(f["geometry"]).contains(Point(*SPOT)) for f in east.json()["features"])
    bad = api.get("/api/v1/analysis/forecast", params={**query, "method": "crystal"},
                  headers=keys["chief"])  # fmt: skip
    assert bad.status_code == 422
    scores = api.get("/api/v1/analysis/forecast/evaluation",
                     params={"until": ORIGIN, "weeks": 2, "history_days": 28},
                     headers=keys["chief"])  # fmt: skip
    assert scores.status_code == 200, scores.text
    assert set(scores.json()["mean"]) == {"etas", "kde", "naive"}

    runner = CliRunner(env={"COLUMNS": "200"})
    table = runner.invoke(app, ["analyze", "forecast-eval", "--origin", ORIGIN, "--weeks", "2",
                                "--history-days", "28"])  # fmt: skip
    assert table.exit_code == 0, table.output
    assert "pai@5%" in table.stdout and "etas" in table.stdout
    wrong = runner.invoke(app, ["analyze", "forecast", "--method", "crystal"])
    assert wrong.exit_code == 1 and "method" in wrong.output
