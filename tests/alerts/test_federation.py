"""Federation: our feed is signed and aggregated; a neighbour's feed served on 127.0.0.1 is
verified, stored and shown as its own layer; tampered or replayed feeds are refused."""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from pingan.alerts import federation
from pingan.alerts.federation_models import FederationPeer
from pingan.alerts.service import Signal, record_signal
from pingan.cli import app
from pingan.incidents.service import city_zone
from pingan.kit.db import session_scope
from pingan.org.principal import Principal
from tests.alerts.conftest import DAY
from tests.api.conftest import client, login, people  # noqa: F401  (fixtures)
from tests.citykit import TestCity

SYSTEM = Principal.system("test")
ALERT_KEYS = {
    "kind", "id", "method", "status", "incident_types", "window_start", "window_end",
    "statistic", "p_value", "recurrence_days", "observed", "expected",
}  # fmt: skip
HOTSPOT_KEYS = {"kind", "cell", "count_7d", "expected_7d", "p_value"}


def _alert(engine: Engine, city: TestCity) -> int:
    signal = Signal(
        method="ears.c3", org_unit_id=city.id("W2"), grid_ids=(city.id("W2"),),
        window_start=DAY, window_end=DAY, statistic=4.0, observed=9, expected=2.0,
    )  # fmt: skip
    with session_scope(engine) as session:
        return record_signal(session, signal=signal, actor=SYSTEM)[0].id


@dataclass
class Stub:
    body: bytes = b""
    signature: str = ""
    url: str = ""


@pytest.fixture
def neighbour() -> Iterator[Stub]:
    """A neighbour's feed endpoint on 127.0.0.1 serving whatever the test puts in it."""
    stub = Stub()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/geo+json")
            self.send_header(federation.SIGNATURE_HEADER, stub.signature)
            self.send_header("Content-Length", str(len(stub.body)))
            self.end_headers()
            self.wfile.write(stub.body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stub.url = f"http://127.0.0.1:{server.server_address[1]}/api/v1/federation/feed"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield stub
    server.shutdown()
    server.server_close()


def test_feed_is_signed_and_holds_only_aggregates(
    engine: Engine, city: TestCity, outbreak: dict[str, int]
) -> None:
    alert_id = _alert(engine, city)
    end_of_day = dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(), city_zone())
    with session_scope(engine) as session:
        body, signature = federation.build_feed(session, now=end_of_day)
        key = federation.public_key(session)
    raw_key = Ed25519PublicKey.from_public_bytes(base64.b64decode(key))
    raw_key.verify(base64.b64decode(signature.removeprefix("ed25519=")), body)  # raises if bad
    assert federation.verify(key, body, signature)
    assert not federation.verify(key, body.replace(b"ears.c3", b"ears.c2"), signature)
    doc = json.loads(body)
    alerts = [f for f in doc["features"] if f["properties"]["kind"] == "alert"]
    hot = [f for f in doc["features"] if f["properties"]["kind"] == "hotspot"]
    assert [f["properties"]["id"] for f in alerts] == [alert_id]
    assert all(set(f["properties"]) == ALERT_KEYS for f in alerts)
    # The planted W2 outbreak (25 thefts in the last 3 days) is the one hot cell.
    assert [f["properties"]["cell"] for f in hot] == ["W2"]
    assert all(set(f["properties"]) == HOTSPOT_KEYS for f in hot)
    assert hot[0]["properties"]["count_7d"] >= federation.MIN_CELL_COUNT


