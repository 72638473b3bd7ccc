"""Bulk petition import (CLI and API): clocks from the received date, bad rows by line
number with the rest kept, idempotent by (channel, external reference), same-matter
detection as for single intake.

Deadlines are those of ``test_petitions`` (mainland holidays of 2026): a matter
received on 16 Sep must be registered by Thu 8 Oct (1 Oct is a holiday).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from pingan.app import create_app
from pingan.cases.models import Case
from pingan.cli import app as cli_app
from pingan.governance import petitions, petitions_import
from pingan.governance.petitions_calendar import load_mainland_holidays
from pingan.governance.petitions_models import Petition, PetitionRepresentative
from pingan.kit.audit import verify_chain
from pingan.kit.db import session_scope
from pingan.kit.security import verify_password
from pingan.org.principal import Principal
from pingan.settings import get_settings
from tests.cases.conftest import login
from tests.citykit import TestCity
from tests.governance.test_petitions import last_day, make_people

ELEVATOR = "小区电梯停运三个月，物业不予维修，老人无法下楼。"
HEADER = ["channel", "external_ref", "received", "category", "unit", "matter", "requests",
          "petitioner_name", "petitioner_phone", "is_group", "headcount",
          "representatives"]  # fmt: skip
ROWS = [
    # line 2: a letter received on a date
    ["letter", "L-001", "2026-09-16", "petition.housing", "C", ELEVATOR, "修电梯", "张三",
     "138 0000 1111", "", "", ""],
    # lines 3-4: a matter over two lines (quoted), received at a time
    ["web", "W-17", "2026-09-20T15:30:00+08:00", "petition.labour_wages", "SW",
     "工地拖欠工资\n共计三个月", "", "李四", "", "", "", ""],
    # line 5: an unknown channel
    ["fax", "F-1", "2026-09-16", "petition.housing", "C", "x", "", "", "", "", "", ""],
    # line 6: no such date
    ["visit", "V-9", "2026-02-30", "petition.housing", "C", "y", "", "", "", "", "", ""],
    # line 7: an unknown registering office
    ["visit", "V-10", "2026-09-16", "petition.housing", "NOPE", "z", "", "", "", "", "", ""],
    # line 8: a group of six naming two representatives
    ["visit", "V-11", "2026-09-17", "petition.land_resettlement", "C", "征地补偿未到位",
     "", "", "", "true", "6", "王五|139 0000 2222; 赵六"],
    # line 9: the elevator again, by phone, same person: the same matter
    ["phone", "P-300", "2026-09-18", "petition.housing", "C",
     "小区电梯已经停运三个月了，物业不予维修，老人无法下楼", "", "张三", "13800001111", "", "",
     ""],
    # line 10: a group without representatives
    ["visit", "V-12", "2026-09-17", "petition.housing", "C", "w", "", "", "", "yes", "3", ""],
]  # fmt: skip


def _write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def _count(engine: Engine) -> int:
    with session_scope(engine) as s:
        return int(s.scalar(select(func.count(Petition.case_id))) or 0)


def test_cli_import_keeps_good_rows_reports_bad_ones_and_is_idempotent(
    engine: Engine, city: TestCity, tmp_path: Path
) -> None:
    make_people(engine)
    with session_scope(engine) as s:
        load_mainland_holidays(s, 2026)
    source = _write_csv(tmp_path / "letters.csv", ROWS)
    codes = tmp_path / "codes.csv"
    runner = CliRunner()
    result = runner.invoke(cli_app, ["petitions", "import", str(source), "--codes", str(codes)])
    assert result.exit_code == 1, result.output  # some rows failed
    assert "4 imported, 0 already imported, 4 failed" in result.output
    with session_scope(engine) as s:
        found = {
            p.case_id: (c, p)
            for c, p in s.execute(
                select(Case, Petition).join(Petition, Petition.case_id == Case.id)
            )
        }
        by_ref = {c.idempotency_key: (c, p) for c, p in found.values()}
        letter, _p = by_ref["petition:letter:L-001"]
        # Received 16 Sep: register within 15 days, 1 Oct being a holiday -> Thu 8 Oct.
        assert last_day(s, letter, "register") == dt.date(2026, 10, 8)
        _web, web_p = by_ref["petition:web:W-17"]
        assert web_p.received_at == dt.datetime(2026, 9, 20, 7, 30, tzinfo=dt.UTC)
        assert web_p.matter == "工地拖欠工资\n共计三个月"
        group, group_p = by_ref["petition:visit:V-11"]
        assert group_p.is_group and group_p.headcount == 6
        reps = s.scalars(
            select(PetitionRepresentative.name).where(PetitionRepresentative.case_id == group.id)
        ).all()
        assert list(reps) == ["王五", "赵六"]
        _phone, phone_p = by_ref["petition:phone:P-300"]
        assert phone_p.same_matter_as_id == letter.id
        assert verify_chain(s).ok
    with codes.open(encoding="utf-8") as f:
        written = list(csv.DictReader(f))
    assert [w["external_ref"] for w in written] == ["L-001", "W-17", "V-11", "P-300"]
    with session_scope(engine) as s:
        stored = s.scalar(
            select(Petition.lookup_hash)
            .join(Case, Case.id == Petition.case_id)
            .where(Case.idempotency_key == "petition:letter:L-001")
        )
        assert stored is not None and verify_password(stored, written[0]["query_code"])

    # The report names each bad row by line and reason (multi-line rows count their lines).
    with session_scope(engine) as s:
        rows = [
            (line, raw) for line, raw in petitions_import.read_records(source.read_text(), "csv")
        ]
        assert [line for line, _raw in rows] == [2, 3, 5, 6, 7, 8, 9, 10]
        report = petitions_import.import_records(s, rows, actor=Principal.system("test"))
        failures = {r.line: r for r in report.rows if r.status == "failed"}
        assert sorted(failures) == [5, 6, 7, 10]
        assert "channel must be one of" in (failures[5].error or "")
        assert failures[6].field == "received"
        assert "org unit 'NOPE' not found" in (failures[7].error or "")
        assert "names its representatives" in (failures[10].error or "")
        assert (report.imported, report.existing) == (0, 4)  # the re-run adds nothing
    assert _count(engine) == 4
    again = runner.invoke(cli_app, ["petitions", "import", str(source)])
    assert "0 imported, 4 already imported, 4 failed" in again.output
    assert _count(engine) == 4


def test_cli_file_level_errors(engine: Engine, city: TestCity, tmp_path: Path) -> None:
    make_people(engine)
    bad = tmp_path / "bad.csv"
    bad.write_text("channel,external_ref,recieved\nletter,1,2026-09-16\n", encoding="utf-8")
    result = CliRunner().invoke(cli_app, ["petitions", "import", str(bad)])
    assert result.exit_code == 1
    assert "line 1: unknown column(s) recieved" in result.output
    odd = tmp_path / "rows.txt"
    odd.write_text("{}", encoding="utf-8")
    result = CliRunner().invoke(cli_app, ["petitions", "import", str(odd)])
    assert result.exit_code == 1 and "cannot tell the format" in result.output
    assert _count(engine) == 0


def test_api_import_of_json_lines(engine: Engine, city: TestCity) -> None:
    make_people(engine)
    good = {"channel": "web", "external_ref": "W-1", "received": "2026-09-16",
            "category": "petition.housing", "unit": "C", "matter": ELEVATOR,
            "petitioner_name": "张三", "representatives": []}  # fmt: skip
    lines = [
        json.dumps(good, ensure_ascii=False),
        "",
        "{not json",
        json.dumps({**good, "external_ref": "W-2", "unit": "SW", "matter": "路灯不亮"}),
        json.dumps([1, 2]),
        json.dumps({**good, "external_ref": "W-3", "color": "red"}),
    ]
    body = "\n".join(lines).encode()
    with TestClient(create_app(get_settings(), engine)) as client:
        h = login(client, "sw")  # an officer of the west subdistrict only
        files = {"file": ("batch.jsonl", body, "application/x-ndjson")}
        r = client.post("/api/v1/petitions/import", headers=h, files=files)
        assert r.status_code == 200, r.text
        report = r.json()
        assert (report["imported"], report["existing"], report["failed"]) == (1, 0, 4)
        by_line = {row["line"]: row for row in report["rows"]}
        assert sorted(by_line) == [1, 3, 4, 5, 6]
        assert by_line[1]["status"] == "failed"  # the city's office is out of the sw's scope
        assert "not JSON" in by_line[3]["error"]
        assert by_line[4]["status"] == "imported" and by_line[4]["number"].startswith("XF-")
        assert by_line[5]["error"] == "each line must be a JSON object"
        assert by_line[6]["field"] == "color"
        again = client.post("/api/v1/petitions/import", headers=h, files=files).json()
        assert (again["imported"], again["existing"]) == (0, 1)
        xls = {"file": ("batch.xls", body, "application/octet-stream")}
        r = client.post("/api/v1/petitions/import", headers=h, files=xls)
        assert r.status_code == 422
        assert r.headers["content-type"].startswith("application/problem+json")
    assert _count(engine) == 1
    with session_scope(engine) as s:
        case, _petition = petitions.load(s, by_line[4]["number"])
        assert case.unit_id != 0 and case.idempotency_key == "petition:web:W-2"
