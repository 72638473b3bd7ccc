"""Every error leaves the API as RFC 9457 ``application/problem+json``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from pingan.kit.errors import PROBLEM_BASE, PinganError

log = logging.getLogger("pingan.api")
PROBLEM_JSON = "application/problem+json"


def problem_response(doc: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        doc, status_code=int(doc["status"]), media_type=PROBLEM_JSON, headers=headers
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(PinganError)
    async def pingan_error(request: Request, exc: PinganError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return problem_response(exc.to_problem(instance=request.url.path), headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
        doc = {
            "type": PROBLEM_BASE + "validation",
            "title": "Invalid input",
            "status": 422,
            "detail": str(first.get("msg", "invalid request")),
            "field": ".".join(loc) or None,
            "instance": request.url.path,
            "errors": [
                {"field": ".".join(str(p) for p in e.get("loc", ())), "msg": e.get("msg")}
                for e in errors[:50]
            ],
        }
        return problem_response(doc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug = {404: "not-found", 405: "method-not-allowed", 401: "unauthenticated"}.get(
            exc.status_code, "http-error"
        )
        doc = {
            "type": PROBLEM_BASE + slug,
            "title": str(exc.detail) if exc.status_code != 404 else "Not found",
            "status": exc.status_code,
            "detail": str(exc.detail),
            "instance": request.url.path,
        }
        return problem_response(doc)

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def out_of_range(request: Request, exc: Exception) -> JSONResponse:
        # A number or text the database cannot hold (e.g. an id past 2**63) is bad
        # input, not a server fault (found by the schemathesis run, issue 11).
        doc = {
            "type": PROBLEM_BASE + "validation",
            "title": "Invalid input",
            "status": 422,
            "detail": "a value is out of the range the database can store",
            "instance": request.url.path,
        }
        return problem_response(doc)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        doc = {
            "type": PROBLEM_BASE + "internal",
            "title": "Internal error",
            "status": 500,
            "detail": "an unexpected error occurred; it has been logged",
            "instance": request.url.path,
        }
        return problem_response(doc)
