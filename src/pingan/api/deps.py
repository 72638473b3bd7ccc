"""FastAPI dependencies: a database transaction per request and the acting principal."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy.orm import Session

from pingan.kit.db import transaction
from pingan.kit.errors import Unauthenticated
from pingan.org import auth
from pingan.org.principal import Principal

SESSION_COOKIE = "pingan_session"

# Declared so /docs offers "Authorize" with a username/password form and an API-key box.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False)


def db_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed on success, rolled back on any error."""
    with transaction(request.app.state.sessionmaker) as session:
        yield session


# "function" scope: the commit happens before the response is sent, so a client is never
# told a write succeeded that is not yet (or never) stored. FastAPI's default for yield
# dependencies ends them after the response.
DbSession = Annotated[Session, Depends(db_session, scope="function")]


def current_principal(
    request: Request,
    session: DbSession,
    bearer: Annotated[str | None, Depends(oauth2_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal:
    """Bearer token, API key (header or bearer) or session cookie, in that order."""
    # Started with the app (lifespan); absent when the app runs without one.
    cache = getattr(request.app.state, "principal_cache", None)
    if bearer:
        if bearer.startswith(auth.API_KEY_PREFIX + "_"):
            principal = auth.principal_from_api_key(session, bearer, cache)
        else:
            principal = auth.principal_from_token(session, bearer, cache)
    elif api_key:
        principal = auth.principal_from_api_key(session, api_key, cache)
    elif cookie := request.cookies.get(SESSION_COOKIE):
        principal = auth.principal_from_token(session, cookie, cache)
    else:
        raise Unauthenticated("log in or send a bearer token or API key")
    request.state.actor = principal.actor
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
