"""Mapping grid-event cases to GeoReport v2 service requests.

Only cases filed through Open311 are public here: reports by grid staff can
concern people (disputes, for one) and stay inside the org scope. The
reporter's name, email and phone are stored with the case and never leave
through these endpoints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session

from pingan.cases.categories import list_categories
from pingan.cases.models import Case, CaseCategory, CaseClock
from pingan.cases.workflows.grid_event import WORKFLOW
from pingan.open311.formats import Open311Error, iso
from pingan.org.levels import Level
from pingan.org.models import OrgUnit

PUBLIC_SOURCE = "open311"
DEFAULT_WINDOW = dt.timedelta(days=90)
MAX_PAGE_SIZE = 1000


def check_jurisdiction(session: Session, jurisdiction_id: str | None) -> None:
    if jurisdiction_id is None:
        return
    city = session.scalar(select(OrgUnit.code).where(OrgUnit.level == Level.CITY.value).limit(1))
    if city is None or jurisdiction_id != city:
        raise Open311Error(404, f"jurisdiction_id {jurisdiction_id!r} not found")


def service_item(c: CaseCategory) -> dict[str, Any]:
    return {
        "service_code": c.code,
        "service_name": c.name_en,
        "description": f"{c.name_zh} / {c.name_en}; handled within {c.deadline_amount} "
        f"{c.deadline_basis.replace('_', ' ')}",
        "metadata": False,
        "type": "realtime",
        "keywords": c.kind,
        "group": c.kind,
    }


def services(session: Session) -> list[dict[str, Any]]:
    return [service_item(c) for c in list_categories(session, WORKFLOW.key)]


def service_definition(session: Session, code: str) -> dict[str, Any]:
    if code not in {c.code for c in list_categories(session, WORKFLOW.key)}:
        raise Open311Error(404, f"service_code {code!r} not found")
    return {"service_code": code, "attributes": []}


def _request_rows() -> Select[Any]:
    """The columns a GeoReport request shows.

    Plain rows, not ORM objects: a page holds up to a thousand requests and
    building a mapped object per case cost most of the list's time.
    """
    return (
        select(
            Case.id,
            Case.number,
            Case.is_open,
            Case.status_note,
            Case.description,
            Case.title,
            Case.department,
            Case.created_at,
            Case.updated_at,
            Case.address,
            Case.lat,
            Case.lon,
            CaseCategory.name_en,
            CaseCategory.code,
        )
        .join(CaseCategory, CaseCategory.id == Case.category_id)
        .where(Case.source == PUBLIC_SOURCE)
    )


def _expected(session: Session, case_ids: list[int]) -> dict[int, dt.datetime]:
    """The earliest running deadline of each case, in one query for a whole page.

    A separate query, not a subquery per row: with the statistics of a young
    table PostgreSQL ran that subquery through the index of every running clock.
    """
    if not case_ids:
        return {}
    rows = session.execute(
        select(CaseClock.case_id, func.min(CaseClock.due_at))
        .where(CaseClock.case_id.in_(case_ids), CaseClock.status == "running")
        .group_by(CaseClock.case_id)
    )
    return {case_id: due for case_id, due in rows if due is not None}


def request_items(session: Session, rows: Sequence[Row[Any]]) -> list[dict[str, Any]]:
    expected = _expected(session, [row.id for row in rows])
    return [request_item(row, expected.get(row.id)) for row in rows]


def request_item(row: Row[Any], expected: dt.datetime | None) -> dict[str, Any]:
    # Personal fields (reporter name, email, phone) are deliberately absent.
    return {
        "service_request_id": row.number,
        "status": "open" if row.is_open else "closed",
        "status_notes": row.status_note or None,
        "service_name": row.name_en,
        "service_code": row.code,
        "description": row.description or row.title,
        "agency_responsible": row.department or None,
        "service_notice": None,
        "requested_datetime": iso(row.created_at),
        "updated_datetime": iso(row.updated_at),
        "expected_datetime": iso(expected),
        "address": row.address or None,
        "address_id": None,
        "zipcode": None,
        "lat": row.lat,
        "long": row.lon,
        "media_url": None,
    }


def parse_date(value: str | None, name: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, f"{name} must be an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise Open311Error(400, f"{name} must include a time zone (Z or +HH:MM)")
    return parsed


def find_requests(
    session: Session,
    *,
    ids: list[str] | None = None,
    service_codes: list[str] | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    status: list[str] | None = None,
    page: int = 1,
    page_size: int = MAX_PAGE_SIZE,
    now: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise Open311Error(400, f"page must be >= 1 and page_size 1..{MAX_PAGE_SIZE}")
    stmt = (
        _request_rows()
        .where(Case.case_type == WORKFLOW.key)
        .order_by(Case.created_at.desc(), Case.id.desc())
    )
    if ids:
        # The spec: with service_request_id, every other filter is ignored.
        stmt = stmt.where(Case.number.in_(ids))
    else:
        if start is None and end is None:
            start = (now or dt.datetime.now(dt.UTC)) - DEFAULT_WINDOW
        if start is not None:
            stmt = stmt.where(Case.created_at >= start)
        if end is not None:
            stmt = stmt.where(Case.created_at <= end)
        if service_codes:
            stmt = stmt.where(CaseCategory.code.in_(service_codes))
        if status:
            unknown = set(status) - {"open", "closed"}
            if unknown:
                raise Open311Error(400, "status must be open and/or closed")
            if len(set(status)) == 1:
                stmt = stmt.where(Case.is_open.is_(status[0] == "open"))
    stmt = stmt.limit(page_size).offset((page - 1) * page_size)
    return request_items(session, session.execute(stmt).all())


def get_request(session: Session, number: str) -> dict[str, Any]:
    row = session.execute(_request_rows().where(Case.number == number)).first()
    if row is None:
        raise Open311Error(404, f"service_request_id {number!r} not found")
    return request_items(session, [row])[0]


def by_token(session: Session, token: str) -> dict[str, Any]:
    number = session.scalar(select(Case.number).where(Case.public_token == token))
    if number is None:
        raise Open311Error(404, f"token {token!r} not found")
    return {"service_request_id": number, "token": token}
