"""Pydantic models for the org domain's HTTP API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: dt.datetime | None = None


class GrantOut(BaseModel):
    org_unit_id: int
    level: str
    role: str
    permissions: list[str]


class MeOut(BaseModel):
    user_id: int | None
    username: str
    via: str
    grants: list[GrantOut]


class OrgUnitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    parent_id: int | None
    level: str
    code: str
    name_zh: str
    name_en: str
    area_km2: float | None
    population: int | None
    households: int | None
    boundary: dict[str, Any] | None = Field(None, description="GeoJSON, when asked for")


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=100)
    password: str | None = Field(None, min_length=8, max_length=1000)
    display_name: str = Field("", max_length=200)
    is_service: bool = False


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    is_active: bool
    is_service: bool
    grants: list[str] = Field(description="role@org_unit_code")


class GrantIn(BaseModel):
    role: str
    org_unit_id: int


class ApiKeyIn(BaseModel):
    username: str
    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] | None = Field(
        None,
        max_length=10,
        description="read, intake, dispatch, admin or all; none: all its user may do",
    )


class ApiKeyOut(BaseModel):
    id: int
    name: str
    key: str = Field(description="Shown once; store it now")
    scopes: list[str] | None = None
