"""Federation: a signed, aggregated alert and hotspot feed, and neighbours' feeds as a layer.

**Publishing.** ``GET /api/v1/federation/feed`` is a GeoJSON FeatureCollection
of (a) the open alerts, each as its area's outline with method, window,
statistic, p, observed and expected, and (b) the current hotspot grid cells:
cells whose count over the last 7 days is above their previous 28 days' rate
(Poisson upper tail p <= 0.01) with at least ``MIN_CELL_COUNT`` incidents.
Only areas and counts leave: no incident, time of day, type detail below the
alert's own codes, or person. The raw body is signed with the installation's
Ed25519 key (made on first use, kept in ``pingan_meta``): header
``X-Pingan-Feed-Signature: ed25519=<base64 signature of the body bytes>``;
the public key is at ``GET /api/v1/federation/key``.

**Subscribing.** An admin adds a neighbour (name, feed URL, its public key).
The ``alerts.federation`` job polls each active neighbour every 5 minutes,
verifies the signature over the exact bytes received, refuses a feed older
than the one held (no replay), and stores it; a failed poll keeps the last
good layer and records the error. ``GET /api/v1/federation/peers/{id}/layer``
serves it, each feature marked with the neighbour's name.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np
import shapely
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from scipy import stats
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pingan.alerts.federation_models import FederationPeer
from pingan.alerts.models import OPEN_STATUSES, Alert
from pingan.alerts.service import area_geometries
from pingan.incidents.cube import CubeFilter, load_cube
from pingan.kit import audit, jobs, meta, sealed
from pingan.kit.db import session_scope, utcnow
from pingan.kit.errors import Conflict, NotFound, ValidationFailed
from pingan.org.models import OrgUnit
from pingan.org.permissions import Perm
from pingan.org.principal import Principal

KIND = "alerts.federation"
MANAGE = Perm.ALERTS_INTEGRATIONS
KEY_META = "federation.ed25519_private"
SIGNATURE_HEADER = "X-Pingan-Feed-Signature"
MIN_CELL_COUNT = 3  # smaller counts stay home: too close to single incidents
RECENT_DAYS, BASELINE_DAYS, HOTSPOT_P = 7, 28, 0.01
MAX_FEED_BYTES = 5_000_000


# -- keys and signatures -------------------------------------------------------------------


def _private_key(session: Session) -> Ed25519PrivateKey:
    stored = meta.get_value(session, KEY_META)
    if stored is None:
        key = Ed25519PrivateKey.generate()
        raw = key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        meta.set_value(session, KEY_META, sealed.seal(base64.b64encode(raw).decode()))
        return key
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(sealed.unseal(stored)))


def public_key(session: Session) -> str:
    """This installation's feed key, base64 of the 32 raw bytes."""
    raw = (
        _private_key(session)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    return base64.b64encode(raw).decode()


def _load_public(key_b64: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(key_b64, validate=True))
    except (ValueError, binascii.Error):
        raise ValidationFailed(
            "public_key must be base64 of a 32-byte Ed25519 key", field="public_key"
        ) from None


def verify(key_b64: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is a good signature of ``body`` under the key."""
    if not header or not header.startswith("ed25519="):
        return False
    try:
        signature = base64.b64decode(header.removeprefix("ed25519="), validate=True)
        _load_public(key_b64).verify(signature, body)
    except (InvalidSignature, ValueError, binascii.Error, ValidationFailed):
        return False
    return True


# -- the feed ------------------------------------------------------------------------------


def _issuer(session: Session) -> str:
    root = session.scalars(select(OrgUnit).where(OrgUnit.parent_id.is_(None)).limit(1)).first()
    return root.name_en if root is not None else "pingan"


def _alert_features(session: Session) -> list[dict[str, Any]]:
    alerts = session.scalars(
        select(Alert).where(Alert.status.in_(OPEN_STATUSES)).order_by(Alert.id)
    ).all()
    out = []
    for a, geometry in zip(alerts, area_geometries(session, alerts), strict=True):
        if geometry is None:
            continue
        out.append(
            {
                "type": "Feature",
                "geometry": geometry,
                "properties": {
                    "kind": "alert",
                    "id": a.id,
                    "method": a.method,
                    "status": a.status,
                    "incident_types": a.types_list(),
                    "window_start": a.window_start.isoformat(),
                    "window_end": a.window_end.isoformat(),
                    "statistic": round(a.statistic, 4),
                    "p_value": a.p_value,
                    "recurrence_days": a.recurrence_days,
                    "observed": a.observed,
                    "expected": round(a.expected, 3),
                },
            }
        )
    return out


def _hotspot_features(session: Session, now: dt.datetime) -> list[dict[str, Any]]:
    since = now - dt.timedelta(days=RECENT_DAYS + BASELINE_DAYS)
    cube = load_cube(session, CubeFilter(since=since, until=now), actor=Principal.system("feed"))
    keep = cube.grid_id > 0
    if not np.any(keep):
        return []
    grid = cube.grid_id[keep].astype(np.int64)
    recent = cube.t[keep] >= (now - dt.timedelta(days=RECENT_DAYS)).timestamp()
    ids, loc = np.unique(grid, return_inverse=True)
    n_recent = np.bincount(loc[recent], minlength=ids.size)
    n_before = np.bincount(loc[~recent], minlength=ids.size)
    # Expected in the last week from the weeks before (0.5 floor: a quiet cell is not a void).
    expected = np.maximum(n_before * RECENT_DAYS / BASELINE_DAYS, 0.5)
    p = stats.poisson.sf(n_recent - 1, expected)
    hot = np.flatnonzero((n_recent >= MIN_CELL_COUNT) & (p <= HOTSPOT_P))
    units = {
        u.id: u
        for u in session.scalars(select(OrgUnit).where(OrgUnit.id.in_([int(ids[i]) for i in hot])))
    }
    out = []
    for i in hot:
        unit = units.get(int(ids[i]))
        if unit is None or unit.boundary is None:
            continue
        out.append(
            {
                "type": "Feature",
                "geometry": json.loads(shapely.to_geojson(unit.boundary)),
                "properties": {
                    "kind": "hotspot",
                    "cell": unit.code,
                    "count_7d": int(n_recent[i]),
                    "expected_7d": round(float(expected[i]), 3),
                    "p_value": float(p[i]),
                },
            }
        )
    return out


def build_feed(session: Session, *, now: dt.datetime | None = None) -> tuple[bytes, str]:
    """The feed body and its signature header value."""
    now = now or utcnow()
    body = json.dumps(
        {
            "type": "FeatureCollection",
            "issuer": _issuer(session),
            "generated_at": now.isoformat(),
            "features": _alert_features(session) + _hotspot_features(session, now),
        },
        separators=(",", ":"),
    ).encode()
    signature = _private_key(session).sign(body)
    return body, "ed25519=" + base64.b64encode(signature).decode()


# -- neighbours ----------------------------------------------------------------------------


def add_peer(
    session: Session, *, name: str, url: str, public_key: str, actor: Principal
) -> FederationPeer:
    actor.require(MANAGE)
    if not name.strip():
        raise ValidationFailed("name must not be empty", field="name")
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:  # e.g. a broken IPv6 literal
        host = None
    if not host or parts.scheme not in ("http", "https"):
        raise ValidationFailed("url must be an absolute http(s) URL", field="url")
    _load_public(public_key.strip())
    if session.scalar(select(FederationPeer.id).where(FederationPeer.name == name.strip())):
        raise Conflict(f"a neighbour named {name.strip()!r} exists")
    peer = FederationPeer(
        name=name.strip(), url=url.strip(), public_key=public_key.strip(), active=True,
        created_by=actor.actor,
    )  # fmt: skip
    session.add(peer)
    session.flush()
    audit.record(
        session, actor=actor.actor, action="federation.peer.add", object_type="federation_peer",
        object_id=peer.id, detail={"name": peer.name, "url": peer.url},
    )  # fmt: skip
    return peer


def list_peers(session: Session, *, actor: Principal) -> list[FederationPeer]:
    actor.require(Perm.INCIDENTS_READ)
    return list(session.scalars(select(FederationPeer).order_by(FederationPeer.id)))


def peer_layer(session: Session, peer_id: int, *, actor: Principal) -> dict[str, Any]:
    """The neighbour's latest verified feed, each feature marked as theirs."""
    actor.require(Perm.INCIDENTS_READ)
    peer = session.get(FederationPeer, peer_id)
    if peer is None:
        raise NotFound(f"neighbour {peer_id} not found")
    layer: dict[str, Any] = (
        json.loads(peer.layer) if peer.layer else {"type": "FeatureCollection", "features": []}
    )
    for feature in layer.get("features", []):
        feature.setdefault("properties", {})["peer"] = peer.name
    layer["peer"] = peer.name
    layer["fetched_at"] = peer.last_ok_at.isoformat() if peer.last_ok_at else None
    return layer


def _check_feed(peer: FederationPeer, body: bytes, signature: str | None) -> dt.datetime:
    if not verify(peer.public_key, body, signature):
        raise ValueError("bad or missing signature")
    doc = json.loads(body)
    if doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise ValueError("not a GeoJSON FeatureCollection")
    generated = dt.datetime.fromisoformat(str(doc["generated_at"]))
    if generated.tzinfo is None:
        raise ValueError("generated_at has no time zone")
    if peer.layer_generated_at is not None and generated <= peer.layer_generated_at:
        raise ValueError("feed is not newer than the one held (replayed?)")
    return generated


def poll_peers(engine: Engine, *, client: httpx.Client | None = None) -> dict[str, int]:
    """Fetch, verify and store each active neighbour's feed; returns counts."""
    own = client is None
    http = client or httpx.Client(timeout=15.0, follow_redirects=False)
    done = {"ok": 0, "failed": 0}
    try:
        with session_scope(engine) as session:
            ids = list(session.scalars(select(FederationPeer.id).where(FederationPeer.active)))
        for peer_id in ids:
            with session_scope(engine) as session:
                peer = session.get(FederationPeer, peer_id)
                if peer is None:
                    continue
                peer.last_polled_at = utcnow()
                try:
                    response = http.get(peer.url)
                    response.raise_for_status()
                    if len(response.content) > MAX_FEED_BYTES:
                        raise ValueError("feed too large")
                    generated = _check_feed(
                        peer, response.content, response.headers.get(SIGNATURE_HEADER)
                    )
                except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
                    peer.last_error = f"{type(exc).__name__}: {exc}"[:1000]
                    done["failed"] += 1
                    continue
                peer.layer = response.content.decode()
                peer.layer_generated_at = generated
                peer.last_ok_at = peer.last_polled_at
                peer.last_error = None
                done["ok"] += 1
    finally:
        if own:
            http.close()
    return done


@jobs.register(KIND, "Poll neighbours' signed alert feeds")
def poll_job(engine: Engine, params: dict[str, Any], progress: jobs.Progress) -> dict[str, Any]:
    return dict(poll_peers(engine))
