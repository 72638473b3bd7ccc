"""The safety index of the test city's two subdistricts, computed here from its definition."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from pingan.kit.db import session_scope
from pingan.kit.errors import ValidationFailed
from pingan.reports.periods import parse_period
from pingan.reports.safety import DEFAULT_WEIGHTS, safety_index, stars_for
from tests.citykit import unit
from tests.reports.conftest import SYSTEM, Planted

OCTOBER = parse_period("2026-10")
POPULATION = 4000  # two grids of 2000 residents per subdistrict


def _rate(count: int, days: float) -> float:
    return count / POPULATION * 10_000 * 30 / days


def _score(rate: float, median: float) -> float:
    if median == 0:
        return 100.0 if rate == 0 else 0.0
    return 100 * min(1.0, max(0.0, 1 - rate / (2 * median)))


def _index(scores: dict[str, float], weights: dict[str, float]) -> float:
    return sum(weights[k] * s for k, s in scores.items()) / sum(weights[k] for k in scores)


def _rows(engine: Engine, weights: dict[str, float] | None = None) -> dict[str, object]:
    with session_scope(engine) as session:
        rows = safety_index(
            session, actor=SYSTEM, parent=unit(session, "C"), level="subdistrict",
            period=OCTOBER, weights=weights,
        )  # fmt: skip
    return {r.code: r for r in rows}


def test_index_components_stars_and_change(engine: Engine, planted: Planted) -> None:
    rows = _rows(engine)
    # October: violent W 1 robbery, E 3 fights; property W 12 thefts, E 2 burglaries.
    now = {"SW": {"violent": 1, "property": 12, "disorder": 0},
           "SE": {"violent": 3, "property": 2, "disorder": 0}}  # fmt: skip
    before = {"SW": {"violent": 0, "property": 4, "disorder": 0},
              "SE": {"violent": 0, "property": 6, "disorder": 0}}  # fmt: skip
    medians = {
        g: (_rate(now["SW"][g], 31) + _rate(now["SE"][g], 31)) / 2
        for g in ("violent", "property", "disorder")
    }
    weights = {k: DEFAULT_WEIGHTS[k] for k in ("violent", "property", "disorder")}
    for code in ("SW", "SE"):
        row = rows[code]
        scores = {g: _score(_rate(n, 31), medians[g]) for g, n in now[code].items()}
        previous = {g: _score(_rate(n, 30), medians[g]) for g, n in before[code].items()}
        assert row.index == pytest.approx(_index(scores, weights), abs=0.05)  # type: ignore[attr-defined]
        assert row.previous_index == pytest.approx(_index(previous, weights), abs=0.05)  # type: ignore[attr-defined]
        assert row.stars == stars_for(row.index)  # type: ignore[attr-defined]
        assert row.change == pytest.approx(row.index - row.previous_index, abs=0.11)  # type: ignore[attr-defined]
        for g in scores:
            assert row.components[g]["score"] == pytest.approx(scores[g], abs=0.05)  # type: ignore[attr-defined]
        # No case was handled and nobody was dispatched: those components have no data.
        assert row.components["cases_on_time"]["score"] is None  # type: ignore[attr-defined]
    assert rows["SW"].components["violent"]["score"] == pytest.approx(75.0)  # type: ignore[attr-defined]
    _check_weights(engine)


def _check_weights(engine: Engine) -> None:
    only_violent = {"violent": 1.0, "property": 0.0, "disorder": 0.0, "cases_on_time": 0.0,
                    "response": 0.0}  # fmt: skip
    rows = _rows(engine, only_violent)
    assert rows["SW"].index == pytest.approx(75.0)  # type: ignore[attr-defined]
    assert rows["SE"].index == pytest.approx(25.0)  # type: ignore[attr-defined]
    assert (rows["SW"].stars, rows["SE"].stars) == (4, 2)  # type: ignore[attr-defined]
    with pytest.raises(ValidationFailed):
        _rows(engine, {"happiness": 1.0})
    with pytest.raises(ValidationFailed):
        _rows(engine, dict.fromkeys(DEFAULT_WEIGHTS, 0.0))


def test_stars() -> None:
    assert [stars_for(x) for x in (0, 19.9, 20, 59.9, 60, 80, 100)] == [1, 1, 2, 3, 4, 5, 5]
