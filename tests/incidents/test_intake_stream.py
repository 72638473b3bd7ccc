"""Intake of batches that the service validates and stores chunk by chunk.

``INTAKE_CHUNK`` is made tiny here so that a dozen rows cross several chunks:
on PostgreSQL each chunk is streamed into one binary COPY while the next is
validated, and a stored key anywhere in the batch sends the whole batch
through the staging table instead.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pingan.incidents import service
from pingan.incidents.models import Incident
from pingan.org.principal import Principal
from tests.citykit import TestCity, grid_centre
from tests.incidents.rows import incident_row as _row

SYSTEM = Principal.system("test")


@pytest.fixture(autouse=True)
def _small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "INTAKE_CHUNK", 3)


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count(Incident.id))) or 0)


def test_bad_rows_in_several_chunks_keep_their_batch_index(
    session: Session, city: TestCity
) -> None:
    rows = [
        _row("W1", "a0"),
        _row("W1", "a1", type="no.such.type"),
        _row("W1", "a2"),
        _row("W1", "a3"),
        _row("W1", "a4", lat=95),
        _row("W1", "a5", lon=121.5),
        _row("E1", "a6"),
        _row("E1", "a7", occurred_at="2999-01-01T00:00:00Z"),
    ]
    result = service.intake_batch(session, rows=rows, actor=SYSTEM)
    assert [a.index for a in result.accepted] == [0, 2, 3, 6]
    assert [(r.index, r.field) for r in result.rejected] == [
        (1, "type"), (4, "lat"), (5, "lon"), (7, "occurred_at"),
    ]  # fmt: skip
    assert "outside every grid" in result.rejected[2].reason
    assert _count(session) == 4
    grids = {a.index: session.get(Incident, a.id) for a in result.accepted}
    assert grids[6] is not None and grids[6].grid_id == city.id("E1")


def test_a_chunk_with_no_good_row_does_not_end_the_stream(session: Session, city: TestCity) -> None:
    bad = {"type": "no.such.type"}
    rows = [_row("W1", "g0"), _row("W1", "g1"), _row("W1", "g2")]
    rows += [_row("W1", f"x{i}", **bad) for i in range(3)]  # the whole second chunk
    rows += [_row("E1", "g6"), _row("E1", "g7")]
    result = service.intake_batch(session, rows=rows, actor=SYSTEM)
    assert [a.index for a in result.accepted] == [0, 1, 2, 6, 7]
    assert [r.index for r in result.rejected] == [3, 4, 5]
    assert _count(session) == 5


def test_repeat_in_a_later_chunk_is_a_duplicate_of_the_first(
    session: Session, city: TestCity
) -> None:
    rows = [_row("W1", f"r{i}") for i in range(5)] + [_row("W2", "r1"), _row("W2", "r4")]
    result = service.intake_batch(session, rows=rows, actor=SYSTEM)
    ids = {a.index: a.id for a in result.accepted}
    assert sorted(ids) == [0, 1, 2, 3, 4]
    # The repeats point at the incident stored for the key's first row.
    assert [(d.index, d.id) for d in result.duplicates] == [(5, ids[1]), (6, ids[4])]
    assert _count(session) == 5


def test_stored_key_in_a_late_chunk_leaves_the_rest_stored(
    session: Session, city: TestCity
) -> None:
    first = service.intake_batch(session, rows=[_row("E2", "old")], actor=SYSTEM)
    rows = [_row("W1", f"n{i}") for i in range(7)] + [_row("E2", "old"), _row("E2", "n8")]
    result = service.intake_batch(session, rows=rows, actor=SYSTEM)
    assert [a.index for a in result.accepted] == [0, 1, 2, 3, 4, 5, 6, 8]
    assert [(d.index, d.id) for d in result.duplicates] == [(7, first.accepted[0].id)]
    assert _count(session) == 9
    # Retrying the whole batch stores nothing and names every stored incident.
    again = service.intake_batch(session, rows=rows, actor=SYSTEM)
    assert not again.accepted
    by_index = {d.index: d.id for d in again.duplicates}
    assert by_index == {**{a.index: a.id for a in result.accepted}, 7: first.accepted[0].id}
    assert _count(session) == 9


def test_values_arrive_exactly(session: Session, city: TestCity) -> None:
    lon, lat = grid_centre("W2")
    text = "tab\there, newline\nthere, back\\slash, 中文 ✓"
    rows = [
        _row(
            "W2", "exact", lon=lon + 1e-9, lat=lat - 3e-10, severity=5, status="dispatched",
            occurred_at="2026-04-02T03:04:05.123456Z", reported_at="2026-04-02T03:14:05.654321Z",
            summary=text, source="patrol",
        ),
        _row("W2", None, summary=None),
        _row("W2", "ünïcode-ключ"),
        _row("W2", "naive", occurred_at="2026-07-01T00:00:00.000001"),
    ]  # fmt: skip
    result = service.intake_batch(session, rows=rows, actor=SYSTEM)
    assert [a.index for a in result.accepted] == [0, 1, 2, 3]
    stored = [session.get(Incident, a.id) for a in result.accepted]
    exact, keyless, unicode_key, naive = stored
    assert exact is not None and keyless is not None and unicode_key is not None
    assert naive is not None
    assert (exact.lon, exact.lat) == (lon + 1e-9, lat - 3e-10)
    assert exact.occurred_at == dt.datetime(2026, 4, 2, 3, 4, 5, 123456, tzinfo=dt.UTC)
    assert exact.reported_at == dt.datetime(2026, 4, 2, 3, 14, 5, 654321, tzinfo=dt.UTC)
    assert (exact.severity, exact.status, exact.source) == (5, "dispatched", "patrol")
    assert exact.summary == text and exact.external_id == "exact"
    assert (exact.geom.x, exact.geom.y) == (exact.lon, exact.lat)
    assert keyless.external_id is None and keyless.summary is None
    assert keyless.reported_at == keyless.occurred_at
    assert unicode_key.external_id == "ünïcode-ключ"
    # Naive times are the city's (UTC+8).
    assert naive.occurred_at == dt.datetime(2026, 6, 30, 16, 0, 0, 1, tzinfo=dt.UTC)
    assert exact.created_at == exact.updated_at
    assert exact.grid_id == city.id("W2") and exact.community_id == city.id("MW")


def test_a_row_that_is_not_an_object_is_rejected_by_index(session: Session, city: TestCity) -> None:
    rows: list[object] = [_row("W1", f"m{i}") for i in range(6)] + ["not an object"]
    result = service.intake_batch(session, rows=rows, actor=SYSTEM)  # type: ignore[arg-type]
    assert [a.index for a in result.accepted] == [0, 1, 2, 3, 4, 5]
    assert [(r.index, r.field) for r in result.rejected] == [(6, None)]
    assert _count(session) == 6
