"""Dispute mediation on the case engine: channels, outcomes, ledgers, statistics."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from pingan.app import create_app
from pingan.cases import service as case_service
from pingan.cases.clocks import clocks_of
from pingan.cases.escalation import run_escalations
from pingan.cases.models import Case
from pingan.cli import app as cli_app
from pingan.governance import mediation_service
from pingan.governance.mediation_models import ChannelMove, Dispute
from pingan.governance.mediation_schemas import DisputeIn
from pingan.governance.mediation_stats import ledger, mediation_stats
from pingan.kit.audit import AuditEntry, verify_chain
from pingan.kit.db import session_scope
from pingan.kit.errors import Conflict, ValidationFailed
from pingan.org import users
from pingan.org.levels import Level
from pingan.org.models import OrgUnit
from pingan.org.principal import Principal
from pingan.settings import get_settings
from tests.cases.conftest import PEOPLE, _password_hash, login, principal
from tests.citykit import TestCity, grid_centre, unit

SYSTEM = Principal.system("test")
# Monday 2026-10-05 10:00 in Asia/Shanghai
T0 = dt.datetime(2026, 10, 5, 2, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


@pytest.fixture
def staff(engine: Engine, city: TestCity) -> dict[str, int]:
    ids = {}
    with session_scope(engine) as session:
        mediation_service.ensure_categories(session)
        for name, (role, code) in PEOPLE.items():
            user = users.create_user(
                session, username=name, password=None, is_service=True, actor=SYSTEM
            )
            user.password_hash, user.is_service = _password_hash(), False
            if role is not None and code is not None:
                users.grant_role(
                    session, user=user, role_name=role, unit=unit(session, code), actor=SYSTEM
                )
            ids[name] = user.id
    return ids


def actor_of(engine: Engine, who: str) -> Principal:
    return SYSTEM if who == "system" else principal(engine, who)


def register(
    engine: Engine,
    *,
    who: str = "system",
    category: str = "md_neighbour",
    grid: str = "W1",
    at: dt.datetime = T0,
    **extra: Any,
) -> str:
    lon, lat = grid_centre(grid)
    body: dict[str, Any] = {
        "category": category,
        "title": f"{category} dispute in {grid}",
        "lon": lon,
        "lat": lat,
        "parties": [
            {"role": "applicant", "name": "王某"},
            {"role": "respondent", "name": "李某", "phone": "13800000000"},
        ],
    }
    body.update(extra)
    with session_scope(engine) as s:
        case, _ = mediation_service.register(
            s, dispute_in=DisputeIn.model_validate(body), actor=actor_of(engine, who), now=at
        )
        return case.number


def take(
    engine: Engine, number: str, name: str, at: dt.datetime, who: str = "system", **fields: Any
) -> str:
    with session_scope(engine) as s:
        case, _ = mediation_service.step(
            s, number=number, transition=name, fields=fields, actor=actor_of(engine, who), now=at
        )
        return case.state


def test_one_history_across_channels_and_to_court(engine: Engine, staff: dict[str, int]) -> None:
    number = register(engine, who="w1_worker", source="screening", handler_id=None)
    assert take(engine, number, "accept", T0 + DAY, "west_officer", channel="people") == "mediating"
    take(engine, number, "refer", T0 + 5 * DAY, "west_officer", channel="administrative",
         reason="a labour bureau matter", body="区人社局")  # fmt: skip
    take(engine, number, "refer", T0 + 9 * DAY, "west_officer", channel="judicial",
         reason="parties asked for court-annexed mediation")  # fmt: skip
    state = take(engine, number, "fail", T0 + 12 * DAY, "west_officer", referred_to="court",
                 reason="no agreement")  # fmt: skip
    assert state == "referred"
    with session_scope(engine) as s:
        case, dispute = mediation_service.get(s, number, actor=SYSTEM)
        moves = mediation_service.channel_history(s, dispute)
        assert [(m.from_channel, m.to_channel) for m in moves] == [
            (None, "people"),
            ("people", "administrative"),
            ("administrative", "judicial"),
            ("judicial", "court"),
        ]
        assert dispute.outcome == "referred" and dispute.referred_to == "court"
        assert dispute.outcome_at == T0 + 12 * DAY and not case.is_open
        # One mediation period per channel, each stopped; the accept clock stopped too.
        runs = [(c.name, c.status) for c in clocks_of(s, case.id)]
        assert runs.count(("mediate", "stopped")) == 3 and ("accept", "stopped") in runs
        transitions = [
            e.to_state for e in case_service.timeline(s, case.id) if e.kind == "transition"
        ]
        assert transitions == ["mediating", "mediating", "mediating", "referred"]
        assert verify_chain(s).ok


def test_agreement_terms_follow_up_and_bad_input(engine: Engine, staff: dict[str, int]) -> None:
    number = register(engine)
    take(engine, number, "accept", T0 + DAY, channel="people", body="社区人民调解委员会")
    with pytest.raises(ValidationFailed, match="channel must be one of"):
        take(engine, number, "refer", T0 + 2 * DAY, channel="tv_show", reason="x")
    with pytest.raises(ValidationFailed, match="already in that channel"):
        take(engine, number, "refer", T0 + 2 * DAY, channel="people", reason="x")
    with pytest.raises(ValidationFailed, match="requires 'follow_up_on'"):
        take(engine, number, "agree", T0 + 3 * DAY, terms="pay 500 yuan")
    with pytest.raises(ValidationFailed, match="follow_up_on must be a date"):
        take(engine, number, "agree", T0 + 3 * DAY, terms="pay 500 yuan", follow_up_on="soon")
    with pytest.raises(Conflict), session_scope(engine) as s:  # no agreement to follow up
        mediation_service.follow_up(s, number=number, result="fulfilled", note="", actor=SYSTEM)
    with session_scope(engine) as s:  # nothing of the refused steps was written
        case, dispute = mediation_service.get(s, number, actor=SYSTEM)
        assert case.state == "mediating" and dispute.channel == "people" and dispute.terms == ""
    take(engine, number, "agree", T0 + 3 * DAY, terms="pay 500 yuan", follow_up_on="2026-11-08")
    with pytest.raises(Conflict, match="not allowed from state 'agreed'"):
        take(engine, number, "withdraw", T0 + 4 * DAY, reason="late")
    with session_scope(engine) as s:
        mediation_service.follow_up(
            s, number=number, result="fulfilled", note="paid", actor=SYSTEM, now=T0 + 34 * DAY
        )
    with session_scope(engine) as s:
        case, dispute = mediation_service.get(s, number, actor=SYSTEM)
        assert dispute.outcome == "agreed" and dispute.terms == "pay 500 yuan"
        assert dispute.follow_up_on == dt.date(2026, 11, 8)
        assert dispute.follow_up_result == "fulfilled" and dispute.mediator_body
        assert [e.kind for e in case_service.timeline(s, case.id)][-1] == "follow_up"


def test_responsible_level_and_ledger(
    engine: Engine, staff: dict[str, int], city: TestCity
) -> None:
    community = register(engine, who="west_officer", handler_id=staff["west_officer"])
    district = register(engine, who="west_officer", category="md_medical", grid="W2")
    east = register(engine, category="md_labour", grid="E1", level="subdistrict", risk_level="high")
    closed = register(engine, grid="W2", idempotency_key="intake-77")
    assert register(engine, grid="W2", idempotency_key="intake-77") == closed  # filed once
    take(engine, closed, "withdraw", T0 + DAY, reason="settled privately")
    take(engine, community, "accept", T0 + DAY, channel="people")
    now = T0 + 40 * DAY
    with session_scope(engine) as s:
        west = ledger(s, actor=principal(engine, "west_officer"), now=now)
        assert [r.number for r in west] == [district, community]  # deadlines soonest first
        by_number = {r.number: r for r in west}
        assert by_number[community].unit_id == city.id("MW")
        assert by_number[community].handler == "west_officer"
        assert by_number[community].channel == "people"
        # Medical disputes are held at the district by default.
        assert by_number[district].unit_id == city.id("DW") and by_number[district].handler is None
        # Accepted on T0 + 1 day (a Tuesday): 30 calendar days; the other awaits acceptance,
        # due at close of business on the third working day after registration.
        assert by_number[community].deadline == T0 + 31 * DAY
        assert by_number[district].deadline == dt.datetime(2026, 10, 8, 9, 0, tzinfo=dt.UTC)
        assert all(r.overdue for r in west)
        only = ledger(s, actor=SYSTEM, level=Level.SUBDISTRICT, now=now)
        assert [r.number for r in only] == [east] and only[0].unit_id == city.id("SE")
        assert [r.number for r in ledger(s, actor=principal(engine, "east_officer"))] == [east]
        # Only the high-risk one starts flagged for supervision.
        flagged = case_service.list_cases(s, actor=SYSTEM, inbox="flagged")
        assert [c.number for c in flagged] == [east]
        assert ledger(s, actor=principal(engine, "nobody")) == []


def test_mediation_period_escalates_once(engine: Engine, staff: dict[str, int]) -> None:
    number = register(engine)
    take(engine, number, "accept", T0, channel="people")
    # 30 calendar days from T0; "near" at 80% of the budget (day 24).
    assert run_escalations(engine, now=T0 + 23 * DAY) == 0
    assert run_escalations(engine, now=T0 + 25 * DAY) == 1
    assert run_escalations(engine, now=T0 + 31 * DAY) == 1
    assert run_escalations(engine, now=T0 + 40 * DAY) == 0  # never twice
    with session_scope(engine) as s:
        case, _ = mediation_service.get(s, number, actor=SYSTEM)
        assert case.supervision_flag
        rules = [json.loads(e.detail)["rule"] for e in case_service.timeline(s, case.id)
                 if e.kind == "escalation"]  # fmt: skip
        assert rules == ["mediate-near", "mediate-breach"]
    # A referral to another channel starts a fresh period, escalated afresh.
    take(engine, number, "refer", T0 + 41 * DAY, channel="judicial", reason="court-annexed")
    assert run_escalations(engine, now=T0 + 42 * DAY) == 0
    assert run_escalations(engine, now=T0 + 72 * DAY) == 2


def _hand_counted(engine: Engine) -> None:
    """The fixture of test_statistics_match_hand_counts (see the table there)."""
    a = register(engine, grid="W1", at=T0)
    take(engine, a, "accept", T0, channel="people")
    take(engine, a, "agree", T0 + 4 * DAY, terms="t", follow_up_on="2026-12-01")
    b = register(engine, grid="W2", at=T0 + DAY)
    take(engine, b, "accept", T0 + DAY, channel="people")
    take(engine, b, "fail", T0 + 11 * DAY, referred_to="court", reason="r")
    c = register(engine, category="md_labour", grid="E1", at=T0 + 2 * DAY)
    take(engine, c, "accept", T0 + 2 * DAY, channel="administrative")
    take(engine, c, "partial", T0 + 28 * DAY, terms="t", unresolved="u")
    d = register(engine, category="md_labour", grid="E2", at=T0 + 3 * DAY)
    take(engine, d, "accept", T0 + 3 * DAY, channel="people")
    take(engine, d, "refer", T0 + 10 * DAY, channel="judicial", reason="r")
    take(engine, d, "agree", T0 + 36 * DAY, terms="t", follow_up_on="2027-01-01")
    e = register(engine, category="md_family", grid="W1", at=T0 + 15 * DAY)
    take(engine, e, "withdraw", T0 + 17 * DAY, reason="r")
    f = register(engine, category="md_family", grid="W1", at=T0 + 46 * DAY)
    take(engine, f, "accept", T0 + 46 * DAY, channel="people")
    g = register(engine, category="md_other", grid="E1", at=T0 - 15 * DAY)
    take(engine, g, "accept", T0 - 15 * DAY, channel="people")
    take(engine, g, "agree", T0 + 5 * DAY, terms="t", follow_up_on="2026-11-01")


def test_statistics_match_hand_counts(engine: Engine, staff: dict[str, int]) -> None:
    # dispute category  district registered outcome  concluded  days
    # A  neighbour      W        Oct 5      agreed   Oct 9       4
    # B  neighbour      W        Oct 6      failed   Oct 16     10
    # C  labour         E        Oct 7      partial  Nov 2      26
    # D  labour         E        Oct 8      agreed   Nov 10     33
    # E  family         W        Oct 20     withdrawn Oct 22    (not mediated)
    # F  family         W        Nov 20     open
    # G  other          E        Sep 20     agreed   Oct 10     20 (registered before the period)
    _hand_counted(engine)
    start, end = dt.date(2026, 10, 1), dt.date(2026, 12, 1)
    with session_scope(engine) as s:
        stats = mediation_stats(s, actor=SYSTEM, start=start, end=end)
        assert stats.registered == 6
        t = stats.total
        assert (t.concluded, t.mediated, t.agreed, t.partial, t.failed, t.withdrawn) == (
            6, 5, 3, 1, 1, 1,
        )  # fmt: skip
        assert t.success_rate == pytest.approx(3 / 5)
        assert t.mean_days == pytest.approx((4 + 10 + 26 + 33 + 20) / 5)
        assert t.median_days == pytest.approx(20)
        cats = {g.key: g for g in stats.by_category}
        assert set(cats) == {"md_neighbour", "md_labour", "md_family", "md_other"}
        assert (cats["md_neighbour"].mediated, cats["md_neighbour"].agreed) == (2, 1)
        assert cats["md_neighbour"].median_days == pytest.approx(7)
        assert cats["md_labour"].success_rate == pytest.approx(1 / 2)
        assert cats["md_labour"].mean_days == pytest.approx(29.5)
        assert cats["md_family"].mediated == 0 and cats["md_family"].success_rate is None
        west_id = str(s.scalar(select(OrgUnit.id).where(OrgUnit.code == "DW")))
        areas = {g.key: g for g in stats.by_area}
        assert (areas[west_id].mediated, areas[west_id].withdrawn) == (2, 1)
        assert areas[west_id].success_rate == pytest.approx(1 / 2)
        east = next(g for k, g in areas.items() if k != west_id)
        assert east.success_rate == pytest.approx(2 / 3)
        assert east.mean_days == pytest.approx((26 + 33 + 20) / 3)
        assert east.median_days == pytest.approx(26)
        assert [(p.month, p.registered, p.concluded, p.agreed) for p in stats.trend] == [
            ("2026-10", 5, 4, 2),
            ("2026-11", 1, 2, 1),
        ]
        # The east officer's scope holds C, D and G only.
        scoped = mediation_stats(s, actor=principal(engine, "east_officer"), start=start, end=end)
        assert (scoped.registered, scoped.total.mediated, scoped.total.agreed) == (2, 3, 2)
        with pytest.raises(ValidationFailed):
            mediation_stats(s, actor=SYSTEM, start=end, end=start)


def test_mediation_api_and_cli(engine: Engine, staff: dict[str, int]) -> None:
    _hand_counted(engine)  # all before 2026-11-21; what this test files happens now
    lon, lat = grid_centre("W1")
    body: dict[str, Any] = {
        "category": "md_property_mgmt",
        "title": "Leaking roof between flats",
        "lon": lon,
        "lat": lat,
        "scale": "multi_party",
        "people_involved": 3,
        "parties": [{"role": "applicant", "name": "张某"}, {"role": "respondent", "name": "物业"}],
    }
    with TestClient(create_app(get_settings(), engine)) as client:
        officer = login(client, "west_officer")
        r = client.post("/api/v1/mediation/disputes", json=body, headers=officer)
        assert r.status_code == 201, r.text
        number = r.json()["case"]["number"]
        assert r.json()["case"]["allowed_transitions"] == ["accept", "fail", "withdraw"]
        r = client.post(
            f"/api/v1/mediation/disputes/{number}/transitions",
            json={"transition": "accept", "fields": {"channel": "people"}},
            headers=officer,
        )
        assert r.status_code == 200 and r.json()["channel"] == "people"
        r = client.get(f"/api/v1/mediation/disputes/{number}", headers=officer)
        assert [p["name"] for p in r.json()["parties"]] == ["张某", "物业"]
        # Bad input: more personal data than mediation needs, a group of two, a bad step.
        extra = {**body, "parties": [{"role": "applicant", "name": "x", "id_number": "110"}]}
        r = client.post("/api/v1/mediation/disputes", json=extra, headers=officer)
        assert r.status_code == 422
        assert r.headers["content-type"].startswith("application/problem+json")
        group = {**body, "scale": "group", "people_involved": 2}
        assert (
            client.post("/api/v1/mediation/disputes", json=group, headers=officer).status_code
            == 422
        )
        r = client.post(
            f"/api/v1/mediation/disputes/{number}/transitions",
            json={"transition": "accept", "fields": {"channel": "people"}},
            headers=officer,
        )
        assert r.status_code == 409 and r.json()["type"].endswith("/conflict")
        r = client.post(
            f"/api/v1/mediation/disputes/{number}/transitions",
            json={"transition": "agree", "fields": {"terms": "fix it"}},
            headers=officer,
        )
        assert r.status_code == 422 and r.json()["field"] == "fields.follow_up_on"
        r = client.post(
            f"/api/v1/mediation/disputes/{number}/transitions",
            json={
                "transition": "agree",
                "fields": {"terms": "fix it", "follow_up_on": "2027-01-05"},
            },
            headers=officer,
        )
        assert r.status_code == 200 and r.json()["outcome"] == "agreed"
        r = client.post(f"/api/v1/mediation/disputes/{number}/follow-up", headers=officer,
                        json={"result": "fulfilled", "note": "roof fixed"})  # fmt: skip
        assert r.status_code == 200 and r.json()["follow_up_result"] == "fulfilled"
        r = client.post(f"/api/v1/mediation/disputes/{number}/follow-up", headers=officer,
                        json={"result": "maybe"})  # fmt: skip
        assert r.status_code == 422
        east = login(client, "east_officer")
        assert client.get(f"/api/v1/mediation/disputes/{number}", headers=east).status_code == 404
        r = client.get("/api/v1/mediation/ledger", params={"level": "community"}, headers=officer)
        assert number not in [row["number"] for row in r.json()]
        assert {row["level"] for row in r.json()} == {"community"} and r.json()
        r = client.get(
            "/api/v1/mediation/statistics",
            params={"start": "2026-10-01", "end": "2026-11-21"},
            headers=login(client, "chief"),
        )
        assert r.status_code == 200 and r.json()["total"]["mediated"] == 5
        r = client.get("/api/v1/mediation/statistics", params={"start": "x", "end": "y"},
                       headers=officer)  # fmt: skip
        assert r.status_code == 422
    with session_scope(engine) as s:
        reads = s.scalars(select(AuditEntry).where(AuditEntry.action == "mediation.parties.read"))
        assert any(e.object_id == number for e in reads)
    runner = CliRunner()
    result = runner.invoke(cli_app, ["mediation", "ledger", "--level", "community"])
    assert result.exit_code == 0 and number not in result.output  # agreed: no longer open
    result = runner.invoke(
        cli_app, ["mediation", "stats", "--start", "2026-10-01", "--end", "2026-11-21"]
    )
    assert result.exit_code == 0 and "5 mediated" in result.output and "60%" in result.output
    assert runner.invoke(cli_app, ["mediation", "show", "MD-1999-000001"]).exit_code == 1
    with session_scope(engine) as s:
        assert s.scalar(select(Dispute.id).where(Dispute.case_id == -1)) is None
        assert s.query(ChannelMove).count() >= 8 and s.query(Case).count() == 8
