"""GeoReport v2 documents in JSON or XML, and the spec's error format."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from xml.etree import ElementTree as ET

from fastapi import Response

FORMATS = ("json", "xml")


class Open311Error(Exception):
    """An error in the spec's shape: ``[{"code": ..., "description": ...}]``."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return iso(value) or ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat(timespec="seconds")


def _fill(parent: ET.Element, item: dict[str, Any]) -> None:
    for key, value in item.items():
        child = ET.SubElement(parent, key)
        if isinstance(value, list):
            for entry in value:
                _fill(ET.SubElement(child, key.rstrip("s") or key), entry)
        elif isinstance(value, dict):
            _fill(child, value)
        else:
            child.text = _text(value)


def render(
    fmt: str, data: Any, *, root: str, item: str | None = None, status: int = 200
) -> Response:
    """JSON as is; XML as ``<root><item>..</item></root>`` (or ``<root>..</root>``)."""
    if fmt == "xml":
        top = ET.Element(root)
        if item is None:
            _fill(top, data)
        else:
            for entry in data:
                _fill(ET.SubElement(top, item), entry)
        body = b'<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(top, encoding="utf-8")
        return Response(body, status_code=status, media_type="text/xml; charset=utf-8")
    payload = json.dumps(data, ensure_ascii=False, default=_text)
    return Response(payload, status_code=status, media_type="application/json; charset=utf-8")


def error_response(fmt: str, error: Open311Error) -> Response:
    doc = [{"code": error.status, "description": error.description}]
    return render(
        fmt if fmt in FORMATS else "json", doc, root="errors", item="error", status=error.status
    )
