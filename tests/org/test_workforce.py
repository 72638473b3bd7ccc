"""The three-level grid workforce: posts by level, vacancies, and where each role may sit."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from pingan.cli import app
from pingan.kit.db import session_scope
from pingan.kit.errors import ValidationFailed
from pingan.org import users
from pingan.org.principal import Principal
from pingan.org.workforce import workforce
from tests.api.conftest import client, login, people  # noqa: F401  (fixtures)
from tests.citykit import TestCity, unit

SYSTEM = Principal.system("test")


def _staff(engine: Engine) -> None:
    with session_scope(engine) as s:
        for name, role, code in (
            ("wang_w1", "grid_worker", "W1"),
            ("li_w1", "grid_worker", "W1"),
            ("zhao_e2", "grid_worker", "E2"),
            ("chen_mw", "community_grid_lead", "MW"),
            ("sun_sw", "subdistrict_grid_centre", "SW"),
        ):
            user = users.create_user(s, username=name, password=None, is_service=True,
                                     actor=SYSTEM)  # fmt: skip
            users.grant_role(s, user=user, role_name=role, unit=unit(s, code), actor=SYSTEM)


def test_posts_and_vacancies_by_level(engine: Engine, city: TestCity) -> None:
    _staff(engine)
    with session_scope(engine) as s:
        found = workforce(s, city.id("C"), actor=SYSTEM)
    assert found.held == {"grid": 2, "community": 1, "subdistrict": 1}
    assert found.vacant == {"grid": ["W2", "E1"], "community": ["ME"], "subdistrict": ["SE"]}
    district_w = next(d for d in found.root.children if d.code == "DW")
    (subdistrict,) = district_w.children
    (community,) = subdistrict.children
    assert subdistrict.people == ["sun_sw"] and community.people == ["chen_mw"]
    assert [(g.code, g.people) for g in community.children] == [
        ("W1", ["li_w1", "wang_w1"]),
        ("W2", []),
    ]


def test_the_lead_and_centre_roles_sit_at_their_level(engine: Engine, city: TestCity) -> None:
    with session_scope(engine) as s:
        user = users.create_user(s, username="misplaced", password=None, is_service=True,
                                 actor=SYSTEM)  # fmt: skip
        with pytest.raises(ValidationFailed, match="granted at a community, not at a grid"):
            users.grant_role(s, user=user, role_name="community_grid_lead", unit=unit(s, "W1"),
                             actor=SYSTEM)  # fmt: skip
        with pytest.raises(ValidationFailed, match="at a subdistrict"):
            users.grant_role(s, user=user, role_name="subdistrict_grid_centre",
                             unit=unit(s, "DW"), actor=SYSTEM)  # fmt: skip


def test_workforce_over_http_and_cli(
    engine: Engine,
    city: TestCity,
    client: TestClient,  # noqa: F811  (the fixture imported above)
    people: dict[str, int],  # noqa: F811
) -> None:
    _staff(engine)
    chief = login(client, "chief")
    doc = client.get(f"/api/v1/org/units/{city.id('SW')}/grid-workforce", headers=chief)
    assert doc.status_code == 200, doc.text
    assert doc.json()["vacant"] == {"grid": ["W2"], "community": [], "subdistrict": []}
    # Staff names are for administrators of the area: an east analyst gets no view of it.
    analyst = login(client, "east_analyst")
    refused = client.get(f"/api/v1/org/units/{city.id('SW')}/grid-workforce", headers=analyst)
    assert refused.status_code in (403, 404)
    runner = CliRunner(env={"COLUMNS": "200"})
    shown = runner.invoke(app, ["users", "workforce", "--unit", "MW"])
    assert shown.exit_code == 0, shown.output
    assert "chen_mw" in shown.stdout and "vacant grid posts (1): W2" in shown.stdout
