"""HTTP routes of single sign-on: leave for the identity provider, come back logged in."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse

from pingan.api.deps import SESSION_COOKIE, DbSession
from pingan.kit.errors import Unauthenticated
from pingan.org import auth_oidc

router = APIRouter(prefix="/api/v1/auth/oidc", tags=["auth"])
PENDING_COOKIE = "pingan_oidc"
PENDING_PATH = "/api/v1/auth/oidc"


def _redirect_uri(request: Request) -> str:
    return str(request.url_for("oidc_callback"))


@router.get("/login", response_class=RedirectResponse, status_code=302)
def oidc_login(request: Request) -> RedirectResponse:
    """Single sign-on: sends the browser to the city's identity provider."""
    settings = request.app.state.settings
    url, pending = auth_oidc.start(settings, redirect_uri=_redirect_uri(request))
    response = RedirectResponse(url, status_code=302)
    # Lax, not Strict: it must come back on the provider's top-level redirect.
    response.set_cookie(
        PENDING_COOKIE, pending.encode(), max_age=600, path=PENDING_PATH, httponly=True,
        samesite="lax", secure=bool(settings.cookie_secure),
    )  # fmt: skip
    return response


@router.get("/callback", response_class=RedirectResponse, status_code=303)
def oidc_callback(
    request: Request,
    session: DbSession,
    code: str = Query(..., max_length=2000),
    state: str = Query(..., max_length=200),
) -> RedirectResponse:
    """Where the identity provider sends the browser back; opens a session."""
    settings = request.app.state.settings
    try:
        token, _record, _user = auth_oidc.finish(
            session, settings, code=code, state=state,
            pending=auth_oidc.Pending.decode(request.cookies.get(PENDING_COOKIE)),
            redirect_uri=_redirect_uri(request), ttl_hours=float(settings.session_ttl_hours),
        )  # fmt: skip
    except Unauthenticated:
        session.commit()  # keep the audit entry of the refusal
        raise
    response = RedirectResponse("/console/", status_code=303)
    response.delete_cookie(PENDING_COOKIE, path=PENDING_PATH)
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="strict",
        secure=bool(settings.cookie_secure), path="/",
        max_age=int(float(settings.session_ttl_hours) * 3600),
    )  # fmt: skip
    return response
