"""Campaign evaluation recovers an effect planted in the test city, and the displacement."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import Engine

from pingan.incidents import service
from pingan.incidents.service import city_zone
from pingan.kit.db import session_scope
from pingan.kit.errors import NotFound, ValidationFailed
from pingan.reports import campaigns
from pingan.reports.models import Campaign
from tests.citykit import LAT0, LAT1, TestCity, unit
from tests.reports.conftest import SYSTEM

START = dt.date(2026, 9, 1)
END = dt.date(2026, 10, 26)  # 8 weeks
DAILY = 3.0  # thefts per grid per day before the campaign
KEEP = 0.4  # the campaign removes 60% of them in W1
GRIDS = {"W1": 120.00, "W2": 120.01, "E1": 120.02, "E2": 120.03}


def _plant(engine: Engine) -> None:
    rng = np.random.default_rng(2026)
    zone = city_zone()
    rows: list[dict[str, object]] = []
    first = START - dt.timedelta(days=56)
    for offset in range(112):
        day = first + dt.timedelta(days=offset)
        during = day >= START
        for code, west in GRIDS.items():
            n = int(rng.poisson(DAILY))
            for k in range(n):
                if code == "W1" and during and rng.random() > KEEP:
                    continue  # removed by the campaign
                rows.append(_row(rng, day, west, west + 0.01, f"{code}-{offset}-{k}", zone))
            if code == "W2" and during:
                # Displaced next door: 2 a day within 250 m of W1's edge.
                for k in range(int(rng.poisson(2.0))):
                    rows.append(_row(rng, day, 120.0101, 120.0125, f"D-{offset}-{k}", zone))
    with session_scope(engine) as session:
        result = service.intake_batch(session, rows=rows, actor=SYSTEM)
    assert not result.rejected


def _row(rng, day, west, east, key, zone):  # type: ignore[no-untyped-def]
    when = dt.datetime.combine(day, dt.time(6), zone) + dt.timedelta(
        hours=float(rng.uniform(0, 16))
    )
    return {
        "type": "theft.bicycle",
        "occurred_at": when.isoformat(),
        "lon": float(rng.uniform(west + 0.0002, east - 0.0002)),
        "lat": float(rng.uniform(LAT0 + 0.0002, LAT1 - 0.0002)),
        "external_id": key,
    }


def test_recovers_planted_effect_and_displacement(engine: Engine, city: TestCity) -> None:
    _plant(engine)
    with session_scope(engine) as session:
        campaign = campaigns.register_campaign(
            session, name="W1 bicycle theft rectification", unit=unit(session, "W1"),
            types=["theft"], starts_on=START, ends_on=END, band_m=300.0, actor=SYSTEM,
        )  # fmt: skip
        campaign_id = campaign.id
    with session_scope(engine) as session:
        out = campaigns.evaluate(session, campaign_id, actor=SYSTEM, step_days=7)
    assert out["steps"] == 16
    assert {c["code"] for c in out["controls"]} == {"E1", "E2"}
    effect = out["effect"]
    # The planted change per km² per week in W1.
    planted = -(1 - KEEP) * DAILY * 7 / out["area_km2"]
    assert effect["ci_low"] < planted < effect["ci_high"]
    assert effect["ci_high"] < 0 and effect["p_value"] < 0.01
    assert effect["relative_effect"] == pytest.approx(-(1 - KEEP), abs=0.15)
    assert out["band"]["verdict"] == "displacement suspected"
    assert out["band"]["effect"]["ci_low"] > 0
    with session_scope(engine) as session:
        stored = session.get(Campaign, campaign_id)
        assert stored is not None and stored.evaluation is not None
        assert stored.evaluated_at is not None
    _check_placebo(engine)


def _check_placebo(engine: Engine) -> None:
    """No effect where nothing was planted."""
    with session_scope(engine) as session:
        campaign = campaigns.register_campaign(
            session, name="E2 placebo", unit=unit(session, "E2"), types=["theft"],
            starts_on=START, ends_on=END, band_m=0.0, actor=SYSTEM,
        )  # fmt: skip
        out = campaigns.evaluate(session, campaign.id, actor=SYSTEM, step_days=7)
    assert out["effect"]["ci_low"] < 0 < out["effect"]["ci_high"]
    assert "band" not in out
    with session_scope(engine) as session:
        robust = campaigns.evaluate(session, campaign.id, actor=SYSTEM, se="cluster", controls=3)
    # One area and three control grids: G - 1 = 3 degrees of freedom.
    assert (robust["effect"]["se_kind"], robust["effect"]["df"]) == ("cluster", 3)
    assert robust["effect"]["effect"] == pytest.approx(out["effect"]["effect"])


def test_bad_campaigns_are_refused(engine: Engine, city: TestCity) -> None:
    with session_scope(engine) as session:
        w1 = unit(session, "W1")

        def register(**kw: object) -> Campaign:
            args: dict[str, object] = dict(
                name="x", unit=w1, types=["theft"], starts_on=START, ends_on=END, actor=SYSTEM
            )
            args.update(kw)
            return campaigns.register_campaign(session, **args)  # type: ignore[arg-type]

        with pytest.raises(ValidationFailed) as err:
            register(ends_on=START - dt.timedelta(days=1))
        assert err.value.field == "ends_on"
        with pytest.raises(ValidationFailed) as err:
            register(types=["no_such_type"])
        assert err.value.field == "types"
        ring = [[121, 31], [121.01, 31], [121.01, 31.01], [121, 31]]
        outside = {"type": "Polygon", "coordinates": [ring]}
        with pytest.raises(ValidationFailed) as err:
            register(area=outside)
        assert err.value.field == "area"
        with pytest.raises(ValidationFailed):
            register(area={"type": "Point", "coordinates": [120.005, 30.01]})
        wide = register(band_m=5000.0)
        with pytest.raises(ValidationFailed) as err:
            campaigns.evaluate(session, wide.id, actor=SYSTEM)
        assert err.value.field == "band_m"
        future = register(starts_on=dt.date(2030, 1, 1), ends_on=dt.date(2030, 2, 1))
        with pytest.raises(ValidationFailed):
            campaigns.evaluate(session, future.id, actor=SYSTEM)
        with pytest.raises(NotFound):
            campaigns.evaluate(session, 999, actor=SYSTEM)
