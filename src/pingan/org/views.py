"""HTTP routes of the org domain: login, org units, users and API keys."""

from __future__ import annotations

import json
from typing import Annotated, Any

import shapely
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.api.deps import SESSION_COOKIE, CurrentPrincipal, DbSession
from pingan.kit import audit
from pingan.kit.errors import NotFound, Unauthenticated
from pingan.kit.pagination import Page
from pingan.org import auth, service, users
from pingan.org.levels import Level
from pingan.org.models import AuthToken, OrgUnit, User
from pingan.org.permissions import Perm
from pingan.org.principal import Principal
from pingan.org.schemas import (
    ApiKeyIn,
    ApiKeyOut,
    GrantIn,
    GrantOut,
    LoginIn,
    MeOut,
    OrgUnitOut,
    TokenOut,
    UserIn,
    UserOut,
)

auth_router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
org_router = APIRouter(prefix="/api/v1/org", tags=["org"])
users_router = APIRouter(prefix="/api/v1/users", tags=["users"])


def _ttl(request: Request) -> float:
    return float(request.app.state.settings.session_ttl_hours)


def _login(
    request: Request, session: Session, username: str, password: str
) -> tuple[str, AuthToken, User]:
    settings = request.app.state.settings
    try:
        return auth.login(
            session,
            username=username,
            password=password,
            ttl_hours=_ttl(request),
            max_failures=int(settings.login_max_failures),
            lockout_minutes=float(settings.login_lockout_minutes),
        )
    except Unauthenticated:
        session.commit()  # keep the audit entry of the failed attempt
        raise


@auth_router.post("/login", response_model=TokenOut)
def login(body: LoginIn, request: Request, response: Response, session: DbSession) -> TokenOut:
    """Log in: sets the session cookie for the console and returns a bearer token."""
    token, record, _user = _login(request, session, body.username, body.password)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=bool(request.app.state.settings.cookie_secure),
        max_age=int(_ttl(request) * 3600),
        path="/",
    )
    return TokenOut(access_token=token, expires_at=record.expires_at)


@auth_router.post("/token", response_model=TokenOut, include_in_schema=True)
def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, session: DbSession
) -> TokenOut:
    """OAuth2 password flow (what the Authorize button in /docs uses)."""
    secret, record, _user = _login(request, session, form.username, form.password)
    return TokenOut(access_token=secret, expires_at=record.expires_at)


@auth_router.post("/logout", status_code=204)
def logout(request: Request, response: Response, session: DbSession) -> Response:
    header = request.headers.get("authorization", "")
    secret = (
        header[7:] if header.lower().startswith("bearer ") else request.cookies.get(SESSION_COOKIE)
    )
    if secret:
        auth.logout(session, token=secret)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.status_code = 204
    return response


@auth_router.get("/me", response_model=MeOut)
def me(principal: CurrentPrincipal) -> MeOut:
    return MeOut(
        user_id=principal.user_id,
        username=principal.username,
        via=principal.via,
        grants=[
            GrantOut(
                org_unit_id=g.unit_id, level=g.level, role=g.role, permissions=sorted(g.permissions)
            )
            for g in principal.grants
        ],
    )


def _unit_out(unit: OrgUnit, with_boundary: bool) -> OrgUnitOut:
    boundary = None
    if with_boundary and unit.boundary is not None:
        boundary = json.loads(shapely.to_geojson(unit.boundary))
    fields = {name: getattr(unit, name) for name in OrgUnitOut.model_fields if name != "boundary"}
    return OrgUnitOut(boundary=boundary, **fields)


@org_router.get("/units", response_model=Page[OrgUnitOut])
def list_units(
    principal: CurrentPrincipal,
    session: DbSession,
    level: Level | None = None,
    parent_id: int | None = None,
    boundary: bool = Query(False, description="Include each unit's boundary as GeoJSON"),
    limit: int = Query(100, ge=1, le=1000),
    after_id: int | None = None,
) -> Page[OrgUnitOut]:
    """Org units within your scope, in id order."""
    units = service.list_units(
        session,
        principal=principal,
        level=level,
        parent_id=parent_id,
        limit=limit,
        after_id=after_id,
    )
    next_after = units[-1].id if len(units) == limit else None
    return Page(items=[_unit_out(u, boundary) for u in units], next_after_id=next_after)


@org_router.get("/units.geojson")
def units_geojson(
    principal: CurrentPrincipal,
    session: DbSession,
    level: Level = Level.DISTRICT,
    parent_id: int | None = None,
) -> dict[str, Any]:
    """Boundaries of every unit of a level within your scope, as a GeoJSON FeatureCollection."""
    units = service.list_units(
        session, principal=principal, level=level, parent_id=parent_id, limit=100_000
    )
    features = [
        {
            "type": "Feature",
            "id": u.id,
            "geometry": None if u.boundary is None else json.loads(shapely.to_geojson(u.boundary)),
            "properties": {
                "code": u.code,
                "name_zh": u.name_zh,
                "name_en": u.name_en,
                "level": u.level,
                "population": u.population,
                "households": u.households,
                "area_km2": u.area_km2,
            },
        }
        for u in units
    ]
    return {"type": "FeatureCollection", "features": features}


@org_router.get("/units/{unit_id}", response_model=OrgUnitOut)
def get_unit(unit_id: int, principal: CurrentPrincipal, session: DbSession) -> OrgUnitOut:
    return _unit_out(service.get_unit(session, unit_id, principal=principal), True)


def _user_out(user: User, actor: Principal | None = None) -> UserOut:
    # An administrator sees the grants inside their own scope only.
    shown = [m for m in user.memberships if actor is None or users.visible_grant(actor, m)]
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        is_active=user.is_active,
        is_service=user.is_service,
        grants=[f"{m.role.name}@{m.org_unit.code}" for m in shown],
    )


@users_router.get("", response_model=list[UserOut])
def list_users(principal: CurrentPrincipal, session: DbSession) -> list[UserOut]:
    found = users.list_users(session, actor=principal)
    audit.record(
        session, actor=principal.actor, action="users.read", object_type="user",
        detail={"count": len(found)},
    )  # fmt: skip
    return [_user_out(u, principal) for u in found]


@users_router.post("", response_model=UserOut, status_code=201)
def create_user(body: UserIn, principal: CurrentPrincipal, session: DbSession) -> UserOut:
    user = users.create_user(
        session,
        username=body.username,
        password=body.password,
        display_name=body.display_name,
        is_service=body.is_service,
        actor=principal,
    )
    session.refresh(user, ["memberships"])
    return _user_out(user)


@users_router.post("/{user_id}/grants", response_model=UserOut, status_code=201)
def grant(user_id: int, body: GrantIn, principal: CurrentPrincipal, session: DbSession) -> UserOut:
    principal.require(Perm.USERS_ADMIN)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    unit = service.get_unit(session, body.org_unit_id, principal=principal)
    users.grant_role(session, user=user, role_name=body.role, unit=unit, actor=principal)
    session.refresh(user, ["memberships"])
    return _user_out(user, principal)


@users_router.post("/api-keys", response_model=ApiKeyOut, status_code=201)
def create_api_key(body: ApiKeyIn, principal: CurrentPrincipal, session: DbSession) -> ApiKeyOut:
    user = session.scalar(select(User).where(User.username == body.username))
    if user is None:
        raise NotFound(f"user {body.username!r} not found", field="username")
    secret, key = auth.create_api_key(
        session, user=user, name=body.name, actor=principal, scopes=body.scopes
    )
    return ApiKeyOut(id=key.id, name=key.name, key=secret, scopes=key.scopes)
