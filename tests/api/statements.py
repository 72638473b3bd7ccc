"""How many database statements one request ran, read from the server's own /metrics."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

_SUMS = re.compile(r"^pingan_http_request_db_statements_sum\{.*\} (\S+)$", re.M)


def statements_of(client: TestClient, path: str, headers: dict[str, str] | None = None) -> int:
    """Statements the server ran for one GET of ``path`` (summed over every route: /metrics
    itself runs none)."""

    def total() -> float:
        return sum(float(v) for v in _SUMS.findall(client.get("/metrics").text))

    before = total()
    response = client.get(path, headers=headers)
    assert response.status_code == 200, f"{path}: {response.status_code} {response.text[:300]}"
    return round(total() - before)
