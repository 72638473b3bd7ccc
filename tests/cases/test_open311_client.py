"""Open311 read calls through a real GeoReport v2 client library (georeport) over HTTP."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi.testclient import TestClient
from georeport import GeoReport
from sqlalchemy import Engine

from pingan.app import create_app
from pingan.settings import get_settings
from tests.cases.test_open311 import BASE, PERSONAL, _post, api_key  # noqa: F401  (fixture)


@pytest.fixture
def server(engine: Engine) -> Iterator[str]:
    """The app on a free local port, as a city's Open311 clients would reach it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    settings = get_settings().model_copy(update={"run_jobs": False})
    app = create_app(settings, engine)
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}{BASE}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_library_reads_services_and_requests(
    server: str,
    client: TestClient,
    api_key: str,  # noqa: F811  (the fixture imported above)
    fmt: str,
) -> None:
    posted = [_post(client, api_key, service_code=code) for code in ("illegal_dumping", "hazard")]
    ids = [str(r.json()[0]["service_request_id"]) for r in posted]  # type: ignore[attr-defined]
    city = GeoReport(server, output_format=fmt)

    services = city.get_service_list()
    assert {"illegal_dumping", "hazard", "manhole_cover"} <= {s["service_code"] for s in services}
    definition = city.get_service_definition("hazard")
    assert definition["service_code"] == "hazard"

    found = city.get_service_requests(service_code="illegal_dumping")
    found = found if isinstance(found, list) else [found]  # xmltodict: one element is a dict
    assert [str(r["service_request_id"]) for r in found] == [ids[0]]
    both = city.get_service_requests(service_request_id=",".join(ids))
    assert sorted(str(r["service_request_id"]) for r in both) == sorted(ids)
    one = city.get_service_request(ids[1])
    assert str(one["service_request_id"]) == ids[1] and one["service_code"] == "hazard"
    assert str(one["status"]) == "open"
    # Whatever the format, no personal field of the reporter is ever public.
    for request in [*both, one]:
        text = str(request)
        assert not any(value in text for value in PERSONAL.values())
