"""Decision risk assessments: conflict checks, the stated rules, the gate, the report."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from pingan.app import create_app
from pingan.cases import actions
from pingan.cases.service import get_case_by_number
from pingan.cli import app as cli_app
from pingan.governance import assessments_service as service
from pingan.governance.assessments_rules import HIGH, LOW, MEDIUM, classify
from pingan.governance.assessments_schemas import (
    AssessmentIn,
    ConsultationIn,
    ExpertIn,
    InterestIn,
    MitigationIn,
    MonitoringIn,
    ScoreSheetIn,
)
from pingan.kit.db import session_scope
from pingan.kit.errors import Conflict, ValidationFailed
from pingan.org import users
from pingan.org.principal import Principal
from pingan.settings import get_settings
from tests.cases.conftest import PEOPLE, _password_hash, login, principal
from tests.citykit import TestCity, grid_centre, unit

SYSTEM = Principal.system("test")
PROPOSER = "西区住房和城乡建设局"
T0 = dt.datetime(2026, 10, 5, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def staff(engine: Engine, city: TestCity) -> dict[str, int]:
    ids = {}
    with session_scope(engine) as session:
        service.ensure_categories(session)
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


def _register(engine: Engine, project: str = "旧城改造一期 Old town renewal") -> str:
    lon, lat = grid_centre("W1")
    with session_scope(engine) as s:
        case, _ = service.register(
            s,
            assessment_in=AssessmentIn(
                category="ra_major_project", project=project, proposing_org=PROPOSER,
                lon=lon, lat=lat, address="西区老街",
            ),
            actor=principal(engine, "west_officer"),
            now=T0,
        )  # fmt: skip
        return case.number


def _experts(engine: Engine) -> dict[str, int]:
    spec = {
        "law": ("张律师", "law", "市律师协会"),
        "plan": ("李工", "planning", "市规划设计院"),
        "fin": ("王教授", "finance", "城市大学"),
        "social": ("赵研究员", "social", "社会科学院"),
        "insider": ("钱科长", "planning", " 西区住房和城乡建设局 "),
        "interested": ("孙经理", "finance", "某开发公司"),
    }
    with session_scope(engine) as s:
        return {
            key: service.add_expert(
                s, expert_in=ExpertIn(name=n, field=f, affiliation=a), actor=SYSTEM
            ).id
            for key, (n, f, a) in spec.items()
        }


def _sheet(expert_id: int, l: int, r: int, f: int, c: int) -> ScoreSheetIn:  # noqa: E741
    def dim(score: int) -> dict[str, Any]:
        return {"score": score, "comment": f"score {score}: see the file"}

    return ScoreSheetIn.model_validate(
        {"expert_id": expert_id, "legality": dim(l), "reasonableness": dim(r),
         "feasibility": dim(f), "controllability": dim(c)}
    )  # fmt: skip


def _consult(engine: Engine, number: str, support: int, oppose: int, neutral: int) -> None:
    with session_scope(engine) as s:
        service.add_consultation(
            s, number=number, actor=SYSTEM,
            consultation_in=ConsultationIn(
                kind="survey", held_on=dt.date(2026, 10, 10), participants=support + oppose +
                neutral, support=support, oppose=oppose, neutral=neutral, summary="入户问卷",
            ),
        )  # fmt: skip


def _scores(engine: Engine, number: str, sheets: list[ScoreSheetIn]) -> None:
    with session_scope(engine) as s:
        for sheet in sheets:
            service.record_scores(s, number=number, sheet=sheet, actor=SYSTEM)


def _step(engine: Engine, number: str, name: str, **fields: Any) -> str:
    with session_scope(engine) as s:
        case, _ = service.step(s, number=number, transition=name, fields=fields, actor=SYSTEM)
        return case.state


def _conclude(engine: Engine, number: str) -> tuple[str, str | None]:
    with session_scope(engine) as s:
        case, a = service.conclude(s, number=number, actor=SYSTEM)
        return case.state, a.risk_level


@pytest.mark.parametrize(
    ("means", "opposition", "level"),
    [
        ((4.0, 4.0, 4.0, 4.0), 0.10, LOW),
        ((3.5, 3.5, 3.5, 3.5), 0.20, LOW),  # both thresholds are strict
        ((3.0, 4.0, 4.0, 4.0), 0.00, MEDIUM),  # legality exactly 3.0 is not "doubtful"
        ((2.9, 5.0, 5.0, 5.0), 0.00, HIGH),
        ((4.0, 4.0, 1.9, 4.0), 0.00, HIGH),
        ((4.0, 4.0, 2.0, 4.0), 0.00, MEDIUM),
        ((4.0, 3.4, 4.0, 4.0), 0.00, MEDIUM),
        ((4.0, 4.0, 4.0, 4.0), 0.21, MEDIUM),
        ((4.0, 4.0, 4.0, 4.0), 0.50, MEDIUM),
        ((5.0, 5.0, 5.0, 5.0), 0.51, HIGH),
    ],
)
def test_stated_rules(means: tuple[float, ...], opposition: float, level: str) -> None:
    dims = dict(
        zip(("legality", "reasonableness", "feasibility", "controllability"), means, strict=True)
    )
    rating = classify(dims, opposition)
    assert rating.level == level and rating.reasons


def test_conflicts_of_interest_refuse_the_whole_panel(
    engine: Engine, staff: dict[str, int]
) -> None:
    number = _register(engine)
    ex = _experts(engine)
    with session_scope(engine) as s:
        service.declare_interest(
            s, expert_id=ex["interested"], actor=SYSTEM,
            interest_in=InterestIn(assessment=number, note="bids for the works"),
        )  # fmt: skip
        service.declare_interest(
            s, expert_id=ex["social"], actor=SYSTEM,
            interest_in=InterestIn(organisation="西区住房和城乡建设局", note="adviser until 2025"),
        )  # fmt: skip
    for key, reason in (
        ("insider", "works for the proposing unit"),
        ("interested", "declared an interest in this decision"),
        ("social", "declared an interest in 西区住房和城乡建设局"),
    ):
        with pytest.raises(Conflict, match=reason), session_scope(engine) as s:
            service.assign_panel(s, number=number, expert_ids=[ex["law"], ex[key]], actor=SYSTEM)
    with session_scope(engine) as s:  # nobody was seated by the refused requests
        assert service.panel(s, service.get(s, number, actor=SYSTEM)[1]) == []
        with pytest.raises(Conflict, match="seat a panel"):
            actions.transition(
                s, case=get_case_by_number(s, number, actor=SYSTEM), name="start", fields={},
                actor=SYSTEM,
            )  # fmt: skip
    with session_scope(engine) as s:
        service.assign_panel(
            s, number=number, expert_ids=[ex["law"], ex["plan"], ex["fin"]], actor=SYSTEM
        )
    with pytest.raises(Conflict, match="already sits"), session_scope(engine) as s:
        service.assign_panel(s, number=number, expert_ids=[ex["law"]], actor=SYSTEM)
    with pytest.raises(ValidationFailed, match="expert 9999 not found"), session_scope(engine) as s:
        service.assign_panel(s, number=number, expert_ids=[9999], actor=SYSTEM)


def test_medium_postpones_until_mitigated_and_reassessed(
    engine: Engine, staff: dict[str, int]
) -> None:
    number = _register(engine)
    ex = _experts(engine)
    panel = [ex["law"], ex["plan"], ex["fin"]]
    with session_scope(engine) as s:
        service.assign_panel(s, number=number, expert_ids=panel, actor=SYSTEM)
    assert _step(engine, number, "start") == "assessing"
    with pytest.raises(Conflict, match="missing scores"):
        _conclude(engine, number)
    # reasonableness (4+3+3)/3 = 3.33 < 3.5, every other mean >= 3.67: medium
    _scores(engine, number, [_sheet(panel[0], 4, 4, 4, 4), _sheet(panel[1], 4, 3, 4, 4),
                             _sheet(panel[2], 5, 3, 3, 4)])  # fmt: skip
    with pytest.raises(Conflict, match="consultation"):
        _conclude(engine, number)
    _consult(engine, number, support=70, oppose=15, neutral=10)  # 15/95 = 16% < 20%
    # The gate is the workflow's: asking for the low-risk step directly is refused.
    with pytest.raises(Conflict, match="rate this round 'medium'"):
        _step(engine, number, "rate_low")
    assert _conclude(engine, number) == ("postponed", MEDIUM)
    with pytest.raises(Conflict, match="not allowed from state 'postponed'"):
        _step(engine, number, "implement", decision_body="区政府常务会", decision_ref="2026-12")
    with pytest.raises(Conflict, match="record the mitigations"):
        _step(engine, number, "reassess")
    with session_scope(engine) as s:
        service.add_mitigation(
            s, number=number, actor=SYSTEM,
            mitigation_in=MitigationIn(measure="补偿方案公示并逐户解释", owner="区征收办",
                                       due_on=dt.date(2026, 11, 30)),
        )  # fmt: skip
    assert _step(engine, number, "reassess") == "assessing"
    with pytest.raises(Conflict, match="round 2 is missing scores"):
        _conclude(engine, number)
    _scores(engine, number, [_sheet(e, 4, 4, 4, 4) for e in panel])
    assert _conclude(engine, number) == ("cleared", LOW)
    with pytest.raises(ValidationFailed, match="requires 'decision_ref'"):
        _step(engine, number, "implement", decision_body="区政府常务会")
    assert _step(engine, number, "implement", decision_body="区政府常务会",
                 decision_ref="西政发〔2026〕12号") == "implementing"  # fmt: skip
    with pytest.raises(Conflict, match="monitoring"):
        _step(engine, number, "complete", result="done")
    with session_scope(engine) as s:
        service.add_monitoring(
            s, number=number, actor=SYSTEM,
            monitoring_in=MonitoringIn(status="on_track", note="无信访，施工有序"),
        )  # fmt: skip
    assert _step(engine, number, "complete", result="monitoring closed") == "completed"
    with session_scope(engine) as s:
        case, a = service.get(s, number, actor=SYSTEM)
        assert (a.round, a.risk_level, a.decision) == (2, LOW, "implement")
        assert not case.is_open and case.unit_path.count("/") == 3  # held at the district


def test_high_risk_is_not_implemented(engine: Engine, staff: dict[str, int]) -> None:
    number = _register(engine)
    ex = _experts(engine)
    panel = [ex["law"], ex["plan"], ex["fin"]]
    with session_scope(engine) as s:
        service.assign_panel(s, number=number, expert_ids=panel, actor=SYSTEM)
    _step(engine, number, "start")
    # legality (3+2+3)/3 = 2.67 < 3: high, whatever else
    _scores(engine, number, [_sheet(panel[0], 3, 5, 5, 5), _sheet(panel[1], 2, 5, 5, 5),
                             _sheet(panel[2], 3, 5, 5, 5)])  # fmt: skip
    _consult(engine, number, support=90, oppose=5, neutral=5)
    assert _conclude(engine, number) == ("rejected", HIGH)
    with pytest.raises(Conflict, match="not allowed from state 'rejected'"):
        _step(engine, number, "implement", decision_body="x", decision_ref="y")
    assert _step(engine, number, "decline", decision_body="区政府", reason="legality") == (
        "not_implemented"
    )
    with session_scope(engine) as s:
        assert service.get(s, number, actor=SYSTEM)[1].decision == "not_implement"


def test_assessment_api_report_and_cli(
    engine: Engine, staff: dict[str, int], tmp_path: Path
) -> None:
    lon, lat = grid_centre("W2")
    with TestClient(create_app(get_settings(), engine)) as client:
        h = login(client, "west_officer")
        r = client.post(
            "/api/v1/assessments",
            json={"category": "ra_land_acquisition", "project": "滨河路拓宽 Riverside road",
                  "proposing_org": PROPOSER, "lon": lon, "lat": lat},
            headers=h,
        )  # fmt: skip
        assert r.status_code == 201, r.text
        number = r.json()["case"]["number"]
        ids = []
        for name, affiliation in (
            ("甲", "大学"),
            ("乙", "研究院"),
            ("丙", "律所"),
            ("丁", PROPOSER),
        ):
            expert = {"name": name, "field": "law", "affiliation": affiliation}
            r = client.post("/api/v1/assessments/experts", headers=h, json=expert)
            assert r.status_code == 201
            ids.append(r.json()["id"])
        r = client.post(f"/api/v1/assessments/{number}/panel", json={"expert_ids": ids}, headers=h)
        assert r.status_code == 409 and r.headers["content-type"].startswith(
            "application/problem+json"
        )
        assert list(r.json()["refusals"]) == [str(ids[3])]
        r = client.post(f"/api/v1/assessments/{number}/panel", json={"expert_ids": ids[:3]},
                        headers=h)  # fmt: skip
        assert [e["name"] for e in r.json()["panel"]] == ["甲", "乙", "丙"]
        r = client.post(f"/api/v1/assessments/{number}/consultations", headers=h,
                        json={"kind": "hearing", "held_on": "2026-10-12", "participants": 40,
                              "support": 20, "oppose": 30, "neutral": 0})  # fmt: skip
        assert r.status_code == 422  # more answers than participants
        r = client.post(f"/api/v1/assessments/{number}/consultations", headers=h,
                        json={"kind": "hearing", "held_on": "2026-10-12", "participants": 40,
                              "support": 25, "oppose": 10, "neutral": 5,
                              "summary": "听证会"})  # fmt: skip
        assert r.status_code == 201
        r = client.post(f"/api/v1/assessments/{number}/transitions", json={"transition": "start"},
                        headers=h)  # fmt: skip
        assert r.json()["case"]["state"] == "assessing"
        bad = _sheet(ids[0], 4, 4, 4, 4).model_dump()
        bad["legality"]["score"] = 6
        r = client.post(f"/api/v1/assessments/{number}/scores", json=bad, headers=h)
        assert r.status_code == 422
        for e in ids[:3]:
            r = client.post(f"/api/v1/assessments/{number}/scores", headers=h,
                            json=_sheet(e, 4, 4, 4, 4).model_dump())  # fmt: skip
            assert r.status_code == 200
        # opposition 10/40 = 25% > 20%: medium
        r = client.get(f"/api/v1/assessments/{number}/rating", headers=h)
        assert r.json()["level"] == MEDIUM and r.json()["opposition"] == pytest.approx(0.25)
        r = client.post(f"/api/v1/assessments/{number}/conclude", headers=h)
        assert r.json()["case"]["state"] == "postponed" and r.json()["risk_level"] == MEDIUM
        r = client.get(f"/api/v1/assessments/{number}/report.html", headers=h)
        assert r.status_code == 200 and "滨河路拓宽" in r.text and "中风险" in r.text
        assert "听证会" in r.text and "<script" not in r.text
        r = client.get(f"/api/v1/assessments/{number}/report.pdf", headers=h)
        assert r.status_code == 200 and r.content.startswith(b"%PDF")
        pdf = tmp_path / "report.pdf"
        pdf.write_bytes(r.content)
        # poppler's tools read it back: the CJK font is embedded and the text extracts.
        fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True)
        assert any("WenQuanYi" in line and " yes " in line for line in fonts.stdout.splitlines())
        text = subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "滨河路拓宽" in text and "中风险" in text and "合法性" in text
        r = client.get("/api/v1/assessments", params={"state": "postponed"}, headers=h)
        assert [a["case"]["number"] for a in r.json()] == [number]
        assert (
            client.get("/api/v1/assessments", params={"state": "cleared"}, headers=h).json() == []
        )
        east = login(client, "east_officer")
        assert client.get("/api/v1/assessments", headers=east).json() == []
        assert client.get(f"/api/v1/assessments/{number}", headers=east).status_code == 404
        worker = login(client, "w1_worker")
        r = client.post(f"/api/v1/assessments/{number}/conclude", headers=worker)
        assert r.status_code in (403, 404)
    runner = CliRunner()
    result = runner.invoke(cli_app, ["assessments", "experts"])
    assert result.exit_code == 0 and "研究院" in result.output
    result = runner.invoke(cli_app, ["assessments", "list", "--state", "postponed"])
    assert result.exit_code == 0 and number in result.output
    result = runner.invoke(cli_app, ["assessments", "show", number])
    assert result.exit_code == 0 and "postponed" in result.output
    out = tmp_path / "report.html"
    result = runner.invoke(cli_app, ["assessments", "report", number, "--out", str(out)])
    assert result.exit_code == 0 and "滨河路拓宽" in out.read_text("utf-8")
