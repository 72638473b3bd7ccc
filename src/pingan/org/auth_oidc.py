"""Optional single sign-on over OpenID Connect (authorization code flow with PKCE).

The city's identity provider says who someone is; what they may do stays
here: the user must already exist locally (matched by a claim, by default
``preferred_username``) and keeps its local grants. Nothing is provisioned
automatically, so a provider account alone opens nothing.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.kit import audit
from pingan.kit.errors import NotFound, Unauthenticated
from pingan.org.auth import open_session
from pingan.org.models import AuthToken, User
from pingan.settings import Settings

TIMEOUT_S = 10.0
ALGORITHMS = ["RS256", "ES256", "PS256"]


@dataclass(frozen=True)
class Pending:
    """What the browser carries (in a short-lived cookie) between leaving and returning."""

    state: str
    nonce: str
    verifier: str

    def encode(self) -> str:
        return f"{self.state}.{self.nonce}.{self.verifier}"

    @classmethod
    def decode(cls, value: str | None) -> Pending:
        parts = (value or "").split(".")
        if len(parts) != 3 or not all(parts):
            raise Unauthenticated("single sign-on was not started here, or took too long")
        return cls(*parts)


def _s256(verifier: str) -> str:
    """PKCE S256 challenge (RFC 7636 section 4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _require_configured(settings: Settings) -> None:
    if not settings.oidc_issuer or not settings.oidc_client_id:
        raise NotFound("single sign-on is not configured (PINGAN_OIDC_ISSUER)")


def _discover(settings: Settings) -> dict[str, Any]:
    url = settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        response = httpx.get(url, timeout=TIMEOUT_S)
        response.raise_for_status()
        doc: dict[str, Any] = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise Unauthenticated(f"the identity provider cannot be reached: {exc}") from None
    if doc.get("issuer") != settings.oidc_issuer:
        raise Unauthenticated("the identity provider's discovery names another issuer")
    return doc


def start(settings: Settings, *, redirect_uri: str) -> tuple[str, Pending]:
    """The provider's authorisation URL to send the browser to, and what to remember."""
    _require_configured(settings)
    provider = _discover(settings)
    pending = Pending(
        state=secrets.token_urlsafe(24),
        nonce=secrets.token_urlsafe(24),
        verifier=secrets.token_urlsafe(48),
    )
    query = urlencode(
        {
            "response_type": "code",
            "client_id": settings.oidc_client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid profile",
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": _s256(pending.verifier),
            "code_challenge_method": "S256",
        }
    )
    return f"{provider['authorization_endpoint']}?{query}", pending


def _id_token_claims(
    settings: Settings, provider: dict[str, Any], id_token: str, nonce: str
) -> dict[str, Any]:
    # Imported here: only installations that turn single sign-on on need joserfc.
    from joserfc import jwt
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet

    try:
        keys = httpx.get(provider["jwks_uri"], timeout=TIMEOUT_S)
        keys.raise_for_status()
        key_set = KeySet.import_key_set(keys.json())
        token = jwt.decode(id_token, key_set, algorithms=ALGORITHMS)
        jwt.JWTClaimsRegistry(
            now=int(time.time()),
            leeway=60,
            iss={"essential": True, "value": settings.oidc_issuer},
            aud={"essential": True, "value": settings.oidc_client_id},
            exp={"essential": True},
            nonce={"essential": True, "value": nonce},
        ).validate(token.claims)
    except (httpx.HTTPError, ValueError, JoseError) as exc:
        raise Unauthenticated(f"the identity token was not accepted: {exc}") from None
    return dict(token.claims)


def finish(
    session: Session,
    settings: Settings,
    *,
    code: str,
    state: str,
    pending: Pending,
    redirect_uri: str,
    ttl_hours: float,
) -> tuple[str, AuthToken, User]:
    """Check the provider's answer and open a local session for the matching user."""
    _require_configured(settings)
    if not secrets.compare_digest(state, pending.state):
        raise Unauthenticated("single sign-on state does not match; start again")
    provider = _discover(settings)
    try:
        answer = httpx.post(
            provider["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": pending.verifier,
            },
            auth=(settings.oidc_client_id, settings.oidc_client_secret),
            timeout=TIMEOUT_S,
        )
        answer.raise_for_status()
        id_token = str(answer.json()["id_token"])
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        raise Unauthenticated(f"the identity provider refused the code: {exc}") from None
    claims = _id_token_claims(settings, provider, id_token, pending.nonce)
    username = str(claims.get(settings.oidc_username_claim) or "")
    user = session.scalar(select(User).where(User.username == username)) if username else None
    if user is None or not user.is_active or user.is_service:
        audit.record(
            session,
            actor=f"oidc:{claims.get('sub', '?')}",
            action="auth.login_failed",
            object_type="user",
            object_id=None if user is None else user.id,
            detail={"via": "oidc", "username": username},
        )
        raise Unauthenticated(f"no active local account for {username!r}: ask an administrator")
    token, record = open_session(session, user=user, ttl_hours=ttl_hours, via="oidc")
    return token, record, user
