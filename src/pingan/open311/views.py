"""GeoReport v2 routes under /open311/v2/ (format by extension: .json or .xml)."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from pingan.api.deps import DbSession
from pingan.cases.schemas import CaseIn
from pingan.cases.service import create_case
from pingan.kit.errors import Forbidden, NotFound, PinganError, Unauthenticated
from pingan.open311 import service
from pingan.open311.formats import FORMATS, Open311Error, as_text, error_response, render
from pingan.org import auth

router = APIRouter(prefix="/open311/v2", tags=["open311"])


def _answer(fmt: str, make: Callable[[], Response], session: Session) -> Response:
    """Run ``make``; any failure rolls back and becomes the spec's error list."""
    try:
        if fmt not in FORMATS:
            raise Open311Error(404, f"format {fmt!r} not supported (use json or xml)")
        return make()
    except Open311Error as exc:
        error = exc
    except (Unauthenticated, Forbidden) as exc:
        error = Open311Error(403, exc.detail)
    except NotFound as exc:
        error = Open311Error(404, exc.detail)
    except PinganError as exc:
        error = Open311Error(400, exc.detail)
    session.rollback()  # the request's transaction would otherwise commit
    return error_response(fmt, error)


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


@router.get("/discovery.{fmt}")
def discovery(fmt: str, request: Request, session: DbSession) -> Response:
    base = str(request.base_url).rstrip("/") + "/open311/v2"
    doc = {
        "changeset": "2026-11-29T00:00:00Z",
        "contact": "Operations centre of the city",
        "key_service": "API keys are issued by the city's administrators (pingan users api-key)",
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": base,
                "changeset": "2026-11-29T00:00:00Z",
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return _answer(fmt, lambda: render(fmt, doc, root="discovery"), session)


@router.get("/services.{fmt}")
def services(fmt: str, session: DbSession, jurisdiction_id: str | None = None) -> Response:
    def make() -> Response:
        service.check_jurisdiction(session, jurisdiction_id)
        return render(fmt, service.services(session), root="services", item="service")

    return _answer(fmt, make, session)


@router.get("/services/{code}.{fmt}")
def service_definition(
    code: str, fmt: str, session: DbSession, jurisdiction_id: str | None = None
) -> Response:
    def make() -> Response:
        service.check_jurisdiction(session, jurisdiction_id)
        doc = service.service_definition(session, code)
        return render(fmt, doc, root="service_definition")

    return _answer(fmt, make, session)


@router.get("/requests.{fmt}")
def list_requests(
    fmt: str,
    session: DbSession,
    jurisdiction_id: str | None = None,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
    page: int = 1,
    page_size: int = service.MAX_PAGE_SIZE,
) -> Response:
    """Public requests, newest first; default window the last 90 days; paged (page, page_size)."""

    def make() -> Response:
        service.check_jurisdiction(session, jurisdiction_id)
        found = service.find_requests(
            session,
            ids=_split(service_request_id),
            service_codes=_split(service_code),
            start=service.parse_date(start_date, "start_date"),
            end=service.parse_date(end_date, "end_date"),
            status=_split(status),
            page=page,
            page_size=page_size,
        )
        return render(fmt, found, root="service_requests", item="request")

    return _answer(fmt, make, session)


@router.post("/requests.{fmt}")
async def post_request(fmt: str, request: Request, session: DbSession) -> Response:
    """File a service request (form fields per the spec); needs ``api_key``."""
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}

    def make() -> Response:
        service.check_jurisdiction(session, values.get("jurisdiction_id"))
        key = values.get("api_key")
        if not key:
            raise Open311Error(403, "api_key was not provided")
        principal = auth.principal_from_api_key(session, key)
        code = values.get("service_code")
        if not code:
            raise Open311Error(400, "service_code was not provided")
        service.service_definition(session, code)  # 404 for an unknown code
        if not values.get("lat") or not values.get("long"):
            raise Open311Error(400, "lat and long are required (address_string alone is not)")
        try:
            lat, lon = float(values["lat"]), float(values["long"])
        except ValueError:
            raise Open311Error(400, "lat and long must be numbers") from None
        name = " ".join(v for v in (values.get("first_name"), values.get("last_name")) if v)
        description = values.get("description", "")
        case_in = CaseIn(
            category=code,
            title=(description or code)[:200],
            description=description[:5000],
            lon=lon,
            lat=lat,
            address=values.get("address_string", "")[:300],
            reporter_name=name or None,
            reporter_email=values.get("email") or None,
            reporter_phone=values.get("phone") or None,
        )
        case, _ = create_case(
            session, case_in=case_in, actor=principal, source=service.PUBLIC_SOURCE
        )
        doc = [
            {
                "service_request_id": case.number,
                "token": case.public_token,
                "service_notice": "",
                "account_id": None,
            }
        ]
        return render(fmt, doc, root="service_requests", item="request", status=201)

    # Off the event loop: the case's locks (counter, audit chain) may wait on requests whose
    # commit needs the loop; waiting on it would freeze the worker (found by benchmarks/load).
    return await run_in_threadpool(_answer, fmt, make, session)


@router.get("/requests/{request_id}.{fmt}")
def get_request(
    request_id: str, fmt: str, session: DbSession, jurisdiction_id: str | None = None
) -> Response:
    """One request; ``.html`` gives the page a citizen follows their report on."""
    if fmt == "html":
        try:
            return tracking_page(service.get_request(session, request_id))
        except Open311Error as exc:
            return HTMLResponse(f"<p>{escape(exc.description)}</p>", status_code=exc.status)

    def make() -> Response:
        service.check_jurisdiction(session, jurisdiction_id)
        doc = [service.get_request(session, request_id)]
        return render(fmt, doc, root="service_requests", item="request")

    return _answer(fmt, make, session)


def tracking_page(item: dict[str, object]) -> HTMLResponse:
    rows = "".join(
        f"<tr><th>{escape(label)}</th><td>{escape(as_text(item.get(key)) or '-')}</td></tr>"
        for key, label in (
            ("service_request_id", "Number"),
            ("service_name", "Category"),
            ("status", "Status"),
            ("status_notes", "Notes"),
            ("agency_responsible", "Handled by"),
            ("requested_datetime", "Reported"),
            ("updated_datetime", "Last update"),
            ("expected_datetime", "Expected by"),
        )
    )
    title = escape(str(item["service_request_id"]))
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width'><title>{title}</title></head>"
        f"<body><h1>Report {title}</h1><table>{rows}</table></body></html>"
    )


@router.get("/tokens/{token}.{fmt}")
def token(token: str, fmt: str, session: DbSession, jurisdiction_id: str | None = None) -> Response:
    def make() -> Response:
        service.check_jurisdiction(session, jurisdiction_id)
        doc = [service.by_token(session, token)]
        return render(fmt, doc, root="service_requests", item="request")

    return _answer(fmt, make, session)
