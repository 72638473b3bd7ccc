"""FastAPI dependencies: a database transaction per request and the acting principal."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy.orm import Session

from pingan.kit.errors import Unauthenticated
from pingan.org import auth
from pingan.org.principal import Principal

SESSION_COOKIE = "pingan_session"

# Declared so /docs offers "Authorize" with a username/password form and an API-key box.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False)


async def db_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: committed on success, rolled back on any error.

    Async, so that opening costs no trip to the thread pool (a new session does no
    I/O: it takes a connection at its first statement, on the endpoint's thread);
    the commit or rollback and the connection's return run in one trip.
    """
    session = request.app.state.sessionmaker()
    try:
        yield session
    except BaseException:
        await _finish_off_loop(session, commit=False)
        raise
    await _finish_off_loop(session, commit=True)


async def _finish_off_loop(session: Session, *, commit: bool) -> None:
    # As FastAPI ends a sync dependency: shielded, so a client that hangs up cannot
    # leave the transaction open, and on a limiter of its own, so the end never waits
    # for a free slot of the shared pool (whose holders may be waiting for this one).
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(_finish, session, commit, limiter=anyio.CapacityLimiter(1))


def _finish(session: Session, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# "function" scope: the commit happens before the response is sent, so a client is never
# told a write succeeded that is not yet (or never) stored. FastAPI's default for yield
# dependencies ends them after the response.
DbSession = Annotated[Session, Depends(db_session, scope="function")]


async def current_principal(
    request: Request,
    session: DbSession,
    bearer: Annotated[str | None, Depends(oauth2_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal:
    """Bearer token, API key (header or bearer) or session cookie, in that order.

    Async: a credential the principal cache knows is answered on the event loop;
    only one it must look up goes to the thread pool (the lookup reads the database).
    """
    # Started with the app (lifespan); absent when the app runs without one.
    cache = getattr(request.app.state, "principal_cache", None)
    if bearer:
        is_key, secret = bearer.startswith(auth.API_KEY_PREFIX + "_"), bearer
    elif api_key:
        is_key, secret = True, api_key
    elif cookie := request.cookies.get(SESSION_COOKIE):
        is_key, secret = False, cookie
    else:
        raise Unauthenticated("log in or send a bearer token or API key")
    lookup = auth.principal_from_api_key if is_key else auth.principal_from_token
    principal = auth.cached_principal(cache, secret, is_key=is_key)
    if principal is None:
        principal = await run_in_threadpool(lookup, session, secret, cache)
    request.state.actor = principal.actor
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
