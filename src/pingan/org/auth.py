"""Logging in, sessions, bearer tokens and API keys."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from pingan.kit import audit
from pingan.kit.db import utcnow
from pingan.kit.errors import Forbidden, Unauthenticated
from pingan.kit.security import (
    DUMMY_HASH,
    hash_password,
    needs_rehash,
    new_token,
    token_digest,
    verify_password,
)
from pingan.org import principal_cache
from pingan.org.auth_scopes import check_scopes
from pingan.org.models import ApiKey, AuthToken, User
from pingan.org.permissions import Perm
from pingan.org.principal import Principal
from pingan.org.users import administers, principal_for

if TYPE_CHECKING:
    from pingan.org.principal_cache import PrincipalCache

SESSION_PREFIX = "pgs"
API_KEY_PREFIX = "pgk"
LOGIN_FAILED = "wrong username or password"


def login(
    session: Session,
    *,
    username: str,
    password: str,
    ttl_hours: float,
    max_failures: int = 5,
    lockout_minutes: float = 15.0,
) -> tuple[str, AuthToken, User]:
    """Check a password and open a session; returns the secret token once.

    ``max_failures`` wrong passwords in a row lock the account for
    ``lockout_minutes``; while locked even the right password is refused,
    with the same answer as a wrong one so the lock reveals nothing. The
    caller commits after a failure so the count survives the rollback.
    """
    user = session.scalar(select(User).where(User.username == username))
    if user is None or user.password_hash is None:
        verify_password(DUMMY_HASH, password)  # same cost as a real check
        raise Unauthenticated(LOGIN_FAILED)
    now = utcnow()
    if user.locked_until is not None and user.locked_until > now:
        verify_password(DUMMY_HASH, password)
        audit.record(
            session,
            actor=f"user:{username}",
            action="auth.login_locked",
            object_type="user",
            object_id=user.id,
        )
        raise Unauthenticated(LOGIN_FAILED)
    if not verify_password(user.password_hash, password) or not user.is_active:
        user.failed_logins = (user.failed_logins or 0) + 1
        locked_until = None
        if max_failures > 0 and user.failed_logins >= max_failures:
            locked_until = user.locked_until = now + dt.timedelta(minutes=lockout_minutes)
            user.failed_logins = 0
        audit.record(
            session,
            actor=f"user:{username}",
            action="auth.login_failed" if locked_until is None else "auth.lockout",
            object_type="user",
            object_id=user.id,
            detail=None if locked_until is None else {"locked_until": locked_until.isoformat()},
        )
        raise Unauthenticated(LOGIN_FAILED)
    user.failed_logins = 0
    user.locked_until = None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    token, record = open_session(session, user=user, ttl_hours=ttl_hours)
    return token, record, user


def open_session(
    session: Session, *, user: User, ttl_hours: float, via: str = "password"
) -> tuple[str, AuthToken]:
    """A new login session for ``user``; the secret token is returned once."""
    token = new_token(SESSION_PREFIX)
    record = AuthToken(
        user_id=user.id,
        token_hash=token_digest(token),
        expires_at=utcnow() + dt.timedelta(hours=ttl_hours),
    )
    session.add(record)
    session.flush()
    audit.record(
        session,
        actor=f"user:{user.username}",
        action="auth.login",
        object_type="user",
        object_id=user.id,
        detail=None if via == "password" else {"via": via},
    )
    return token, record


def logout(session: Session, *, token: str) -> None:
    record = session.scalar(select(AuthToken).where(AuthToken.token_hash == token_digest(token)))
    if record is not None and record.revoked_at is None:
        record.revoked_at = utcnow()
        audit.record(
            session,
            actor=f"user-id:{record.user_id}",
            action="auth.logout",
            object_type="user",
            object_id=record.user_id,
        )


def _cache_key(digest: str, *, is_key: bool) -> str:
    return ("key:" if is_key else "token:") + digest


def cached_principal(
    cache: PrincipalCache | None, secret: str, *, is_key: bool
) -> Principal | None:
    """Whom a session token (or, with ``is_key``, an API key) stands for, if cached.

    Asked first; on a miss the caller looks the credential up with
    ``principal_from_token`` or ``principal_from_api_key``, which remember it.
    """
    if cache is None or not cache.enabled:
        return None
    return cache.get(_cache_key(token_digest(secret), is_key=is_key))


def principal_from_token(
    session: Session, token: str, cache: PrincipalCache | None = None
) -> Principal:
    """Whom a session token stands for, from the database; remembered in ``cache``."""
    digest = token_digest(token)
    generation = cache.generation() if cache is not None else 0
    row = session.execute(
        select(AuthToken, User)
        .join(User, User.id == AuthToken.user_id)
        .where(AuthToken.token_hash == digest)
    ).first()
    if row is None:
        raise Unauthenticated("unknown or expired session")
    record, user = row
    now = utcnow()
    if record.revoked_at is not None or record.expires_at <= now or not user.is_active:
        raise Unauthenticated("unknown or expired session")
    principal = principal_for(session, user, via="session")
    if cache is not None:
        # Never past the session's own expiry.
        left = (record.expires_at - now).total_seconds()
        cache.put(_cache_key(digest, is_key=False), principal, generation, valid_s=left)
    return principal


def create_api_key(
    session: Session,
    *,
    user: User,
    name: str,
    actor: Principal,
    scopes: list[str] | None = None,
) -> tuple[str, ApiKey]:
    """Issue a key acting as ``user``; the secret is returned once and never stored.

    ``scopes`` narrow the key (None: all its user may do). A key cannot mint
    keys without ``users:admin``, or a read-only key could mint a full one.
    """
    if actor.user_id != user.id or actor.via == "api_key":
        actor.require(Perm.USERS_ADMIN)
        _require_administers(actor, user)
    scopes = check_scopes(scopes)
    secret = new_token(API_KEY_PREFIX)
    key = ApiKey(
        user_id=user.id,
        name=name,
        prefix=secret[:12],
        key_hash=token_digest(secret),
        scopes=scopes,
    )
    session.add(key)
    session.flush()
    audit.record(
        session,
        actor=actor.actor,
        action="apikey.create",
        object_type="api_key",
        object_id=key.id,
        detail={"user": user.username, "name": name, "scopes": scopes},
    )
    return secret, key


def _require_administers(actor: Principal, user: User) -> None:
    if not administers(actor, user):
        raise Forbidden(f"user {user.username!r} holds roles outside your administration")


def revoke_api_key(session: Session, *, key_id: int, actor: Principal) -> None:
    actor.require(Perm.USERS_ADMIN)
    key = session.get(ApiKey, key_id)
    if key is not None:
        owner = session.get(User, key.user_id)
        if owner is not None:
            _require_administers(actor, owner)
    if key is not None and key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record(
            session,
            actor=actor.actor,
            action="apikey.revoke",
            object_type="api_key",
            object_id=key.id,
        )


def _touch_key(session: Session, key_id: int, now: dt.datetime) -> None:
    """Record the key's use, unless another request is recording it right now.

    The row stays locked until that request commits; waiting for it would line up
    every request of a busy integration behind one (found by benchmarks/load).
    """
    stale = or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now - dt.timedelta(minutes=1))
    target = select(ApiKey.id).where(ApiKey.id == key_id, stale)
    if session.get_bind().dialect.name == "postgresql":
        target = target.with_for_update(skip_locked=True)
    session.execute(
        update(ApiKey)
        .where(ApiKey.id.in_(target))
        .values(last_used_at=now)
        # Recording a use changes no principal: the principal cache is kept.
        .execution_options(synchronize_session=False, **{principal_cache.NEUTRAL: True})
    )


def principal_from_api_key(
    session: Session, secret: str, cache: PrincipalCache | None = None
) -> Principal:
    """Whom an API key stands for, from the database; remembered in ``cache``.

    A key answered from the cache had its last use recorded within the last
    minute and the cache's few seconds.
    """
    digest = token_digest(secret)
    generation = cache.generation() if cache is not None else 0
    row = session.execute(
        select(ApiKey, User).join(User, User.id == ApiKey.user_id).where(ApiKey.key_hash == digest)
    ).first()
    if row is None:
        raise Unauthenticated("unknown API key")
    key, user = row
    if key.revoked_at is not None or not user.is_active:
        raise Unauthenticated("API key revoked")
    now = utcnow()
    # A write per request would serialise busy integrations; a minute's precision is enough.
    if key.last_used_at is None or now - key.last_used_at > dt.timedelta(minutes=1):
        _touch_key(session, key.id, now)
    principal = principal_for(session, user, via="api_key", api_key_id=key.id, scopes=key.scopes)
    if cache is not None:
        cache.put(_cache_key(digest, is_key=True), principal, generation)
    return principal
