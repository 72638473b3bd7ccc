"""The cases HTTP API: the flow, scope (404/403), problem+json for bad input."""

from __future__ import annotations

import struct
import zlib

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from pingan.cases.attachments import MAX_BYTES
from pingan.kit.audit import AuditEntry
from pingan.kit.db import session_scope
from tests.cases.conftest import login
from tests.citykit import grid_centre

LON, LAT = grid_centre("W1")
BODY = {"category": "blocked_passage", "title": "Fire exit blocked", "lon": LON, "lat": LAT}


def _file(client: TestClient, h: dict[str, str]) -> dict[str, object]:
    r = client.post("/api/v1/cases", json=BODY, headers=h)
    assert r.status_code == 201, r.text
    return dict(r.json())


def _go(client: TestClient, h: dict[str, str], case_id: object, name: str, **fields: object) -> int:
    r = client.post(
        f"/api/v1/cases/{case_id}/transitions",
        json={"transition": name, "fields": fields},
        headers=h,
    )
    return r.status_code


def test_flow_over_http(client: TestClient, people: dict[str, int]) -> None:
    worker, officer = login(client, "w1_worker"), login(client, "west_officer")
    case = _file(client, worker)
    assert str(case["number"]).startswith("GE-") and str(case["number"]).endswith("-000001")
    assert case["state"] == "reported" and case["allowed_transitions"] == ["accept", "cancel"]
    for name, fields in [
        ("accept", {}),
        ("dispatch", {}),
        ("start", {}),
        ("feedback", {"result": "cleared"}),
    ]:
        assert _go(client, officer, case["id"], name, **fields) == 200
    assert _go(client, worker, case["id"], "verify") == 200
    r = client.post(f"/api/v1/cases/{case['id']}/comments", json={"text": "thanks"}, headers=worker)
    assert r.status_code == 201
    detail = client.get(f"/api/v1/cases/{case['id']}", headers=worker).json()
    assert detail["state"] == "verified" and not detail["is_open"]
    assert detail["department"] == "fire_safety"
    kinds = [e["kind"] for e in detail["timeline"]]
    assert kinds[0] == "created" and kinds[-1] == "comment"
    listed = client.get("/api/v1/cases?open=false&q=FIRE", headers=officer).json()
    kpis = client.get("/api/v1/cases/kpis?group=grid", headers=officer).json()
    assert [(k["id"], k["filed"], k["verified"]) for k in kpis] == [(detail["grid_id"], 1, 1)]
    assert [c["id"] for c in listed["items"]] == [case["id"]]


def test_scope_reads_404_writes_403(client: TestClient, people: dict[str, int]) -> None:
    case = _file(client, login(client, "w1_worker"))
    east = login(client, "east_officer")
    r = client.get(f"/api/v1/cases/{case['id']}", headers=east)
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert client.get("/api/v1/cases", headers=east).json()["items"] == []
    # visible to the grid worker, who may not accept it
    r = client.post(
        f"/api/v1/cases/{case['id']}/transitions",
        json={"transition": "accept"},
        headers=login(client, "w1_worker"),
    )
    assert r.status_code == 403
    assert client.get("/api/v1/cases").status_code == 401


def test_bad_input_is_problem_json(client: TestClient, people: dict[str, int]) -> None:
    worker, officer = login(client, "w1_worker"), login(client, "west_officer")
    r = client.post("/api/v1/cases", json={**BODY, "category": "unicorn"}, headers=worker)
    assert r.status_code == 422 and r.json()["field"] == "category"
    r = client.post("/api/v1/cases", json={**BODY, "lon": 121.5}, headers=worker)
    assert r.status_code == 422 and r.json()["field"] == "lat"  # outside every grid
    case = _file(client, worker)
    r = client.post(
        f"/api/v1/cases/{case['id']}/transitions", json={"transition": "verify"}, headers=officer
    )
    assert r.status_code == 409
    assert "not allowed from state 'reported'" in r.json()["detail"]
    with session_scope(client.app.state.engine) as s:  # type: ignore[attr-defined]
        before = len(list(s.scalars(select(AuditEntry.id))))
    r = client.post(
        f"/api/v1/cases/{case['id']}/attachments",
        files={"file": ("big.jpg", b"\xff\xd8\xff" + b"0" * MAX_BYTES, "image/jpeg")},
        headers=worker,
    )
    assert r.status_code == 413 and r.json()["field"] == "file"
    r = client.post(
        f"/api/v1/cases/{case['id']}/attachments",
        files={"file": ("x.exe", b"MZ\x90\x00", "image/jpeg")},
        headers=worker,
    )
    assert r.status_code == 422
    with session_scope(client.app.state.engine) as s:  # type: ignore[attr-defined]
        assert len(list(s.scalars(select(AuditEntry.id)))) == before  # nothing half-written


def _jpeg_with_exif() -> bytes:
    exif = b"Exif\x00\x00" + b"GPS-SECRET" * 10
    app1 = b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8" + app0 + app1 + b"\xff\xda\x00\x02" + b"pixels" + b"\xff\xd9"


def _png_with_exif() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"eXIf", b"GPS-SECRET")
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


def test_photos_lose_exif(client: TestClient, people: dict[str, int], engine: Engine) -> None:
    worker = login(client, "w1_worker")
    case = _file(client, worker)
    for name, data in (("a.jpg", _jpeg_with_exif()), ("b.png", _png_with_exif())):
        r = client.post(
            f"/api/v1/cases/{case['id']}/attachments",
            files={"file": (name, data, "application/octet-stream")},
            data={"purpose": "evidence"},
            headers=worker,
        )
        assert r.status_code == 201, r.text
        got = client.get(f"/api/v1/cases/{case['id']}/attachments/{r.json()['id']}", headers=worker)
        assert got.status_code == 200 and b"GPS-SECRET" not in got.content
        assert got.content[:4] == data[:4] and len(got.content) < len(data)
    kept = client.post(
        f"/api/v1/cases/{case['id']}/attachments",
        files={"file": ("c.jpg", _jpeg_with_exif(), "image/jpeg")},
        data={"keep_exif": "true"},
        headers=worker,
    )
    assert kept.status_code == 201 and kept.json()["size"] == len(_jpeg_with_exif())


def test_patrol_checkins(client: TestClient, people: dict[str, int]) -> None:
    worker = login(client, "w1_worker")
    r = client.post("/api/v1/cases/checkins", json={"lon": LON, "lat": LAT}, headers=worker)
    assert r.status_code == 201, r.text
    e2 = grid_centre("E2")
    r = client.post("/api/v1/cases/checkins", json={"lon": e2[0], "lat": e2[1]}, headers=worker)
    assert r.status_code == 403  # not the worker's grid
    seen = client.get("/api/v1/cases/checkins", headers=login(client, "west_officer")).json()
    assert [c["user_id"] for c in seen] == [people["w1_worker"]]
    assert client.get("/api/v1/cases/checkins", headers=login(client, "east_officer")).json() == []
