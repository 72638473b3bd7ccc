"""Log lines are single JSON objects carrying the request's fields."""

from __future__ import annotations

import json
import logging

from pingan.kit.logging import JsonFormatter


def test_json_formatter_keeps_extra_fields_and_unicode() -> None:
    record = logging.LogRecord(
        "pingan.http", logging.INFO, __file__, 1, "request %s", ("ok",), None
    )
    record.__dict__.update({"method": "GET", "status": 200, "actor": "user:张三"})
    doc = json.loads(JsonFormatter().format(record))
    assert doc["msg"] == "request ok" and doc["level"] == "info" and doc["logger"] == "pingan.http"
    assert (doc["method"], doc["status"], doc["actor"]) == ("GET", 200, "user:张三")
    assert doc["ts"].endswith("+00:00")


def test_exceptions_are_included() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    doc = json.loads(JsonFormatter().format(record))
    assert "RuntimeError: boom" in doc["exc"]
