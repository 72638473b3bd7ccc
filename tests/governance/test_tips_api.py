"""Anonymous tips over HTTP: nothing that identifies the tipster reaches the database
or the logs (the app's request log and uvicorn's access log on a real server), the
two-way dialogue by number + PIN, errors as problem+json, the staff side to payment."""

from __future__ import annotations

import io
import logging
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine, LargeBinary, inspect, select, text

from pingan.app import create_app
from pingan.kit.db import session_scope
from pingan.settings import get_settings
from tests.citykit import TestCity, unit
from tests.governance.test_petitions import PASSWORD, make_people

# Each of these identifies the sender; none may be stored or logged.
FORWARDED_IP = "203.0.113.77"
DEVICE_ID = "dev-5f3e77aa91"
USER_AGENT = "TipsterPhone/9.9 (serial SN-889900)"
TRACES = (FORWARDED_IP, DEVICE_ID, "SN-889900", "TipsterPhone", "testclient", "198.51.100.5")
IDENTIFYING = {
    "X-Forwarded-For": FORWARDED_IP,
    "X-Real-IP": "198.51.100.5",
    "X-Device-Id": DEVICE_ID,
    "User-Agent": USER_AGENT,
    "Cookie": f"device={DEVICE_ID}",
}
PIN = "lantern-4412"


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


def photo() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "TipsterPhone"
    exif[0xA431] = "SN-889900"  # BodySerialNumber
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 200, 10)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def every_stored_value(engine: Engine) -> list[str]:
    """Every value of every column of every table, as text (bytes decoded loosely)."""
    found: list[str] = []
    tables = inspect(engine).get_table_names()
    with engine.connect() as conn:
        for table in tables:
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        found.append(bytes(value).decode("latin-1"))
                    elif value is not None:
                        found.append(str(value))
    assert len(tables) > 20 and found
    return found


def test_an_anonymous_tip_leaves_no_trace(
    client: TestClient, engine: Engine, people: dict[str, int], caplog: pytest.LogCaptureFixture
) -> None:
    picture = photo()  # made before capture starts: only the server's logs are judged
    caplog.set_level(logging.DEBUG)
    r = client.post(
        "/api/v1/public/tips",
        headers=IDENTIFYING,
        json={
            "category": "tip.fraud",
            "content": "A fake investment club meets at the tea house",
            "place": "old town",
            "pin": PIN,
        },
    )
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    r = client.post(
        f"/api/v1/public/tips/{number}/messages",
        headers=IDENTIFYING,
        json={"pin": PIN, "text": "They meet on Tuesdays"},
    )
    assert r.status_code == 201
    upload = {"file": ("IMG_SN-889900.jpg", picture, "image/jpeg")}
    r = client.post(
        f"/api/v1/public/tips/{number}/attachments",
        headers=IDENTIFYING,
        data={"pin": PIN},
        files=upload,
    )
    assert r.status_code == 201, r.text
    office = login(client, "office")
    staff = client.get(f"/api/v1/tips/{number}", headers=office).json()
    assert staff["content"].startswith("A fake") and staff["attachment_ids"]
    reply = client.post(
        f"/api/v1/tips/{number}/messages",
        headers=office,
        json={"text": "Thank you. Which tea house?"},
    )
    assert reply.status_code == 201
    view = client.post(
        f"/api/v1/public/tips/{number}/read", headers=IDENTIFYING, json={"pin": PIN}
    ).json()
    assert [m["sender"] for m in view["messages"]] == ["tipster", "staff"]
    assert "office" not in str(view)

    stored = "\n".join(every_stored_value(engine))
    assert number in stored and "tea house" in stored  # the scan does see the tip
    for trace in TRACES:
        assert trace not in stored, trace
    with session_scope(engine) as s:
        from pingan.governance.tips_models import TipAttachment

        data = s.scalars(select(TipAttachment.data)).one()
        assert b"Exif" not in data and len(data) > 100
        columns = {c["name"] for c in inspect(engine).get_columns("tips")}
        assert not columns & {"ip", "ip_address", "user_agent", "device_id", "user_id"}
        assert not [
            c
            for c in inspect(engine).get_columns("tip_attachments")
            if isinstance(c["type"], LargeBinary) is False and c["name"] == "filename"
        ]

    logged = "\n".join(f"{rec.getMessage()} {rec.__dict__}" for rec in caplog.records)
    assert "/api/v1/public/tips" in logged  # the request log line is there, without traces
    for trace in TRACES:
        assert trace not in logged, trace


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_uvicorn_access_log_never_shows_a_tipsters_address(
    engine: Engine, people: dict[str, int]
) -> None:
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(get_settings(), engine),
            host="127.0.0.1",
            port=port,
            access_log=True,
            log_level="info",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    access = logging.getLogger("uvicorn.access")
    capture = _Capture()
    try:
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.05)
        assert server.started
        access.disabled = False
        access.addHandler(capture)
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=30) as http:
            assert http.get("/healthz").status_code == 200
            r = http.post(
                "/api/v1/public/tips",
                json={"category": "tip.drugs", "content": "parcel drops at the bridge", "pin": PIN},
            )
            assert r.status_code == 201, r.text
            number = r.json()["number"]
            assert http.post(f"/api/v1/public/tips/{number}/read", json={"pin": PIN}).is_success
    finally:
        access.removeHandler(capture)
        server.should_exit = True
        thread.join(timeout=10)
    tips_lines = [x for x in capture.lines if "/api/v1/public/tips" in x]
    health = [x for x in capture.lines if "/healthz" in x]
    assert len(tips_lines) == 2 and health
    assert "127.0.0.1" in health[0]  # the capture does see addresses elsewhere
    for line in tips_lines:
        assert "127.0.0.1" not in line and line.startswith("- ")


