"""Logging in, sessions, bearer tokens and API keys."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.kit import audit
from pingan.kit.db import utcnow
from pingan.kit.errors import Unauthenticated
from pingan.kit.security import (
    DUMMY_HASH,
    hash_password,
    needs_rehash,
    new_token,
    token_digest,
    verify_password,
)
from pingan.org.models import ApiKey, AuthToken, User
from pingan.org.permissions import Perm
from pingan.org.principal import Principal
from pingan.org.users import principal_for

SESSION_PREFIX = "pgs"
API_KEY_PREFIX = "pgk"


def login(
    session: Session, *, username: str, password: str, ttl_hours: float
) -> tuple[str, AuthToken, User]:
    """Check a password and open a session; returns the secret token once."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or user.password_hash is None:
        verify_password(DUMMY_HASH, password)  # same cost as a real check
        raise Unauthenticated("wrong username or password")
    if not verify_password(user.password_hash, password) or not user.is_active:
        audit.record(
            session,
            actor=f"user:{username}",
            action="auth.login_failed",
            object_type="user",
            object_id=user.id,
        )
        raise Unauthenticated("wrong username or password")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
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
        actor=f"user:{username}",
        action="auth.login",
        object_type="user",
        object_id=user.id,
    )
    return token, record, user


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


def principal_from_token(session: Session, token: str) -> Principal:
    row = session.execute(
        select(AuthToken, User)
        .join(User, User.id == AuthToken.user_id)
        .where(AuthToken.token_hash == token_digest(token))
    ).first()
    if row is None:
        raise Unauthenticated("unknown or expired session")
    record, user = row
    if record.revoked_at is not None or record.expires_at <= utcnow() or not user.is_active:
        raise Unauthenticated("unknown or expired session")
    return principal_for(session, user, via="session")


def create_api_key(
    session: Session, *, user: User, name: str, actor: Principal
) -> tuple[str, ApiKey]:
    """Issue a key acting as ``user``; the secret is returned once and never stored."""
    if actor.user_id != user.id:
        actor.require(Perm.USERS_ADMIN)
    secret = new_token(API_KEY_PREFIX)
    key = ApiKey(user_id=user.id, name=name, prefix=secret[:12], key_hash=token_digest(secret))
    session.add(key)
    session.flush()
    audit.record(
        session,
        actor=actor.actor,
        action="apikey.create",
        object_type="api_key",
        object_id=key.id,
        detail={"user": user.username, "name": name},
    )
    return secret, key


def revoke_api_key(session: Session, *, key_id: int, actor: Principal) -> None:
    actor.require(Perm.USERS_ADMIN)
    key = session.get(ApiKey, key_id)
    if key is not None and key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record(
            session,
            actor=actor.actor,
            action="apikey.revoke",
            object_type="api_key",
            object_id=key.id,
        )


def principal_from_api_key(session: Session, secret: str) -> Principal:
    row = session.execute(
        select(ApiKey, User)
        .join(User, User.id == ApiKey.user_id)
        .where(ApiKey.key_hash == token_digest(secret))
    ).first()
    if row is None:
        raise Unauthenticated("unknown API key")
    key, user = row
    if key.revoked_at is not None or not user.is_active:
        raise Unauthenticated("API key revoked")
    now = utcnow()
    # A write per request would serialise busy integrations; a minute's precision is enough.
    if key.last_used_at is None or now - key.last_used_at > dt.timedelta(minutes=1):
        key.last_used_at = now
    return principal_for(session, user, via="api_key", api_key_id=key.id)
