"""The synthetic city's planted clusters come out of the analyses with their planted class.

The generator records every planted cluster (``sim_planted_clusters``): an
outbreak, a persistent hotspot or an emerging hotspot of one incident type, a
disc active over a window. An analyst looking at that type finds each one:

* a persistent hotspot is a persistent (or intensifying, or consecutive) hot
  spot in the emerging hotspot analysis over the whole period;
* an emerging hotspot is a new, consecutive or intensifying hot spot;
* an outbreak's place is hot in Gi* over the outbreak's window.

The check runs on the "demo" city (71,000 incidents; about 4 s to build on
SQLite, 6 s on PostgreSQL), with the settings below: the planted type only,
500 m cells, 4-week steps, time window 1, FDR. On the "tiny" city the planted
persistent hotspots are too weak for this: their rate is the generator's floor
of 0.2 a day (about 5 incidents per 4-week step in a 300-450 m disc), and
"persistent" asks for a hot bin in 90 % of the steps; over seeds 1-12, 5 of 24
came out sporadic or no pattern (without FDR; with FDR, about half). The demo
city plants at least 0.4 a day. On the demo city over seeds 1-5, 7 and 11 every
planted cluster comes out as asserted except one emerging hotspot of seed 3,
which lies where its type already flares now and then: "sporadic hot spot".
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import shapely
from shapely.geometry import shape
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from pingan.incidents.analysis.emerging import emerging
from pingan.incidents.analysis.hotspots import hotspots
from pingan.incidents.analysis.params import EmergingParams, HotspotParams
from pingan.kit.db import engine_for, session_scope
from pingan.sim.city import build_city
from pingan.sim.models import PlantedCluster
from tests.conftest import PG_BASE_URL, _admin_engine
from tests.incidents.analysis.conftest import SYSTEM

SEED = int(os.environ.get("PINGAN_TEST_SIM_SEED", "11"))
PERSISTENT_CLASSES = {"persistent hot spot", "intensifying hot spot", "consecutive hot spot"}
EMERGING_CLASSES = {"new hot spot", "consecutive hot spot", "intensifying hot spot"}


@pytest.fixture(scope="module")
def demo_city(
    backend: str,
    _sqlite_template: Path | None,
    _pg_template: str | None,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Engine]:
    """The demo city for ``SEED``, built once for this module in its own database."""
    if backend == "sqlite":
        assert _sqlite_template is not None
        path = tmp_path_factory.mktemp("demo") / "demo.db"
        path.write_bytes(_sqlite_template.read_bytes())
        url = f"sqlite:///{path}"
    else:
        name = f"pingan_demo_{uuid.uuid4().hex[:10]}"
        with _admin_engine().connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{_pg_template}"'))
        url = f"{PG_BASE_URL}/{name}"
    build_city(engine_for(url), scale="demo", seed=SEED)
    yield engine_for(url)
    engine_for(url).dispose()
    if backend != "sqlite":
        with _admin_engine().connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))


def _clusters(session: Session, kind: str) -> list[PlantedCluster]:
    found = list(session.scalars(select(PlantedCluster).where(PlantedCluster.kind == kind)))
    assert found, f"the demo city planted no {kind}"
    return found


def _at(doc: dict[str, Any], cluster: PlantedCluster) -> dict[str, Any]:
    """Properties of the cell holding the cluster's centre."""
    centre = shapely.Point(cluster.lon, cluster.lat)
    feature = next(f for f in doc["features"] if shape(f["geometry"]).contains(centre))
    props: dict[str, Any] = feature["properties"]
    return props


def _describe(cluster: PlantedCluster) -> str:
    return (
        f"{cluster.kind} of {cluster.type_code} at ({cluster.lon:.4f}, {cluster.lat:.4f}), "
        f"r={cluster.radius_m:.0f} m, {cluster.n_events} events, "
        f"{cluster.starts_at:%Y-%m-%d}..{cluster.ends_at:%Y-%m-%d}"
    )


def _emerging_at(
    session: Session, cluster: PlantedCluster, period: tuple[Any, Any]
) -> dict[str, Any]:
    # Four-week steps over the whole period, 500 m cells, FDR over the cube's bins.
    params = EmergingParams(
        types=[cluster.type_code],
        since=period[0],
        until=period[1],
        step="week",
        step_length=4,
        cell_size_m=500,
        time_window=1,
        fdr=True,
    )
    return _at(emerging(session, params, actor=SYSTEM), cluster)


def _period(session: Session) -> tuple[Any, Any]:
    everything = list(session.scalars(select(PlantedCluster)))
    return min(c.starts_at for c in everything), max(c.ends_at for c in everything)


def test_planted_persistent_hotspots_are_persistent(demo_city: Engine) -> None:
    with session_scope(demo_city) as session:
        period = _period(session)
        for cluster in _clusters(session, "persistent_hotspot"):
            found = _emerging_at(session, cluster, period)
            assert found["category_name"] in PERSISTENT_CLASSES, (_describe(cluster), found)


def test_planted_emerging_hotspots_are_new_or_consecutive(demo_city: Engine) -> None:
    with session_scope(demo_city) as session:
        period = _period(session)
        for cluster in _clusters(session, "emerging_hotspot"):
            found = _emerging_at(session, cluster, period)
            assert found["category_name"] in EMERGING_CLASSES, (_describe(cluster), found)


def test_planted_outbreaks_are_hot_over_their_window(demo_city: Engine) -> None:
    with session_scope(demo_city) as session:
        for cluster in _clusters(session, "outbreak"):
            params = HotspotParams(
                types=[cluster.type_code],
                since=cluster.starts_at,
                until=cluster.ends_at,
                cell_size_m=500,
                permutations=0,
                fdr=True,
            )
            found = _at(hotspots(session, params, actor=SYSTEM), cluster)
            assert found["class"] >= 2, (_describe(cluster), found)
