"""Petitions over HTTP and the CLI: intake errors as problem+json, the petitioner's
lookup and rating by number + code, letters as HTML, the generic case routes
closed to petition steps, statistics and the ledger from the CLI."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from pingan.app import create_app
from pingan.cli import app as cli_app
from pingan.kit.db import session_scope
from pingan.settings import get_settings
from tests.citykit import TestCity, unit
from tests.governance.test_petitions import PASSWORD, make_people

runner = CliRunner()


@pytest.fixture
def people(engine: Engine, city: TestCity) -> dict[str, int]:
    return make_people(engine)


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(get_settings(), engine)) as test_client:
        yield test_client


def login(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def unit_id(engine: Engine, code: str) -> int:
    with session_scope(engine) as s:
        return unit(s, code).id


def body(engine: Engine, **over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "channel": "phone",
        "category": "petition.labour_wages",
        "unit_id": unit_id(engine, "C"),
        "matter": "工地拖欠农民工工资八个月。",
        "requests": "支付工资",
        "place": "滨江工地",
        "petitioner_name": "赵六",
        "petitioner_phone": "13900002222",
    }
    base.update(over)
    return base


def step(client: TestClient, h: dict[str, str], number: str, name: str, **fields: object) -> int:
    r = client.post(
        f"/api/v1/petitions/{number}/steps", json={"transition": name, "fields": fields}, headers=h
    )
    return r.status_code


def test_register_follow_and_rate_over_http(
    client: TestClient, engine: Engine, people: dict[str, int]
) -> None:
    office, sw = login(client, "office"), login(client, "sw")
    reps = [{"name": f"代表{i}"} for i in range(6)]
    group = body(engine, is_group=True, headcount=30, representatives=reps)
    r = client.post("/api/v1/petitions", headers=office, json=group)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["field"] == "representatives" and "at most 5" in r.json()["detail"]
    r = client.post("/api/v1/petitions", headers=office, json=body(engine, channel="fax"))
    assert r.status_code == 422 and r.json()["field"] == "channel"
    assert client.post("/api/v1/petitions", json=body(engine)).status_code == 401
    assert client.post("/api/v1/petitions", headers=sw, json=body(engine)).status_code == 403

    r = client.post("/api/v1/petitions", headers=office, json=body(engine))
    assert r.status_code == 201, r.text
    created = r.json()
    number, code = created["number"], created["query_code"]
    assert created["state"] == "registered" and created["letters"][0]["kind"] == "registered"
    assert {c["name"] for c in created["clocks"]} == {"register"}

    assert step(client, office, number, "forward", unit_id=unit_id(engine, "SW")) == 200
    assert step(client, sw, number, "accept") == 200
    assert step(client, sw, number, "accept") == 409  # not allowed from "accepted"

    public = client.post("/api/v1/public/petitions/lookup", json={"number": number, "code": "X"})
    assert public.status_code == 404 and public.json()["detail"].startswith("no petition")
    r = client.post(
        "/api/v1/public/petitions/rating", json={"number": number, "code": code, "rating": 5}
    )
    assert r.status_code == 409  # no written reply yet
    assert step(client, sw, number, "reply", opinion="责令三日内支付") == 200
    r = client.post("/api/v1/public/petitions/lookup", json={"number": number, "code": code})
    assert r.status_code == 200, r.text
    status = r.json()
    assert status["state"] == "replied" and "review_window" in status["deadlines"]
    assert [x["kind"] for x in status["letters"]] == ["registered", "accepted", "reply"]
    review_by = status["deadlines"]["review_window"]
    y, m, d = (int(p) for p in review_by.split("-"))
    assert f"{y}年{m}月{d}日" in status["letters"][-1]["html"]
    r = client.post(
        "/api/v1/public/petitions/rating",
        json={"number": number, "code": code.lower(), "rating": 4},
    )
    assert r.status_code == 200

    detail = client.get(f"/api/v1/petitions/{number}", headers=office).json()
    assert detail["rating"] == 4 and detail["petitioner_name"] == "赵六"
    letter_id = detail["letters"][-1]["id"]
    html = client.get(f"/api/v1/petitions/{number}/letters/{letter_id}", headers=office)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "处理意见书" in html.text

    # The generic case routes do not serve petitions at all: neither reads nor steps.
    generic = client.get(f"/api/v1/cases/{detail['id']}", headers=office)
    assert generic.status_code == 404
    assert "赵六" not in generic.text and "拖欠" not in generic.text
    listed = client.get("/api/v1/cases", headers=office).json()["items"]
    assert detail["id"] not in [c["id"] for c in listed]
    closing = {"transition": "close", "fields": {"reason": "petitioner_satisfied"}}
    r = client.post(f"/api/v1/cases/{detail['id']}/transitions", headers=office, json=closing)
    assert r.status_code == 404

    r = client.post(
        f"/api/v1/petitions/{number}/materials",
        headers=office,
        files={"file": ("a.txt", b"plain text", "text/plain")},
    )
    assert r.status_code == 422 and r.json()["field"] == "file"
    stats = client.get("/api/v1/petitions/statistics", headers=office).json()
    assert stats["total"] == 1 and stats["by_channel"] == {"phone": 1}
    assert stats["mean_rating"] == 4


def test_petitions_cli(engine: Engine, people: dict[str, int]) -> None:
    with session_scope(engine) as s:
        from pingan.governance import petitions
        from pingan.governance.petitions_schemas import PetitionIn
        from pingan.org.principal import Principal

        case, *_ = petitions.create_petition(
            s, petition_in=PetitionIn.model_validate(body(engine)), actor=Principal.system("t")
        )
        number = case.number
    result = runner.invoke(cli_app, ["petitions", "load-holidays", "2026"])
    assert result.exit_code == 0 and "2026:" in result.output, result.output
    result = runner.invoke(cli_app, ["petitions", "load-holidays", "2099"])
    assert result.exit_code == 1 and "2099" in result.output
    result = runner.invoke(cli_app, ["petitions", "ledger"])
    assert result.exit_code == 0 and number in result.output and "register" in result.output
    result = runner.invoke(cli_app, ["petitions", "show", number])
    assert result.exit_code == 0 and "registered" in result.output
    assert runner.invoke(cli_app, ["petitions", "show", "XF-1999-000001"]).exit_code == 1
    result = runner.invoke(cli_app, ["petitions", "stats"])
    assert result.exit_code == 0 and "'phone': 1" in result.output
    result = runner.invoke(cli_app, ["petitions", "close-lapsed"])
    assert result.exit_code == 0 and "0 matters closed" in result.output
    result = runner.invoke(cli_app, ["petitions", "seed-categories"])
    assert result.exit_code == 0 and "0 categories added" in result.output


def test_demo_seeding_is_realistic_and_idempotent(engine: Engine, people: dict[str, int]) -> None:
    from pingan.governance.petitions_demo import seed_demo_petitions
    from pingan.governance.tips_demo import seed_demo_tips
    from pingan.governance.tips_rewards import ledger, statistics
    from pingan.org.principal import Principal

    assert seed_demo_petitions(engine, count=8) == 8
    assert seed_demo_petitions(engine, count=8) == 0
    assert seed_demo_tips(engine, count=6) == 6
    assert seed_demo_tips(engine, count=6) == 0
    with session_scope(engine) as s:
        from pingan.governance import petitions

        found = petitions.list_petitions(s, actor=Principal.system("t"))
        assert len(found) == 8
        assert {c.is_open for c, _p in found} == {True, False}
        system = Principal.system("t")
        assert statistics(s, actor=system)["total"] == 6
        book = ledger(s, actor=system)
        assert book["balanced"] and book["payable_matches_approved"]


def test_refusals_over_http_are_audited_even_with_an_api_key(
    client: TestClient, engine: Engine, people: dict[str, int]
) -> None:
    from sqlalchemy import select

    from pingan.kit.audit import AuditEntry
    from pingan.org import auth, users

    office = login(client, "office")
    accusing = body(engine, category="petition.official_conduct", matter="街道干部吃拿卡要。",
                    accused_unit_id=unit_id(engine, "SW"))  # fmt: skip
    r = client.post("/api/v1/petitions", headers=office, json=accusing)
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    # Ids too large for the database are bad input, not server errors.
    assert client.get(f"/api/v1/petitions/{'9' * 30}", headers=office).status_code == 404
    assert (
        client.get(f"/api/v1/petitions/{number}/letters/{2**70}", headers=office).status_code == 422
    )
    r = client.post(f"/api/v1/petitions/{number}/leader", headers=office, json={"user_id": 2**40})
    assert r.status_code == 422
    assert step(client, office, number, "forward", unit_id=2**40) == 422
    assert client.get("/api/v1/tips/" + "9" * 30, headers=office).status_code == 404
    future = body(engine, received_at="2999-01-01T00:00:00+08:00")
    r = client.post("/api/v1/petitions", headers=office, json=future)
    assert r.status_code == 422 and r.json()["field"] == "received_at"
    with session_scope(engine) as s:
        sw = users.get_user_by_name(s, "sw")
        principal = users.principal_for(s, sw, via="session")
        secret, _key = auth.create_api_key(s, user=sw, name="desk", actor=principal)
    for _ in range(2):
        r = client.get(f"/api/v1/petitions/{number}", headers={"X-API-Key": secret})
        assert r.status_code == 404
    r = client.get("/api/v1/petitions", headers={"X-API-Key": secret})
    assert r.status_code == 200 and r.json()["items"] == []
    with session_scope(engine) as s:
        refused = s.scalars(
            select(AuditEntry.actor).where(
                AuditEntry.object_id == number, AuditEntry.action == "petition.read_refused"
            )
        ).all()
    assert len(refused) == 2 and all(a.startswith("apikey:") and a.endswith(":sw") for a in refused)
