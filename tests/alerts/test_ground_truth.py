"""On the synthetic demo city, every planted outbreak becomes a scan alert at its place and time.

For each outbreak the daily run looks at its incident type on the outbreak's
fourth day (or its last, if shorter). The alert's window must start on the
outbreak's first day (a day earlier is allowed: a busy background day may
join), be significant, and its circle must overlap the planted disc.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy import Engine, select

from pingan.alerts.detect import DailyParams, run_daily
from pingan.alerts.models import Alert
from pingan.incidents.service import city_zone
from pingan.kit.db import session_scope
from pingan.org.principal import Principal
from pingan.sim.models import PlantedCluster
from tests.incidents.analysis.test_ground_truth import demo_city  # noqa: F401  (shared fixture)

SYSTEM = Principal.system("test")


def test_planted_outbreaks_are_found_with_place_and_window(demo_city: Engine) -> None:  # noqa: F811
    zone = city_zone()
    with session_scope(demo_city) as session:
        outbreaks = list(
            session.scalars(select(PlantedCluster).where(PlantedCluster.kind == "outbreak"))
        )
        assert outbreaks
        for planted in outbreaks:
            start = planted.starts_at.astimezone(zone).date()
            end = (planted.ends_at - dt.timedelta(seconds=1)).astimezone(zone).date()
            day = min(start + dt.timedelta(days=3), end)
            params = DailyParams(
                day=day, incident_types=(planted.type_code,), replications=99, seed=1,
                near_repeat_metres=0,
            )  # fmt: skip
            run_daily(session, params, actor=SYSTEM)
            found = session.scalars(
                select(Alert).where(
                    Alert.method == "scan.space_time_permutation",
                    Alert.window_end == day,
                    Alert.incident_types == f'["{planted.type_code}"]',
                )
            ).all()
            hits = [
                a
                for a in found
                if np.hypot(
                    a.area_dict()["centre_x"] - planted.x, a.area_dict()["centre_y"] - planted.y
                )
                <= a.area_dict()["radius_m"] + planted.radius_m
            ]
            assert len(hits) == 1, (planted.type_code, start, [a.area_dict() for a in found])
            alert = hits[0]
            assert start - dt.timedelta(days=1) <= alert.window_start <= start
            assert alert.p_value is not None and alert.p_value <= 0.01
            assert alert.observed > 2 * alert.expected
