"""Open311 GeoReport v2, written from the spec (wiki.open311.org/GeoReport_v2)."""

from __future__ import annotations

import re
from xml.etree import ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from pingan.kit.db import session_scope
from tests.cases.conftest import open311_app_key
from tests.citykit import grid_centre

BASE = "/open311/v2"
LON, LAT = grid_centre("E1")
PERSONAL = {
    "email": "li@example.org",
    "first_name": "Li",
    "last_name": "Hua",
    "phone": "13800000000",
}


@pytest.fixture
def api_key(engine: Engine, people: dict[str, int]) -> str:
    return open311_app_key(engine)


def _post(client: TestClient, key: str, fmt: str = "json", **extra: str) -> object:
    form = {"api_key": key, "service_code": "illegal_dumping", "lat": str(LAT), "long": str(LON),
            "description": "Rubbish dumped by the river", "address_string": "River Rd 1",
            **PERSONAL, **extra}  # fmt: skip
    return client.post(f"{BASE}/requests.{fmt}", data=form)


def test_discovery_and_services(client: TestClient, people: dict[str, int]) -> None:
    d = client.get(f"{BASE}/discovery.json").json()
    assert d["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    services = client.get(f"{BASE}/services.json").json()
    codes = {s["service_code"] for s in services}
    assert {"manhole_cover", "illegal_dumping"} <= codes
    assert set(services[0]) >= {"service_code", "service_name", "metadata", "type", "group"}
    xml = client.get(f"{BASE}/services.xml")
    assert xml.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(xml.content)
    assert root.tag == "services" and len(root.findall("service")) == len(services)
    definition = client.get(f"{BASE}/services/hazard.json").json()
    assert definition["service_code"] == "hazard"
    assert client.get(f"{BASE}/services.json?jurisdiction_id=C").status_code == 200


def test_post_then_read_back_without_personal_fields(client: TestClient, api_key: str) -> None:
    r = _post(client, api_key)
    assert r.status_code == 201, r.text  # type: ignore[attr-defined]
    created = r.json()[0]  # type: ignore[attr-defined]
    number, token = created["service_request_id"], created["token"]
    one = client.get(f"{BASE}/requests/{number}.json")
    assert one.status_code == 200
    request = one.json()[0]
    assert request["status"] == "open" and request["service_code"] == "illegal_dumping"
    assert request["lat"] == LAT and request["long"] == LON
    assert request["agency_responsible"] is None  # not yet dispatched
    assert request["expected_datetime"] is not None
    # ISO 8601 in UTC to the second, the same in the list, in XML and on the page.
    stamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
    assert stamp.match(request["requested_datetime"]) and stamp.match(request["expected_datetime"])
    listed = client.get(f"{BASE}/requests.json").json()
    assert [r for r in listed if r["service_request_id"] == number] == [request]
    everything = client.get(f"{BASE}/requests.json").text + client.get(f"{BASE}/requests.xml").text
    for value in PERSONAL.values():
        assert value not in everything and value not in one.text
    assert client.get(f"{BASE}/tokens/{token}.json").json() == [
        {"service_request_id": number, "token": token}
    ]
    page = client.get(f"{BASE}/requests/{number}.html")
    assert page.status_code == 200 and number in page.text and "open" in page.text
    assert all(value not in page.text for value in PERSONAL.values())
    assert client.get(f"{BASE}/requests/GE-1999-000009.html").status_code == 404
    xml = ET.fromstring(client.get(f"{BASE}/requests/{number}.xml").content)
    assert xml.tag == "service_requests"
    assert xml.find("request/service_request_id").text == number  # type: ignore[union-attr]
    assert xml.find("request/requested_datetime").text == request["requested_datetime"]  # type: ignore[union-attr]
    assert request["requested_datetime"] in page.text


def test_request_filters_and_paging(client: TestClient, api_key: str) -> None:
    for _ in range(3):
        assert _post(client, api_key).status_code == 201  # type: ignore[attr-defined]
    assert _post(client, api_key, service_code="hazard").status_code == 201  # type: ignore[attr-defined]
    assert len(client.get(f"{BASE}/requests.json").json()) == 4
    assert len(client.get(f"{BASE}/requests.json?service_code=hazard").json()) == 1
    assert len(client.get(f"{BASE}/requests.json?status=closed").json()) == 0
    assert len(client.get(f"{BASE}/requests.json?status=open,closed").json()) == 4
    assert (
        client.get(
            f"{BASE}/requests.json?start_date=2000-01-01T00:00:00Z&end_date=2000-02-01T00:00:00Z"
        ).json()
        == []
    )
    page1 = client.get(f"{BASE}/requests.json?page=1&page_size=3").json()
    page2 = client.get(f"{BASE}/requests.json?page=2&page_size=3").json()
    assert len(page1) == 3 and len(page2) == 1
    ids = {r["service_request_id"] for r in page1 + page2}
    assert len(ids) == 4
    picked = ",".join(sorted(ids)[:2])
    assert len(client.get(f"{BASE}/requests.json?service_request_id={picked}").json()) == 2


def test_errors_follow_the_spec(client: TestClient, api_key: str) -> None:
    def check(response: object, status: int) -> None:
        assert response.status_code == status, response.text  # type: ignore[attr-defined]
        body = response.json()  # type: ignore[attr-defined]
        assert isinstance(body, list) and body[0]["code"] == status and body[0]["description"]

    check(_post(client, "pingan_bogus"), 403)
    check(client.post(f"{BASE}/requests.json", data={"service_code": "hazard"}), 403)
    check(_post(client, api_key, service_code=""), 400)
    check(_post(client, api_key, service_code="unicorn"), 404)
    check(_post(client, api_key, lat="", long=""), 400)
    check(_post(client, api_key, lat="50.0", long="10.0"), 400)  # outside the city
    check(client.get(f"{BASE}/requests/GE-1999-000001.json"), 404)
    check(client.get(f"{BASE}/services/unicorn.json"), 404)
    check(client.get(f"{BASE}/services.json?jurisdiction_id=elsewhere"), 404)
    check(client.get(f"{BASE}/requests.json?start_date=yesterday"), 400)
    check(client.get(f"{BASE}/tokens/nope.json"), 404)
    check(client.get(f"{BASE}/services.yaml"), 404)
    xml = client.get(f"{BASE}/requests/GE-1999-000001.xml")
    root = ET.fromstring(xml.content)
    assert xml.status_code == 404 and root.tag == "errors"
    assert root.find("error/code").text == "404"  # type: ignore[union-attr]


def test_internal_reports_are_not_public(client: TestClient, api_key: str, engine: Engine) -> None:
    from pingan.cases.schemas import CaseIn
    from pingan.cases.service import create_case
    from tests.cases.conftest import principal

    with session_scope(engine) as s:
        lon, lat = grid_centre("W1")
        case_in = CaseIn(category="dispute", title="neighbours", lon=lon, lat=lat)
        create_case(s, case_in=case_in, actor=principal(engine, "w1_worker"))
    assert client.get(f"{BASE}/requests.json").json() == []
