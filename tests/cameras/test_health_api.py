"""The camera health HTTP API: batches (JSON and NDJSON), scope, problems, reads."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from functools import lru_cache

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from pingan.app import create_app
from pingan.kit.db import session_scope, utcnow
from pingan.kit.security import hash_password
from pingan.org import users
from pingan.settings import get_settings
from tests.api.conftest import PASSWORD, PEOPLE, login
from tests.cameras.test_health_kit import SYSTEM, add_cameras, add_owner, beat
from tests.citykit import TestCity, unit


@lru_cache(maxsize=1)
def _password_hash() -> str:
    # One argon2 hash for every test user: hashing per user dominated setup time.
    return hash_password(PASSWORD)


@pytest.fixture
def people(engine: Engine, city: TestCity) -> dict[str, int]:
    """The API tests' users (tests/api/conftest.py), with their grants."""
    ids = {}
    with session_scope(engine) as s:
        for name, (role, code) in PEOPLE.items():
            user = users.create_user(s, username=name, password=None, is_service=True, actor=SYSTEM)
            user.password_hash, user.is_service = _password_hash(), False
            if role is not None and code is not None:
                users.grant_role(s, user=user, role_name=role, unit=unit(s, code), actor=SYSTEM)
            ids[name] = user.id
    return ids


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(get_settings(), engine)) as test_client:
        yield test_client


@pytest.fixture
def cams(engine: Engine, city: TestCity) -> dict[str, list[int]]:
    with session_scope(engine) as s:
        add_owner(s, "pso", contact_phone="110")
        return {
            "west": add_cameras(s, "pso", "W1", 2),
            "east": add_cameras(s, "pso", "E1", 1, prefix="e"),
        }


def test_batch_as_json_applies_good_rows_and_names_bad_ones(
    client: TestClient, people: dict[str, int], cams: dict[str, list[int]]
) -> None:
    officer = login(client, "west_officer")
    t = utcnow() - dt.timedelta(minutes=1)
    w1, w2 = cams["west"]
    (e1,) = cams["east"]
    body = [beat(w1, t, fps=25), beat(w2, t, online=False), beat(e1, t), {"camera_id": w1}]
    r = client.post("/api/v1/cameras/health/heartbeats", json=body, headers=officer)
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["received"], out["accepted"], out["cameras"]) == (4, 2, 2)
    assert out["went_offline"] == [w2]
    assert [(x["index"], x["field"]) for x in out["rejected"]] == [(2, "camera_id"), (3, "at")]

    listed = client.get(
        "/api/v1/cameras/health/cameras", params={"state": "offline"}, headers=officer
    ).json()
    assert [c["camera_id"] for c in listed] == [w2]
    outages = client.get("/api/v1/cameras/health/outages?open=true", headers=officer).json()
    assert [(o["camera_id"], o["cause"], [n["kind"] for n in o["notices"]]) for o in outages] == [
        (w2, "reported", ["opened"])
    ]


def test_ndjson_problems_and_refusals(
    client: TestClient, people: dict[str, int], cams: dict[str, list[int]]
) -> None:
    url = "/api/v1/cameras/health/heartbeats"
    chief = login(client, "chief")
    t = utcnow() - dt.timedelta(seconds=5)
    lines = [json.dumps(beat(c, t)) for c in cams["west"] + cams["east"]] + ["not json"]
    r = client.post(
        url,
        content="\n".join(lines).encode(),
        headers={**chief, "Content-Type": "application/x-ndjson"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 3
    assert [(x["index"], x["field"]) for x in r.json()["rejected"]] == [(3, None)]
    # An owner's video system names cameras by its own ids.
    later = (t + dt.timedelta(seconds=1)).isoformat()
    own = [{"owner_camera_id": "c1", "at": later, "online": False},
           {"owner_camera_id": "nope", "at": later, "online": True}]  # fmt: skip
    r = client.post(url, params={"owner": "pso"}, json=own, headers=chief)
    assert r.status_code == 200, r.text
    assert r.json()["went_offline"] == [cams["west"][1]]
    assert [(x["index"], x["field"]) for x in r.json()["rejected"]] == [(1, "owner_camera_id")]
    assert client.post(url, params={"owner": "zzz"}, json=own, headers=chief).status_code == 422
    nobody = login(client, "nobody")
    assert client.post(url, json=[], headers=nobody).status_code == 403
    assert client.get("/api/v1/cameras/health/cameras", headers=nobody).status_code == 403
    chief = login(client, "chief")
    bad = client.post(
        url, content=b"{not json", headers={**chief, "Content-Type": "application/json"}
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert client.post(url, json={"camera_id": 1}, headers=chief).status_code == 422
    client.app.state.settings = client.app.state.settings.model_copy(  # type: ignore[attr-defined]
        update={"camera_heartbeat_max_batch": 2}
    )
    t = utcnow()
    big = client.post(url, json=[beat(cams["west"][0], t)] * 3, headers=chief)
    assert big.status_code == 413
    naive = client.get(
        "/api/v1/cameras/health/availability",
        params={"since": "2026-01-01T00:00:00"},
        headers=chief,
    )
    assert naive.status_code == 422


def test_reads_follow_org_scope_and_availability(
    client: TestClient, people: dict[str, int], cams: dict[str, list[int]]
) -> None:
    chief = login(client, "chief")
    t = utcnow() - dt.timedelta(minutes=30)
    rows = [beat(c, t) for c in cams["west"] + cams["east"]]
    assert (
        client.post("/api/v1/cameras/health/heartbeats", json=rows, headers=chief).status_code
        == 200
    )
    # Everyone is silent for 30 minutes: the check marks all three offline.
    check = client.post("/api/v1/cameras/health/check", headers=chief).json()
    assert sorted(check["went_silent"]) == sorted(cams["west"] + cams["east"])
    analyst = login(client, "east_analyst")
    seen = client.get("/api/v1/cameras/health/cameras", headers=analyst).json()
    assert [c["camera_id"] for c in seen] == cams["east"]
    assert client.post("/api/v1/cameras/health/check", headers=analyst).status_code == 403
    since = (t - dt.timedelta(minutes=30)).isoformat()
    avail = client.get(
        "/api/v1/cameras/health/availability",
        params={"since": since, "group_by": "area", "level": "district"},
        headers=analyst,
    )
    assert avail.status_code == 200, avail.text
    (row,) = avail.json()
    assert row["label"].startswith("DE ")
    assert row["cameras"] == 1 and row["outages"] == 1 and row["repaired"] == 0
    # Watched from t, offline from t (the last heartbeat) on: no uptime at all.
    assert row["uptime_pct"] == pytest.approx(0.0, abs=1e-6)
