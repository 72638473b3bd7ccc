"""HTTP routes of federation: our signed feed and key, neighbours and their layers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from pingan.alerts import federation
from pingan.api.deps import CurrentPrincipal, DbSession

router = APIRouter(prefix="/api/v1/federation", tags=["federation"])


class PeerIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    url: str = Field(min_length=1, max_length=500, description="The neighbour's feed URL")
    public_key: str = Field(min_length=1, max_length=100, description="Ed25519, base64")


class PeerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    url: str
    public_key: str
    active: bool
    layer_generated_at: dt.datetime | None
    last_polled_at: dt.datetime | None
    last_ok_at: dt.datetime | None
    last_error: str | None


class KeyOut(BaseModel):
    algorithm: str = "ed25519"
    public_key: str
    header: str = federation.SIGNATURE_HEADER


@router.get("/feed")
def feed(session: DbSession) -> Response:
    """Open alerts and hotspot cells as signed GeoJSON; aggregated, so neighbours need no login."""
    body, signature = federation.build_feed(session)
    return Response(
        body,
        media_type="application/geo+json",
        headers={federation.SIGNATURE_HEADER: signature, "Cache-Control": "no-store"},
    )


@router.get("/key", response_model=KeyOut)
def key(session: DbSession) -> KeyOut:
    """The public key that verifies our feed: give it to the neighbours."""
    return KeyOut(public_key=federation.public_key(session))


@router.get("/peers", response_model=list[PeerOut])
def list_peers(principal: CurrentPrincipal, session: DbSession) -> list[PeerOut]:
    return [PeerOut.model_validate(p) for p in federation.list_peers(session, actor=principal)]


@router.post("/peers", response_model=PeerOut, status_code=201)
def add_peer(body: PeerIn, principal: CurrentPrincipal, session: DbSession) -> PeerOut:
    """Subscribe to a neighbour's feed (admins); it is polled every 5 minutes."""
    peer = federation.add_peer(
        session, name=body.name, url=body.url, public_key=body.public_key, actor=principal
    )
    return PeerOut.model_validate(peer)


@router.get("/peers/{peer_id}/layer")
def peer_layer(peer_id: int, principal: CurrentPrincipal, session: DbSession) -> dict[str, Any]:
    """The neighbour's latest verified feed as GeoJSON, features marked with its name."""
    return federation.peer_layer(session, peer_id, actor=principal)
