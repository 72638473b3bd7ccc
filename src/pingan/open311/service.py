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

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from pingan.cases.categories import list_categories
from pingan.cases.models import Case, CaseCategory, CaseClock
from pingan.cases.workflows.grid_event import WORKFLOW
from pingan.open311.formats import Open311Error
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


def _request_rows() -> Select[*tuple[Any, ...]]:
    """The columns a GeoReport request shows, in ``request_item``'s order.

    Plain rows, not ORM objects: a page holds up to a thousand requests, and
    building a mapped object per case took most of the list's time. The
    earliest running deadline is a subquery per row: an index probe of the
    case's clocks once the table has statistics (autovacuum keeps them).
    """
    expected = (
        select(func.min(CaseClock.due_at))
        .where(CaseClock.case_id == Case.id, CaseClock.status == "running")
        .correlate(Case)
        .scalar_subquery()
    )
    return (
        select(
            Case.number,
            Case.is_open,
            Case.status_note,
            Case.description,
            Case.title,
            Case.department,
            Case.created_at,
            Case.updated_at,
            expected,
            Case.address,
            Case.lat,
            Case.lon,
            CaseCategory.name_en,
            CaseCategory.code,
        )
        .join(CaseCategory, CaseCategory.id == Case.category_id)
        .where(Case.source == PUBLIC_SOURCE)
    )


def request_item(row: Sequence[Any]) -> dict[str, Any]:
    """One request as the spec names its fields (from a row of ``_request_rows``)."""
    (number, is_open, note, description, title, department, created, updated, expected,
     address, lat, lon, service_name, service_code) = row  # fmt: skip
    # Personal fields (reporter name, email, phone) are deliberately absent.
    return {
        "service_request_id": number,
        "status": "open" if is_open else "closed",
        "status_notes": note or None,
        "service_name": service_name,
        "service_code": service_code,
        "description": description or title,
        "agency_responsible": department or None,
        "service_notice": None,
        # Datetimes as they are (UTC): ``formats.render`` writes them as the spec's
        # ISO 8601 text, orjson in C for a JSON list of a thousand.
        "requested_datetime": created,
        "updated_datetime": updated,
        "expected_datetime": expected,
        "address": address or None,
        "address_id": None,
        "zipcode": None,
        "lat": lat,
        "long": lon,
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
    return [request_item(row) for row in session.execute(stmt)]


def get_request(session: Session, number: str) -> dict[str, Any]:
    row = session.execute(_request_rows().where(Case.number == number)).first()
    if row is None:
        raise Open311Error(404, f"service_request_id {number!r} not found")
    return request_item(row)


def by_token(session: Session, token: str) -> dict[str, Any]:
    number = session.scalar(select(Case.number).where(Case.public_token == token))
    if number is None:
        raise Open311Error(404, f"token {token!r} not found")
    return {"service_request_id": number, "token": token}
