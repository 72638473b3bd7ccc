"""Campaign evaluation on the synthetic city: a planted cut in one subdistrict is recovered.

The tiny city is small and clustered (a Hawkes process with planted outbreaks), so power
is limited: a 60 % cut over 8 weeks gave a 95 % interval that still reached above zero
(upper bound +0.05 per km² per week). The planted cut here is 70 % over 12 weeks.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import delete, func, select

from pingan.incidents.models import Incident, IncidentType
from pingan.kit.db import engine_for, session_scope
from pingan.org.models import OrgUnit
from pingan.reports import campaigns
from pingan.sim.city import DEFAULT_START, CitySummary
from tests.dispatch.conftest import tiny_city  # noqa: F401  (the synthetic tiny city)
from tests.reports.conftest import SYSTEM

KEEP = 0.3  # the "campaign" removes 70 % of the incidents in its area
START = DEFAULT_START + dt.timedelta(days=200)
END = START + dt.timedelta(days=83)  # 12 weeks


def test_recovers_a_cut_planted_in_the_synthetic_city(
    tiny_city: tuple[str, CitySummary],  # noqa: F811
) -> None:
    engine = engine_for(tiny_city[0])
    with session_scope(engine) as s:
        # The busiest subdistrict; the campaign targets every incident type there.
        area_id, _ = s.execute(
            select(Incident.subdistrict_id, func.count()).group_by(Incident.subdistrict_id)
            .order_by(func.count().desc()).limit(1)
        ).one()  # fmt: skip
        families = sorted({code.split(".")[0] for code in s.scalars(select(IncidentType.code))})
        # Plant the effect: drop 70 % of the area's incidents during the campaign.
        during = s.scalars(
            select(Incident.id).where(
                Incident.subdistrict_id == area_id,
                Incident.occurred_at >= dt.datetime.combine(START, dt.time(), dt.UTC),
                Incident.occurred_at < dt.datetime.combine(END, dt.time(), dt.UTC),
            )
        ).all()  # fmt: skip
        rng = np.random.default_rng(4)
        gone = [int(i) for i in during if rng.random() > KEEP]
        assert len(gone) > 30
        s.execute(delete(Incident).where(Incident.id.in_(gone)))
        area = s.get(OrgUnit, area_id)
        assert area is not None
        campaign = campaigns.register_campaign(
            s, name="Synthetic rectification", unit=area, types=families, starts_on=START,
            ends_on=END, band_m=0.0, actor=SYSTEM,
        )  # fmt: skip
        campaign_id = campaign.id
    with session_scope(engine) as s:
        out = campaigns.evaluate(
            s, campaign_id, actor=SYSTEM, step_days=7, now=dt.datetime.now(dt.UTC)
        )
    effect = out["effect"]
    assert effect["ci_high"] < 0 and effect["p_value"] < 0.05
    assert effect["relative_effect"] == pytest.approx(-(1 - KEEP), abs=0.2)
