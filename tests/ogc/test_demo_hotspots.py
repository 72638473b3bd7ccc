"""The demo's hotspot run: queued once, made by the job worker, served as the hotspots layer."""

from __future__ import annotations

from sqlalchemy import Engine

from pingan.kit import jobs
from pingan.kit.db import session_scope
from pingan.ogc import layers
from pingan.ogc.params import Query
from pingan.ops.demo import seed_demo_hotspot_run
from pingan.org.principal import Principal


def test_demo_run_is_queued_once_and_becomes_the_hotspots_layer(engine: Engine) -> None:
    from pingan.sim.city import build_city, recent_start

    build_city(engine, scale="tiny", seed=3, start=recent_start(60), days=60)
    job_id = seed_demo_hotspot_run(engine)
    assert job_id is not None
    assert seed_demo_hotspot_run(engine) is None
    assert jobs.run_pending(engine) >= 1
    system = Principal.system("test")
    with session_scope(engine) as session:
        job = jobs.get(session, job_id)
        assert job.status == jobs.JobStatus.SUCCEEDED, job.error
        result = job.result_dict() or {}
        page = layers.LAYERS["hotspots"].read(session, system, Query(limit=None, extra={}))
    stored = result["features"]
    assert stored, "the tiny city plants clusters: some location must be significant"
    # Only significant locations were kept, and the layer serves exactly those.
    assert all(f["properties"]["label"] != "not significant" for f in stored)
    assert sorted(str(f["id"]) for f in page.features) == sorted(str(f["id"]) for f in stored)
    assert all(f["properties"]["run_id"] == job_id for f in page.features)