def test_neighbour_feed_is_verified_stored_and_served(
    engine: Engine,
    city: TestCity,
    neighbour: Stub,
    client: TestClient,  # noqa: F811
    people: dict[str, int],  # noqa: F811
) -> None:
    # The neighbour is another installation: its own feed and key, served on 127.0.0.1.
    _alert(engine, city)
    with session_scope(engine) as session:
        neighbour.body, neighbour.signature = federation.build_feed(session)
        key = federation.public_key(session)
    chief = login(client, "chief")
    body = {"name": "Eastern District", "url": neighbour.url, "public_key": key}
    added = client.post("/api/v1/federation/peers", json=body, headers=chief)
    assert added.status_code == 201, added.text
    peer_id = added.json()["id"]
    assert federation.poll_peers(engine) == {"ok": 1, "failed": 0}

    analyst = login(client, "east_analyst")
    layer = client.get(f"/api/v1/federation/peers/{peer_id}/layer", headers=analyst).json()
    assert layer["peer"] == "Eastern District" and layer["features"]
    assert {f["properties"]["peer"] for f in layer["features"]} == {"Eastern District"}
    good = layer["features"]

    # A tampered feed, and then a replay of the old good one, are refused; the layer stays.
    neighbour.body = neighbour.body.replace(b'"observed":9', b'"observed":90')
    assert federation.poll_peers(engine) == {"ok": 0, "failed": 1}
    with session_scope(engine) as session:
        peer = session.get(FederationPeer, peer_id)
        assert peer is not None and "signature" in (peer.last_error or "")
    neighbour.body = neighbour.body.replace(b'"observed":90', b'"observed":9')
    assert federation.poll_peers(engine) == {"ok": 0, "failed": 1}
    peers = client.get("/api/v1/federation/peers", headers=analyst).json()
    assert "not newer" in peers[0]["last_error"]
    again = client.get(f"/api/v1/federation/peers/{peer_id}/layer", headers=analyst).json()
    assert again["features"] == good


def test_feed_endpoint_and_peer_checks(
    engine: Engine,
    city: TestCity,
    client: TestClient,  # noqa: F811
    people: dict[str, int],  # noqa: F811
) -> None:
    _alert(engine, city)
    feed = client.get("/api/v1/federation/feed")
    assert feed.status_code == 200
    key = client.get("/api/v1/federation/key").json()["public_key"]
    assert federation.verify(key, feed.content, feed.headers[federation.SIGNATURE_HEADER])

    chief = login(client, "chief")
    bad_key = {"name": "n", "url": "http://127.0.0.1:9/feed", "public_key": "bm90IGEga2V5"}
    refused = client.post("/api/v1/federation/peers", json=bad_key, headers=chief)
    assert refused.status_code == 422 and "public_key" in refused.text
    officer = login(client, "west_officer")
    good = {**bad_key, "public_key": key}
    assert client.post("/api/v1/federation/peers", json=good, headers=officer).status_code == 403
    assert client.post("/api/v1/federation/peers", json=good, headers=chief).status_code == 201
    assert client.post("/api/v1/federation/peers", json=good, headers=chief).status_code == 409


def test_federation_cli(engine: Engine, city: TestCity, neighbour: Stub) -> None:
    runner = CliRunner()
    _alert(engine, city)
    shown = runner.invoke(app, ["alerts", "federation", "key"])
    assert shown.exit_code == 0, shown.output
    key = shown.output.strip()
    with session_scope(engine) as session:
        neighbour.body, neighbour.signature = federation.build_feed(session)
        assert key == federation.public_key(session)
    added = runner.invoke(app, ["alerts", "federation", "add", "North", neighbour.url, key])
    assert added.exit_code == 0, added.output
    polled = runner.invoke(app, ["alerts", "federation", "poll"])
    assert polled.exit_code == 0 and "1 feeds stored" in polled.output, polled.output
    listed = runner.invoke(app, ["alerts", "federation", "list"])
    assert listed.exit_code == 0 and "North" in listed.output
    bad = runner.invoke(app, ["alerts", "federation", "add", "X", neighbour.url, "short"])
    assert bad.exit_code != 0 and "public_key" in bad.output


def test_feed_signing_key_is_sealed_in_the_database(engine: Engine, city: TestCity) -> None:
    from pingan.kit import meta, sealed

    with session_scope(engine) as session:
        published = federation.public_key(session)
    with session_scope(engine) as session:
        stored = meta.get_value(session, federation.KEY_META)
        assert stored is not None and stored.startswith(sealed.PREFIX)
        # The same key is read back through the seal: the public half is unchanged.
        assert federation.public_key(session) == published
