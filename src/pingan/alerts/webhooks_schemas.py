"""Webhook subscriptions and deliveries over HTTP."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class WebhookIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    url: str = Field(min_length=1, max_length=500, description="http(s) URL the alerts go to")
    org_unit_id: int = Field(description="Alerts inside this org unit")
    events: list[str] = Field(default_factory=list, description="Event names; empty = all")
    methods: list[str] = Field(default_factory=list, description="Detection methods; empty = all")
    secret: str | None = Field(
        None, min_length=16, max_length=64, description="HMAC key; generated when omitted"
    )


class WebhookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    url: str
    org_unit_id: int
    events: list[str]
    methods: list[str]
    active: bool
    created_by: str
    created_at: dt.datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="Shown once: keep it to verify X-Pingan-Signature")


class ActiveIn(BaseModel):
    active: bool


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    attempt: int
    worker: str
    at: dt.datetime
    status_code: int | None
    error: str | None
    seconds: float


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    subscription_id: int
    alert_id: int
    event: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    last_error: str | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None
    history: list[AttemptOut] = Field(default_factory=list)
