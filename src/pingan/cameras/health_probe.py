"""Active probe for cameras that speak ONVIF: ask the device for its clock.

``GetSystemDateAndTime`` is the one device-management call ONVIF lets any
client make without credentials, so a probe needs only the address: no
password is stored. A camera that answers within the timeout counts as a
heartbeat (online, with its clock offset recorded); one that does not opens
an outage with cause ``probe``. The WSDL is parsed once per process.
"""

from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import onvif  # type: ignore[import-untyped]
import zeep
from onvif import ONVIFService
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from zeep.transports import Transport

from pingan.cameras import health, health_intake
from pingan.cameras.health_models import (
    CameraLiveState,
    CameraProbeTarget,
    LiveState,
    NoticeKind,
    OutageCause,
)
from pingan.kit import audit, jobs
from pingan.kit.db import session_scope, utcnow
from pingan.kit.errors import ValidationFailed
from pingan.org.principal import Principal

DEVICE_BINDING = "{http://www.onvif.org/ver10/device/wsdl}DeviceBinding"
WSDL_DIR = Path(onvif.__file__).resolve().parent.parent / "wsdl"
DEFAULT_TIMEOUT_S = 3.0
PROBE_KIND = "cameras.health.probe"


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    device_time: dt.datetime | None
    clock_offset_s: float | None
    latency_ms: float
    error: str | None = None


@lru_cache(maxsize=4)
def _client(timeout_s: float) -> zeep.Client:
    transport = Transport(timeout=timeout_s, operation_timeout=timeout_s)  # type: ignore[no-untyped-call]
    settings = zeep.Settings(strict=False, xml_huge_tree=True)
    wsdl = str(WSDL_DIR / "devicemgmt.wsdl")
    return zeep.Client(wsdl=wsdl, transport=transport, settings=settings)  # type: ignore[no-untyped-call]


def probe(host: str, port: int, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> ProbeResult:
    """Call GetSystemDateAndTime on ``http://host:port/onvif/device_service``."""
    xaddr = f"http://{host}:{int(port)}/onvif/device_service"
    started = time.monotonic()
    try:
        service = ONVIFService(
            xaddr, None, None, str(WSDL_DIR / "devicemgmt.wsdl"),
            zeep_client=_client(float(timeout_s)), binding_name=DEVICE_BINDING,
        )  # fmt: skip
        answer = service.GetSystemDateAndTime()
        received = utcnow()
        device_time = _device_utc(answer)
    except Exception as exc:  # any failure to answer means the camera is not reachable
        return ProbeResult(
            False, None, None, (time.monotonic() - started) * 1000, _describe(exc)[:300]
        )
    latency = (time.monotonic() - started) * 1000
    offset = None if device_time is None else (device_time - received).total_seconds()
    return ProbeResult(True, device_time, offset, latency)


def _device_utc(answer: Any) -> dt.datetime | None:
    utc = getattr(answer, "UTCDateTime", None)
    if utc is None:
        return None
    d, t = utc.Date, utc.Time
    return dt.datetime(d.Year, d.Month, d.Day, t.Hour, t.Minute, t.Second, tzinfo=dt.UTC)


def _describe(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    if "timed out" in text.lower() or "timeout" in text.lower():
        return "no answer within the timeout"
    return text


def set_target(
    session: Session, *, camera_id: int, host: str, port: int, actor: Principal
) -> CameraProbeTarget:
    """Record (or change) where a camera answers ONVIF."""
    health.require_camera(session, camera_id, actor, health.REPORT)
    if not host or any(c in host for c in "/?#@ ") or not 0 < port < 65536:
        raise ValidationFailed("host must be a bare host name or address, port 1-65535")
    target = session.get(CameraProbeTarget, camera_id)
    if target is None:
        target = CameraProbeTarget(camera_id=camera_id, host=host, port=port)
        session.add(target)
    else:
        target.host, target.port = host, port
    session.flush()
    audit.record(
        session, actor=actor.actor, action="cameras.health.probe_target",
        object_type="camera", object_id=camera_id, detail={"host": host, "port": port},
    )  # fmt: skip
    return target


def probe_camera(
    session: Session,
    *,
    camera_id: int,
    actor: Principal,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    result: ProbeResult | None = None,
) -> ProbeResult:
    """Probe one camera at its recorded address and apply the answer to its health."""
    health.require_camera(session, camera_id, actor, health.REPORT)
    target = session.get(CameraProbeTarget, camera_id)
    if target is None:
        raise ValidationFailed(f"camera {camera_id} has no ONVIF address", field="camera_id")
    result = result or probe(target.host, target.port, timeout_s=timeout_s)
    record_result(session, target, result, actor=actor)
    return result


def record_result(
    session: Session, target: CameraProbeTarget, result: ProbeResult, *, actor: Principal
) -> None:
    now = utcnow()
    target.last_probe_at = now
    target.last_ok = result.ok
    target.last_error = result.error
    target.clock_offset_s = result.clock_offset_s
    if result.ok:
        beats = health_intake.Heartbeats(
            np.zeros(1, np.int64), np.array([target.camera_id], np.int64),
            np.array([health_intake.us(now)], np.int64), np.ones(1, np.bool_),
            np.full(1, np.nan), np.full(1, np.nan),
        )  # fmt: skip
        health_intake.ingest(session, beats, actor=Principal.system("probe"), now=now)
        return
    state = session.get(CameraLiveState, target.camera_id)
    if state is not None and state.state == LiveState.ONLINE.value:
        outage_id = health.open_outage(session, state, at=now, cause=OutageCause.PROBE, now=now)
        health.add_notices(session, [outage_id], NoticeKind.OPENED, now)


def probe_all(
    engine: Engine, *, timeout_s: float = DEFAULT_TIMEOUT_S, workers: int = 16
) -> dict[str, int]:
    """Probe every recorded target in parallel threads; results applied in one transaction."""
    with session_scope(engine) as session:
        targets = [
            (t.camera_id, t.host, t.port) for t in session.scalars(select(CameraProbeTarget))
        ]
    if not targets:
        return {"probed": 0, "ok": 0, "failed": 0}
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(targets)))) as pool:
        results = list(pool.map(lambda t: probe(t[1], t[2], timeout_s=timeout_s), targets))
    system = Principal.system("probe")
    with session_scope(engine) as session:
        for (camera_id, _host, _port), result in zip(targets, results, strict=True):
            target = session.get(CameraProbeTarget, camera_id)
            if target is not None:
                record_result(session, target, result, actor=system)
    ok = sum(r.ok for r in results)
    return {"probed": len(results), "ok": ok, "failed": len(results) - ok}


@jobs.register(PROBE_KIND, "Probe the cameras that have an ONVIF address")
def _probe_job(engine: Engine, params: dict[str, Any], progress: jobs.Progress) -> dict[str, Any]:
    timeout = float(params.get("timeout_s", DEFAULT_TIMEOUT_S))
    return dict(probe_all(engine, timeout_s=timeout))