def test_public_errors_and_the_staff_side_to_payment(
    client: TestClient, engine: Engine, people: dict[str, int]
) -> None:
    r = client.post(
        "/api/v1/public/tips", json={"category": "tip.nope", "content": "x", "pin": PIN}
    )
    assert r.status_code == 422 and r.json()["field"] == "category"
    r = client.post(
        "/api/v1/public/tips", json={"category": "tip.fraud", "content": "x", "pin": "1"}
    )
    assert r.status_code == 422  # schema: at least 6 characters
    tip = {"category": "tip.gambling", "content": "card game for money", "pin": PIN}
    r = client.post("/api/v1/public/tips", json=tip)
    number = r.json()["number"]
    r = client.post(f"/api/v1/public/tips/{number}/read", json={"pin": "wrong-pin"})
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    r = client.post(
        f"/api/v1/public/tips/{number}/attachments",
        data={"pin": PIN},
        files={"file": ("a.pdf", b"%PDF-1.4 doc", "application/pdf")},
    )
    assert r.status_code == 422 and "only JPEG and PNG" in r.json()["detail"]
    assert client.get("/api/v1/tips").status_code == 401

    office, west = login(client, "office"), login(client, "west")
    a, b = login(client, "cashier_a"), login(client, "cashier_b")

    def go(h: dict[str, str], name: str, **fields: object) -> int:
        return client.post(
            f"/api/v1/tips/{number}/steps", headers=h, json={"transition": name, "fields": fields}
        ).status_code

    assert go(office, "triage", level="normal") == 200
    assert go(office, "refer", unit_id=unit_id(engine, "DW")) == 200
    assert go(west, "conclude", outcome="maybe") == 422
    assert go(west, "conclude", outcome="partly_confirmed") == 200
    r = client.post(f"/api/v1/tips/{number}/rewards", headers=west, json={"amount_yuan": 500})
    assert r.status_code == 201, r.text
    reward_id = r.json()["id"]
    assert r.json()["tier"] == "C" and r.json()["status"] == "proposed"
    r = client.post(f"/api/v1/tips/rewards/{reward_id}/decision", headers=a, json={"approve": True})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    r = client.post("/api/v1/tips/rewards/pay", headers=b, json={"number": number, "pin": "nope"})
    assert r.status_code == 404
    r = client.post("/api/v1/tips/rewards/pay", headers=b, json={"number": number, "pin": PIN})
    assert r.status_code == 200 and r.json()["status"] == "paid"
    book = client.get("/api/v1/tips/ledger", headers=a).json()
    assert book["balances_fen"] == {"reward_expense": 50_000, "rewards_payable": 0, "cash": -50_000}
    assert book["balanced"] and book["cash_matches_paid"]
    stats = client.get("/api/v1/tips/statistics", headers=office).json()
    assert stats["by_category"] == {"tip.gambling": 1} and stats["by_outcome"] == {
        "partly_confirmed": 1
    }


def unit_id(engine: Engine, code: str) -> int:
    with session_scope(engine) as s:
        return unit(s, code).id


def test_tips_cli(engine: Engine, people: dict[str, int]) -> None:
    from typer.testing import CliRunner

    from pingan.cli import app as cli_app
    from pingan.governance import tips
    from pingan.governance.tips_schemas import TipIn

    with session_scope(engine) as s:
        number = tips.create_tip(
            s, tip_in=TipIn(category="tip.pollution", content="oil in the creek", pin=PIN)
        ).number
    runner = CliRunner()
    result = runner.invoke(cli_app, ["tips", "list"])
    assert result.exit_code == 0 and number in result.output
    result = runner.invoke(cli_app, ["tips", "stats"])
    assert result.exit_code == 0 and "tip.pollution" in result.output
    result = runner.invoke(cli_app, ["tips", "ledger"])
    assert result.exit_code == 0 and "balanced" in result.output
    assert runner.invoke(cli_app, ["tips", "rewards"]).exit_code == 0


def test_wrong_pins_over_http_lock_the_tip(
    client: TestClient, engine: Engine, people: dict[str, int]
) -> None:
    tip = {"category": "tip.drugs", "content": "a van at the pier", "pin": PIN}
    number = client.post("/api/v1/public/tips", json=tip).json()["number"]
    for _ in range(5):
        r = client.post(f"/api/v1/public/tips/{number}/read", json={"pin": "guess-000"})
        assert r.status_code == 404
    r = client.post(f"/api/v1/public/tips/{number}/read", json={"pin": PIN})
    assert r.status_code == 409 and "too many wrong PINs" in r.json()["detail"]
