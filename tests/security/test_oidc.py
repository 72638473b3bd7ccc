"""Single sign-on against a local OpenID provider started in the test.

The provider is a small real one over HTTP: discovery, JWKS, an authorisation
endpoint that signs in whoever the test says, and a token endpoint that checks
the client secret, the redirect URI and the PKCE verifier before it signs an
RS256 id token.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import Engine

from pingan.app import create_app
from pingan.settings import Settings
from tests.security.conftest import World

CLIENT_ID, CLIENT_SECRET = "pingan-console", "s3cret-of-the-client"


@dataclass
class Provider:
    issuer: str
    key: RSAKey
    signer: RSAKey  # the key id tokens are signed with; a rogue one in some tests
    username: str = "west_admin"
    audience: str = CLIENT_ID
    codes: dict[str, dict[str, str]] = field(default_factory=dict)


def _provider_app(provider: Provider) -> FastAPI:
    app = FastAPI()

    @app.get("/.well-known/openid-configuration")
    def discovery() -> dict[str, Any]:
        return {
            "issuer": provider.issuer,
            "authorization_endpoint": provider.issuer + "/authorize",
            "token_endpoint": provider.issuer + "/token",
            "jwks_uri": provider.issuer + "/jwks",
            "response_types_supported": ["code"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    @app.get("/jwks")
    def jwks() -> dict[str, Any]:
        return {"keys": [provider.key.as_dict(private=False)]}

    @app.get("/authorize")
    def authorize(request: Request) -> RedirectResponse:
        q = request.query_params
        if q.get("client_id") != CLIENT_ID or q.get("code_challenge_method") != "S256":
            raise HTTPException(400, "bad authorisation request")
        code = secrets.token_urlsafe(16)
        provider.codes[code] = {k: q[k] for k in ("redirect_uri", "nonce", "code_challenge")}
        target = q["redirect_uri"] + "?" + urlencode({"code": code, "state": q["state"]})
        return RedirectResponse(target, status_code=302)

    @app.post("/token")
    def token(
        request: Request,
        grant_type: str = Form(...),
        code: str = Form(...),
        redirect_uri: str = Form(...),
        code_verifier: str = Form(...),
    ) -> dict[str, Any]:
        auth = request.headers.get("authorization", "")
        client = base64.b64decode(auth[6:]).decode() if auth.lower().startswith("basic ") else ""
        if client != f"{CLIENT_ID}:{CLIENT_SECRET}":
            raise HTTPException(401, "bad client")
        grant = provider.codes.pop(code, None)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest())
        if (
            grant is None
            or grant_type != "authorization_code"
            or grant["redirect_uri"] != redirect_uri
            or grant["code_challenge"] != challenge.rstrip(b"=").decode()
        ):
            raise HTTPException(400, "invalid_grant")
        now = int(time.time())
        claims = {
            "iss": provider.issuer, "aud": provider.audience, "sub": "idp-" + provider.username,
            "preferred_username": provider.username, "nonce": grant["nonce"],
            "iat": now, "exp": now + 300,
        }  # fmt: skip
        header = {"alg": "RS256", "kid": provider.signer.kid}
        return {
            "access_token": "unused",
            "token_type": "Bearer",
            "id_token": jwt.encode(header, claims, provider.signer),
        }

    return app


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def provider() -> Iterator[Provider]:
    port = _free_port()
    key = RSAKey.generate_key(2048, auto_kid=True)
    found = Provider(issuer=f"http://127.0.0.1:{port}", key=key, signer=key)
    server = uvicorn.Server(
        uvicorn.Config(_provider_app(found), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the test provider did not start"
        time.sleep(0.05)
    try:
        yield found
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def sso_client(engine: Engine, world: World, provider: Provider) -> Iterator[TestClient]:
    settings = Settings(
        run_jobs=False,
        oidc_issuer=provider.issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
    )
    with TestClient(create_app(settings, engine)) as client:
        yield client


def _round_trip(client: TestClient) -> httpx.Response:
    """Log in, follow the provider's redirect like a browser, return the callback's answer."""
    start = client.get("/api/v1/auth/oidc/login", follow_redirects=False)
    assert start.status_code == 302, start.text
    back = httpx.get(start.headers["location"], follow_redirects=False)
    assert back.status_code == 302, back.text
    callback = urlsplit(back.headers["location"])
    assert callback.path == "/api/v1/auth/oidc/callback"
    return client.get(f"{callback.path}?{callback.query}", follow_redirects=False)


def test_single_sign_on_opens_a_local_session(sso_client: TestClient, world: World) -> None:
    answer = _round_trip(sso_client)
    assert answer.status_code == 303 and answer.headers["location"] == "/console/"
    cookie = answer.headers["set-cookie"]
    assert "pingan_session=" in cookie and "HttpOnly" in cookie
    me = sso_client.get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json()["username"] == "west_admin"
    assert [g["role"] for g in me.json()["grants"]] == ["admin"]  # local grants
    audit = sso_client.get("/api/v1/audit", headers=world.headers["city_admin"]).json()
    assert any(e["action"] == "auth.login" and (e.get("detail") or {}).get("via") == "oidc"
               for e in audit)  # fmt: skip


def test_state_must_match_the_one_sent(sso_client: TestClient, world: World) -> None:
    start = sso_client.get("/api/v1/auth/oidc/login", follow_redirects=False)
    back = httpx.get(start.headers["location"], follow_redirects=False)
    query = parse_qs(urlsplit(back.headers["location"]).query)
    forged = sso_client.get(
        "/api/v1/auth/oidc/callback",
        params={"code": query["code"][0], "state": "forged"},
        follow_redirects=False,
    )
    assert forged.status_code == 401 and "pingan_session" not in sso_client.cookies
    sso_client.cookies.clear()  # a callback without the pending cookie: not started here
    lost = sso_client.get(
        "/api/v1/auth/oidc/callback",
        params={"code": query["code"][0], "state": query["state"][0]},
        follow_redirects=False,
    )
    assert lost.status_code == 401


def test_unknown_local_user_is_refused(sso_client: TestClient, provider: Provider) -> None:
    provider.username = "stranger"
    answer = _round_trip(sso_client)
    assert answer.status_code == 401 and "no active local account" in answer.json()["detail"]
    assert "pingan_session" not in sso_client.cookies


def test_token_signed_by_another_key_or_for_another_client_is_refused(
    sso_client: TestClient, provider: Provider
) -> None:
    provider.signer = RSAKey.generate_key(2048, parameters={"kid": provider.key.kid})
    assert _round_trip(sso_client).status_code == 401
    provider.signer = provider.key
    provider.audience = "another-client"
    assert _round_trip(sso_client).status_code == 401
    assert "pingan_session" not in sso_client.cookies


def test_without_configuration_sso_is_404(app_client: TestClient) -> None:
    response = app_client.get("/api/v1/auth/oidc/login", follow_redirects=False)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
