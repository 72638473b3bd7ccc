"""The ONVIF probe against a tiny SOAP device started by the test on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from pingan.cameras import health_probe
from pingan.cameras.health_models import (
    CameraLiveState,
    CameraOutage,
    CameraOutageNotice,
    CameraProbeTarget,
)
from pingan.cli import app
from pingan.kit.db import session_scope, utcnow
from pingan.kit.errors import NotFound, ValidationFailed
from pingan.org.principal import Principal
from tests.cameras.test_health_kit import SYSTEM, add_cameras, add_owner
from tests.citykit import TestCity

DEVICE_AHEAD = dt.timedelta(seconds=90)

_ANSWER = """<?xml version="1.0" encoding="UTF-8"?>
<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"
  xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:tt="http://www.onvif.org/ver10/schema">
 <env:Body><tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>
  <tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>
  <tt:TimeZone><tt:TZ>CST-8</tt:TZ></tt:TimeZone>
  <tt:UTCDateTime>
   <tt:Time><tt:Hour>{t.hour}</tt:Hour><tt:Minute>{t.minute}</tt:Minute><tt:Second>{t.second}</tt:Second></tt:Time>
   <tt:Date><tt:Year>{t.year}</tt:Year><tt:Month>{t.month}</tt:Month><tt:Day>{t.day}</tt:Day></tt:Date>
  </tt:UTCDateTime>
 </tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse></env:Body>
</env:Envelope>"""


class _Device(BaseHTTPRequestHandler):
    calls: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        self.calls.append(self.path)
        if self.path != "/onvif/device_service" or "GetSystemDateAndTime" not in body:
            self.send_error(400)
            return
        answer = _ANSWER.format(t=utcnow() + DEVICE_AHEAD).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/soap+xml; charset=utf-8")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def device() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Device)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A socket that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield int(sock.getsockname()[1])
    sock.close()


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    sock.close()
    return port


def test_probe_reads_the_device_clock(device: int) -> None:
    _Device.calls.clear()
    result = health_probe.probe("127.0.0.1", device, timeout_s=5)
    assert result.ok, result.error
    assert _Device.calls == ["/onvif/device_service"]
    assert result.clock_offset_s is not None
    # The stub's clock runs 90 s ahead (whole seconds, and the answer takes a moment).
    assert 88 <= result.clock_offset_s <= 91


def test_probe_gives_up_after_the_timeout(silent_port: int) -> None:
    result = health_probe.probe("127.0.0.1", silent_port, timeout_s=0.5)
    assert not result.ok
    assert result.error == "no answer within the timeout"


def test_probe_of_a_closed_port_fails_cleanly() -> None:
    result = health_probe.probe("127.0.0.1", _closed_port(), timeout_s=1)
    assert not result.ok and result.error


def test_probe_results_drive_camera_health(
    engine: Engine, city: TestCity, device: int, silent_port: int
) -> None:
    with session_scope(engine) as s:
        add_owner(s, "pso")
        (cam,) = add_cameras(s, "pso", "W1", 1)
        health_probe.set_target(s, camera_id=cam, host="127.0.0.1", port=device, actor=SYSTEM)
        ok = health_probe.probe_camera(s, camera_id=cam, actor=SYSTEM)
        assert ok.ok
    with session_scope(engine) as s:
        state = s.get(CameraLiveState, cam)
        assert state is not None and state.state == "online"
        target = s.get(CameraProbeTarget, cam)
        assert target is not None and target.last_ok and target.clock_offset_s is not None
        # The device stops answering: the camera goes offline with cause "probe".
        health_probe.set_target(s, camera_id=cam, host="127.0.0.1", port=silent_port, actor=SYSTEM)
        failed = health_probe.probe_camera(s, camera_id=cam, actor=SYSTEM, timeout_s=0.5)
        assert not failed.ok
    with session_scope(engine) as s:
        outage = s.scalars(select(CameraOutage)).one()
        assert (outage.camera_id, outage.cause, outage.ended_at) == (cam, "probe", None)
        assert s.scalars(select(CameraOutageNotice.kind)).all() == ["opened"]
        # Answering again ends the outage.
        health_probe.set_target(s, camera_id=cam, host="127.0.0.1", port=device, actor=SYSTEM)
        assert health_probe.probe_camera(s, camera_id=cam, actor=SYSTEM).ok
    with session_scope(engine) as s:
        assert s.scalars(select(CameraOutage)).one().ended_at is not None
        # The periodic job probes every recorded camera in parallel.
        (other,) = add_cameras(s, "pso", "W2", 1, prefix="o")
        health_probe.set_target(
            s, camera_id=other, host="127.0.0.1", port=silent_port, actor=SYSTEM
        )
    assert health_probe.probe_all(engine, timeout_s=0.5) == {"probed": 2, "ok": 1, "failed": 1}
    with session_scope(engine) as s:
        assert [
            t.last_ok
            for t in s.scalars(select(CameraProbeTarget).order_by(CameraProbeTarget.camera_id))
        ] == [True, False]


def test_targets_are_validated_and_scoped_and_the_cli_probes(
    engine: Engine, city: TestCity, device: int
) -> None:
    with session_scope(engine) as s:
        add_owner(s, "pso")
        (cam,) = add_cameras(s, "pso", "W1", 1)
        with pytest.raises(ValidationFailed):
            health_probe.set_target(s, camera_id=cam, host="x/../y", port=80, actor=SYSTEM)
        with pytest.raises(ValidationFailed):
            health_probe.probe_camera(s, camera_id=cam, actor=SYSTEM)  # no address yet
        nobody = Principal(user_id=None, username="nobody")
        with pytest.raises(NotFound):
            health_probe.set_target(s, camera_id=cam, host="10.0.0.1", port=80, actor=nobody)
    runner = CliRunner()
    args = ["cameras", "health", "probe", str(cam), "--host", "127.0.0.1", "--port", str(device)]
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    assert f"camera {cam}: online" in done.output
    args = ["cameras", "health", "probe", str(cam), "--host", "127.0.0.1",
            "--port", str(_closed_port()), "--timeout", "0.5"]  # fmt: skip
    failed = runner.invoke(app, args)
    assert failed.exit_code == 2 and "no answer" in failed.output
