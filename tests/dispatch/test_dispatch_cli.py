"""``pingan dispatch`` end to end on the synthetic tiny city."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from pingan.cli import app
from pingan.dispatch.assignment_models import Assignment
from pingan.incidents.models import Incident
from pingan.kit.db import engine_for, session_scope
from pingan.settings import get_settings
from pingan.sim.city import CitySummary

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture
def city_url(tiny_city: tuple[str, CitySummary], monkeypatch: pytest.MonkeyPatch) -> str:
    url = tiny_city[0]
    monkeypatch.setenv("PINGAN_DATABASE_URL", url)
    get_settings.cache_clear()
    return url


def test_seed_recommend_simulate_and_escalate(city_url: str) -> None:
    seeded = runner.invoke(app, ["dispatch", "seed-responders", "--seed", "3"])
    assert seeded.exit_code == 0, seeded.output
    assert "responders" in seeded.stdout
    again = runner.invoke(app, ["dispatch", "seed-responders"])
    assert again.exit_code == 1 and "exist already" in again.stderr

    with session_scope(engine_for(city_url)) as s:
        incident_id = s.scalar(select(func.max(Incident.id)))
    # Seeded positions are fresh now, so the last incident gets candidates.
    recommended = runner.invoke(app, ["dispatch", "recommend", str(incident_id), "-k", "3"])
    assert recommended.exit_code == 0, recommended.output
    assert "ETA s" in recommended.stdout
    missing = runner.invoke(app, ["dispatch", "recommend", "999999999"])
    assert missing.exit_code == 1 and "not found" in missing.stderr

    simulated = runner.invoke(app, ["dispatch", "simulate", "--hours", "6", "--seed", "2"])
    assert simulated.exit_code == 0, simulated.output
    assert "incidents" in simulated.stdout and "turnout p50" in simulated.stdout
    with session_scope(engine_for(city_url)) as s:
        assert s.scalar(select(func.count()).select_from(Assignment))

    posts = runner.invoke(app, ["dispatch", "preposition", "--p", "2"])
    assert posts.exit_code == 0, posts.output
    assert "worst" in posts.stdout and "exact" in posts.stdout
    bad = runner.invoke(app, ["dispatch", "preposition", "--objective", "random"])
    assert bad.exit_code == 1 and "objective" in bad.stderr

    escalations = runner.invoke(app, ["dispatch", "run-escalations"])
    assert escalations.exit_code == 0, escalations.output
    assert "timed out" in escalations.stdout
