"""``pingan dispatch command`` and ``pingan dispatch patrols`` on the synthetic tiny city."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from pingan.cli import app
from pingan.dispatch.responder_models import Availability, Responder
from pingan.kit.db import engine_for, session_scope
from pingan.org.models import OrgUnit
from pingan.settings import get_settings
from pingan.sim.city import CitySummary

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture
def city_url(tiny_city: tuple[str, CitySummary], monkeypatch: pytest.MonkeyPatch) -> str:
    url = tiny_city[0]
    monkeypatch.setenv("PINGAN_DATABASE_URL", url)
    get_settings.cache_clear()
    return url


def test_command_from_activation_to_summary(city_url: str) -> None:
    with session_scope(engine_for(city_url)) as s:
        city = s.scalar(select(OrgUnit.code).where(OrgUnit.level == "city"))
    assert city is not None
    made = runner.invoke(
        app, ["dispatch", "command", "activate", "Dragon boat race", "--unit", city,
              "--tiers", "1,2,3", "--posts", "2"],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    command_id = made.stdout.split()[1]
    logged = runner.invoke(
        app, ["dispatch", "command", "log", command_id, "Open the north gate", "--kind", "order"]
    )
    assert logged.exit_code == 0, logged.output
    shown = runner.invoke(app, ["dispatch", "command", "log", command_id])
    assert "Open the north gate" in shown.stdout and "standby posts" in shown.stdout
    board = runner.invoke(app, ["dispatch", "command", "board", command_id])
    assert board.exit_code == 0 and "Dragon boat race" in board.stdout
    closed = runner.invoke(app, ["dispatch", "command", "deactivate", command_id])
    assert closed.exit_code == 0 and "duration_s" in closed.stdout
    again = runner.invoke(app, ["dispatch", "command", "deactivate", command_id])
    assert again.exit_code != 0 and "already closed" in again.output
    bad = runner.invoke(app, ["dispatch", "command", "activate", "x", "--unit", city,
                              "--tiers", "one"])  # fmt: skip
    assert bad.exit_code != 0 and "tiers" in bad.output


def test_patrols_over_the_synthetic_city(city_url: str) -> None:
    seeded = runner.invoke(app, ["dispatch", "seed-responders", "--seed", "5"])
    assert seeded.exit_code == 0, seeded.output
    with session_scope(engine_for(city_url)) as s:
        units = list(
            s.scalars(
                select(Responder.id)
                .where(Responder.tier == 1, Responder.availability == Availability.AVAILABLE)
                .order_by(Responder.id)
                .limit(2)
            )
        )
        city = s.scalar(select(OrgUnit.code).where(OrgUnit.level == "city"))
    assert len(units) == 2 and city is not None
    planned = runner.invoke(
        app, ["dispatch", "patrols", "--responders", ",".join(map(str, units)), "--unit", city,
              "--shift-hours", "4", "--days", "365"],
    )  # fmt: skip
    assert planned.exit_code == 0, planned.output
    assert "hot cells covered" in planned.stdout
