"""Importing incidents from CSV: line numbers, idempotency, file-level errors."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from pingan.incidents.import_read import RowError, read_incident_rows
from pingan.incidents.importers import ImportStopped, import_incidents, write_rejected_csv
from pingan.incidents.models import Incident
from pingan.incidents.schemas import IntakeResult
from pingan.kit.db import session_scope
from pingan.kit.vectorfile import FileRejected
from tests.citykit import TestCity

WHEN = "2026-03-01T08:30:00+08:00"

# Physical lines: the header is line 1; line 4 is blank; lines 6-7 are one
# record (a quoted summary spanning two lines).
MIXED_CSV = (
    "type,occurred_at,lon,lat,external_id,summary,colour\n"  # 1
    f"theft.bicycle,{WHEN},120.005,30.01,a1,first,red\n"  # 2 ok
    f"alien.abduction,{WHEN},120.005,30.01,a2,,\n"  # 3 unknown type
    "\n"  # 4 blank
    f"fire,{WHEN},120.015,95,a3,,\n"  # 5 latitude out of range
    f'theft.bicycle,{WHEN},120.025,30.01,a4,"two\nlines",\n'  # 6-7 ok
    f"theft.bicycle,{WHEN},121.5,30.01,a5,,\n"  # 8 outside the city
    f"theft.bicycle,{WHEN},120.005\n"  # 9 too few fields
    f"fight,{WHEN},120.035,30.01,a6,,blue\n"  # 10 ok
    f"fight,not a time,120.035,30.01,a7,,\n"  # 11 bad time
)


def _write(tmp_path: Path, text: str, name: str = "incidents.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _count(engine: Engine) -> int:
    with session_scope(engine) as session:
        return int(session.scalar(select(func.count(Incident.id))) or 0)


def test_reader_numbers_rows_by_physical_line(tmp_path: Path) -> None:
    rows = list(read_incident_rows(_write(tmp_path, MIXED_CSV)))
    assert [line for line, _ in rows] == [2, 3, 5, 6, 8, 9, 10, 11]
    by_line = dict(rows)
    assert by_line[6] == {
        "type": "theft.bicycle",
        "occurred_at": WHEN,
        "lon": "120.025",
        "lat": "30.01",
        "external_id": "a4",
        "summary": "two\nlines",
        "source": "import",
    }
    bad = by_line[9]
    assert isinstance(bad, RowError) and "3 fields, the header has 7" in bad.reason


def test_an_unreadable_record_is_skipped_not_fatal(tmp_path: Path) -> None:
    huge = "x" * 200_000  # beyond the csv module's field size limit
    text = (
        "type,occurred_at,lon,lat,summary\n"
        f"fire,{WHEN},1,2,a\n"
        f'fire,{WHEN},1,2,"{huge}"\n'
        f"fire,{WHEN},1,2,b\n"
    )
    rows = list(read_incident_rows(_write(tmp_path, text)))
    assert [line for line, _ in rows] == [2, 3, 4]
    bad = rows[1][1]
    assert isinstance(bad, RowError) and "field larger than field limit" in bad.reason
    assert rows[2][1] == {
        "type": "fire", "occurred_at": WHEN, "lon": "1", "lat": "2", "summary": "b",
        "source": "import",
    }  # fmt: skip


def test_bad_rows_are_reported_by_line_and_good_rows_kept(
    engine: Engine, city: TestCity, tmp_path: Path
) -> None:
    summary = import_incidents(_write(tmp_path, MIXED_CSV), engine=engine, batch_size=2)
    assert summary.unit == "line" and summary.read == 8
    assert (summary.accepted, summary.duplicates) == (3, 0)
    reasons = {r.number: (r.field, r.reason) for r in summary.rejected}
    assert sorted(reasons) == [3, 5, 8, 9, 11]
    assert reasons[3][0] == "type" and "alien.abduction" in reasons[3][1]
    assert reasons[5][0] == "lat"
    assert "outside every grid" in reasons[8][1]
    assert reasons[11][0] == "occurred_at"
    assert summary.ignored_columns == ["colour"]
    assert _count(engine) == 3
    with session_scope(engine) as session:
        stored = session.scalar(select(Incident).where(Incident.external_id == "a4"))
        assert stored is not None and stored.summary == "two\nlines" and stored.source == "import"


def test_reimport_stores_nothing_twice(engine: Engine, city: TestCity, tmp_path: Path) -> None:
    path = _write(tmp_path, MIXED_CSV)
    first = import_incidents(path, engine=engine)
    again = import_incidents(path, engine=engine)
    assert first.accepted == 3
    assert (again.accepted, again.duplicates, len(again.rejected)) == (0, 3, 5)
    assert _count(engine) == 3


def test_default_source_and_per_row_source(engine: Engine, city: TestCity, tmp_path: Path) -> None:
    text = (
        "Type,Occurred_At,Longitude,Latitude,Source,External_ID,Severity\n"
        f"fire,{WHEN},120.005,30.01,patrol,x,5\n"
        f"fire,{WHEN},120.005,30.01,,x,\n"
    )
    summary = import_incidents(_write(tmp_path, text), engine=engine, default_source="call")
    assert summary.accepted == 2  # same external_id, different sources
    with session_scope(engine) as session:
        got = {s: v for s, v in session.execute(select(Incident.source, Incident.severity))}
    assert got["patrol"] == 5
    assert got["call"] == 4  # the type's default severity for fire


def test_a_failing_batch_keeps_earlier_batches(
    engine: Engine, city: TestCity, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pingan.incidents import importers, service

    rows = [f"theft.bicycle,{WHEN},120.005,30.01,k{i}" for i in range(5)]
    path = _write(tmp_path, "type,occurred_at,lon,lat,external_id\n" + "\n".join(rows) + "\n")
    real_intake = service.intake_batch
    calls = {"n": 0}

    def fail_second_batch(session: Session, **kwargs: Any) -> IntakeResult:
        calls["n"] += 1
        result = real_intake(session, **kwargs)
        if calls["n"] == 2:
            raise RuntimeError("disk full")  # after writing: the transaction must roll back
        return result

    monkeypatch.setattr(importers, "intake_batch", fail_second_batch)
    with pytest.raises(ImportStopped, match="stopped at line 4 after storing 2 incidents"):
        import_incidents(path, engine=engine, batch_size=2)
    assert _count(engine) == 2
    monkeypatch.setattr(importers, "intake_batch", real_intake)
    progress: list[tuple[int, int]] = []
    again = import_incidents(
        path, engine=engine, batch_size=2, progress=lambda d, t: progress.append((d, t))
    )
    assert (again.accepted, again.duplicates) == (3, 2)
    assert _count(engine) == 5
    assert progress[-1] == (5, 5)


def test_missing_required_column_names_it(engine: Engine, city: TestCity, tmp_path: Path) -> None:
    path = _write(tmp_path, "type,occurred_at,lon\nfire,2026-03-01T08:00:00Z,120.0\n")
    with pytest.raises(FileRejected, match="missing required column 'lat'") as caught:
        import_incidents(path, engine=engine)
    assert caught.value.field == "lat"
    assert _count(engine) == 0


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "empty"),
        ("latin1.csv", b"type,occurred_at,lon,lat\nfire,2026,120,30,caf\xe9\n", "not UTF-8"),
        ("data.xlsx", b"PK\x03\x04", "unknown format"),
    ],
)
def test_unreadable_files_are_rejected_whole(
    engine: Engine, city: TestCity, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(FileRejected, match=message):
        import_incidents(path, engine=engine)


def test_latin1_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"type,occurred_at,lon,lat\nfire,x,1,2\nfire,caf\xe9,1,2\n")
    with pytest.raises(FileRejected, match=r"line 3"):
        read_incident_rows(path)


def test_no_grids_means_no_import(engine: Engine, tmp_path: Path) -> None:
    from pingan.kit.errors import NotFound

    with pytest.raises(NotFound, match="no grids"):
        import_incidents(_write(tmp_path, MIXED_CSV), engine=engine)


def test_rejected_rows_file_can_be_fixed_and_reimported(
    engine: Engine, city: TestCity, tmp_path: Path
) -> None:
    summary = import_incidents(_write(tmp_path, MIXED_CSV), engine=engine)
    errors = tmp_path / "rejected.csv"
    write_rejected_csv(summary, errors)
    with errors.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["line"]) for r in rows] == [3, 5, 8, 9, 11]
    assert rows[0]["type"] == "alien.abduction" and rows[0]["external_id"] == "a2"
    assert rows[1]["field"] == "lat"
    # Fix the unknown type and import the errors file itself: one more incident.
    rows[0]["type"] = "theft"
    with errors.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows[:1])
    fixed = import_incidents(errors, engine=engine)
    assert fixed.accepted == 1 and _count(engine) == 4
