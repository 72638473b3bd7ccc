"""Intake through the service layer: idempotency, bad rows, grid assignment."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pingan.incidents import service
from pingan.incidents.models import Incident
from pingan.org.principal import Principal
from tests.citykit import TestCity, grid_centre
from tests.incidents.rows import incident_row as _row

SYSTEM = Principal.system("test")


def test_rows_are_assigned_to_their_grid_and_ancestors(session: Session, city: TestCity) -> None:
    result = service.intake_batch(session, rows=[_row("W2", "a"), _row("E1", "b")], actor=SYSTEM)
    assert [r.index for r in result.accepted] == [0, 1]
    w2 = session.get(Incident, result.accepted[0].id)
    e1 = session.get(Incident, result.accepted[1].id)
    assert w2 is not None and e1 is not None
    assert (w2.grid_id, w2.community_id, w2.subdistrict_id, w2.district_id, w2.city_id) == (
        city.id("W2"), city.id("MW"), city.id("SW"), city.id("DW"), city.id("C"),
    )  # fmt: skip
    assert e1.grid_id == city.id("E1") and e1.district_id == city.id("DE")
    # Stored in UTC, and the metric coordinates are filled.
    assert w2.occurred_at.isoformat() == "2026-03-01T00:30:00+00:00"
    assert w2.x > 100_000 and w2.y > 3_000_000
    assert w2.severity == 1  # the type's default


def test_retries_never_store_twice(session: Session, city: TestCity) -> None:
    rows = [_row("W1", f"k{i}") for i in range(5)]
    first = service.intake_batch(session, rows=rows, actor=SYSTEM)
    again = service.intake_batch(session, rows=[*rows, _row("W1", "k9")], actor=SYSTEM)
    assert len(first.accepted) == 5
    assert [d.index for d in again.duplicates] == [0, 1, 2, 3, 4]
    assert [d.id for d in again.duplicates] == [a.id for a in first.accepted]
    assert [a.index for a in again.accepted] == [5]
    assert session.scalar(select(func.count(Incident.id))) == 6


def test_same_key_twice_in_one_batch_is_stored_once(session: Session, city: TestCity) -> None:
    result = service.intake_batch(session, rows=[_row("W1", "x"), _row("W1", "x")], actor=SYSTEM)
    assert len(result.accepted) == 1 and [d.index for d in result.duplicates] == [1]
    # The same external id from another source is a different incident.
    other = service.intake_batch(session, rows=[_row("W1", "x", source="patrol")], actor=SYSTEM)
    assert len(other.accepted) == 1


def test_bad_rows_are_reported_and_good_rows_kept(session: Session, city: TestCity) -> None:
    rows = [
        _row("W1", "ok1"),
        _row("W1", "bad-type", type="alien.abduction"),
        _row("W1", "bad-lat", lat=95),
        _row("W1", "outside", lon=121.5),
        _row("W1", "future", occurred_at="2999-01-01T00:00:00Z"),
        _row("W1", "late", reported_at="2026-02-01T00:00:00Z"),
        {"type": "fire"},
        _row("W1", "ok2"),
    ]
    result = service.intake_batch(session, rows=rows, actor=SYSTEM)
    assert [a.index for a in result.accepted] == [0, 7]
    reasons = {r.index: (r.field, r.reason) for r in result.rejected}
    assert set(reasons) == {1, 2, 3, 4, 5, 6}
    assert reasons[1][0] == "type" and "alien.abduction" in reasons[1][1]
    assert reasons[2][0] == "lat"
    assert "outside every grid" in reasons[3][1]
    assert reasons[4][0] == "occurred_at"
    assert reasons[5][0] == "reported_at"
    assert reasons[6][0] in {"occurred_at", "lon", "lat"}
    assert session.scalar(select(func.count(Incident.id))) == 2


def test_naive_times_are_city_local(session: Session, city: TestCity) -> None:
    result = service.intake_batch(
        session, rows=[_row("E2", None, occurred_at="2026-05-01T12:00:00")], actor=SYSTEM
    )
    incident = session.get(Incident, result.accepted[0].id)
    assert incident is not None
    assert incident.occurred_at.isoformat() == "2026-05-01T04:00:00+00:00"  # Asia/Shanghai


def test_key_taken_by_a_concurrent_writer_becomes_a_duplicate(
    session: Session, city: TestCity
) -> None:
    """Between the duplicate check and the insert another writer may store the same key.

    Calling the writer directly with a key that is already stored is exactly
    that situation: the row must be skipped (not fail the batch) and the rest stored.
    """
    import numpy as np

    from pingan.incidents import store
    from pingan.incidents.columns import IncidentColumns
    from pingan.org.service import grid_locator

    first = service.intake_batch(session, rows=[_row("W1", "taken")], actor=SYSTEM)
    lon, lat = grid_centre("W1")
    cols = IncidentColumns.build(
        type_id=[1, 1], occurred_us=[1_770_000_000_000_000] * 2,
        reported_us=[1_770_000_000_000_000] * 2, lon=[lon, lon], lat=[lat, lat], severity=[2, 2],
        source=["call", "call"], status=["reported"] * 2, external_id=["taken", "fresh"],
        summary=[None, "tab\there, newline\nthere, back\\slash"],
    )  # fmt: skip
    locator = grid_locator(session)
    grid = locator.locate(cols.lon, cols.lat)
    ids = store._allocate_ids(session, 2)
    inserted = store._write(session, cols, ids, grid, locator.ancestors)
    assert inserted.tolist() == [int(ids[1])]
    fresh = session.get(Incident, int(ids[1]))
    assert fresh is not None and fresh.summary == "tab\there, newline\nthere, back\\slash"
    assert session.get(Incident, int(ids[0])) is None
    assert session.scalar(select(func.count(Incident.id))) == 2
    assert first.accepted[0].id != int(ids[0])
    assert np.all(grid == city.id("W1"))
