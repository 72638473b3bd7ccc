"""A list page costs the same number of database statements for 1 row as for 20.

The count comes from the server's own metric (``pingan_http_request_db_statements``),
so this also checks that the metric counts what the endpoint's worker thread runs.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.api.statements import statements_of
from tests.cases.conftest import login, open311_app_key
from tests.citykit import grid_centre

LON, LAT = grid_centre("W1")


def test_case_page_runs_no_query_per_case(client: TestClient, people: dict[str, int]) -> None:
    worker = login(client, "w1_worker")
    for i in range(20):
        body = {"category": "blocked_passage", "title": f"exit {i}", "lon": LON, "lat": LAT}
        assert client.post("/api/v1/cases", json=body, headers=worker).status_code == 201
    one = statements_of(client, "/api/v1/cases?limit=1", worker)
    twenty = statements_of(client, "/api/v1/cases?limit=20", worker)
    assert one > 0
    assert twenty == one


@pytest.fixture
def open311_key(engine: Engine, people: dict[str, int]) -> str:
    return open311_app_key(engine, "budget_app")


def test_open311_list_runs_no_query_per_request(client: TestClient, open311_key: str) -> None:
    for i in range(12):
        form = {"api_key": open311_key, "service_code": "illegal_dumping", "lat": str(LAT),
                "long": str(LON), "description": f"Rubbish {i}"}  # fmt: skip
        assert client.post("/open311/v2/requests.json", data=form).status_code in (200, 201)
    one = statements_of(client, "/open311/v2/requests.json?page_size=1")
    twelve = statements_of(client, "/open311/v2/requests.json?page_size=12")
    assert one > 0
    assert twelve == one
