"""Each request leaves one log line with its route's figures, and the metrics count it."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from tests.cases.conftest import login


def _lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "pingan.http" and r.getMessage() == "request"]


def test_a_request_is_logged_with_status_statements_and_actor(
    client: TestClient, people: dict[str, int], caplog: pytest.LogCaptureFixture
) -> None:
    worker = login(client, "w1_worker")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="pingan.http"):
        assert client.get("/api/v1/cases?limit=5", headers=worker).status_code == 200
        assert client.get("/api/v1/cases/999999999", headers=worker).status_code == 404
        assert client.get("/api/v1/cases").status_code == 401
    page, missing, anonymous = _lines(caplog)
    assert (page.path, page.status, page.actor) == ("/api/v1/cases", 200, "user:w1_worker")  # type: ignore[attr-defined]
    assert page.db_statements > 0 and page.ms >= 0  # type: ignore[attr-defined]
    assert (missing.status, missing.actor) == (404, "user:w1_worker")  # type: ignore[attr-defined]
    assert (anonymous.status, anonymous.actor) == (401, None)  # type: ignore[attr-defined]


def test_metrics_count_requests_by_route_template(
    client: TestClient, people: dict[str, int]
) -> None:
    worker = login(client, "w1_worker")
    client.get("/api/v1/cases/424242", headers=worker)
    text = client.get("/metrics").text
    # The template, not the raw path: ids do not become label values.
    assert 'route="/api/v1/cases/{case_id}",status="404"' in text
    assert "/api/v1/cases/424242" not in text
