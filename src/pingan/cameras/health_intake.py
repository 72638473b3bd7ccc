"""Heartbeat intake: a batch of status reports in a handful of set-based statements.

A batch of N reports costs one lookup of the cameras named, one lookup of the
few cameras whose state may change, one upsert of the live state (one row per
camera, never one per report) and a short Python pass over the cameras that
went offline or came back. Validation works on columns, not on a model per row.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    Table,
    bindparam,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from pingan.cameras import health
from pingan.cameras.health_models import (
    CameraLiveState,
    CameraOutage,
    LiveState,
    NoticeKind,
    OutageCause,
)
from pingan.cameras.models import Camera, CameraOwner
from pingan.kit import audit
from pingan.kit.db import is_postgres, utcnow
from pingan.kit.errors import ValidationFailed
from pingan.org.models import OrgUnit
from pingan.org.principal import Principal

# Camera clocks drift; a report this far in the future is refused.
FUTURE_TOLERANCE = dt.timedelta(minutes=2)
# Older reports say nothing about availability now and would stretch a new camera's history.
MAX_AGE = dt.timedelta(days=7)
MAX_FPS = 1000.0
MAX_BITRATE_KBPS = 10_000_000.0
_CHUNK = 5000

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]


@dataclass
class Rejected:
    index: int
    field: str | None
    reason: str


@dataclass
class Heartbeats:
    """Valid reports as columns; ``index`` is each report's position in the request."""

    index: I64
    camera_id: I64
    at_us: I64  # microseconds since the epoch, UTC
    online: B
    fps: F64  # NaN where not reported
    bitrate_kbps: F64

    def __len__(self) -> int:
        return int(self.index.size)

    def take(self, keep: B | I64) -> Heartbeats:
        return Heartbeats(
            self.index[keep], self.camera_id[keep], self.at_us[keep], self.online[keep],
            self.fps[keep], self.bitrate_kbps[keep],
        )  # fmt: skip


@dataclass
class IntakeReport:
    received: int = 0
    accepted: int = 0
    cameras: int = 0
    went_offline: list[int] = field(default_factory=list)
    recovered: list[int] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


def parse_body(body: bytes, *, ndjson: bool) -> tuple[list[Any], list[Rejected]]:
    """The request body as a list of rows; NDJSON lines that are not JSON are rejected."""
    if ndjson:
        lines = [ln for ln in body.split(b"\n") if ln.strip()]
        try:  # one parse of the whole body is far faster than one per line
            rows: list[Any] = json.loads(b"[" + b",".join(lines) + b"]")
            if len(rows) == len(lines):  # else some line held more or less than one value
                return rows, []
        except json.JSONDecodeError:
            pass
        rows, bad = [], []
        for i, line in enumerate(lines):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                rows.append(None)
                bad.append(Rejected(i, None, f"line {i + 1} is not valid JSON: {exc.msg}"))
        return rows, bad
    try:
        data = json.loads(body or b"null")
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"body is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(data, list):
        raise ValidationFailed(
            "body must be a JSON array of heartbeats (or send application/x-ndjson)"
        )
    return data, []


def resolve_owner_ids(session: Session, rows: list[Any], owner_code: str) -> list[Rejected]:
    """Give rows that name a camera by the owner's own id (``owner_camera_id``) its camera_id.

    Owners' video systems know their cameras by their own ids; the owner is
    named once for the whole batch. Rows whose id the owner does not have
    are rejected (and must be skipped by ``validate``).
    """
    owner_id = session.scalar(select(CameraOwner.id).where(CameraOwner.code == owner_code))
    if owner_id is None:
        raise ValidationFailed(f"unknown camera owner {owner_code!r}", field="owner")
    names = sorted(
        {
            r["owner_camera_id"]
            for r in rows
            if type(r) is dict and type(r.get("owner_camera_id")) is str
        }
    )
    known: dict[str, int] = {}
    for start in range(0, len(names), _CHUNK):
        chunk = names[start : start + _CHUNK]
        found = session.execute(
            select(Camera.owner_camera_id, Camera.id).where(
                Camera.owner_id == owner_id, Camera.owner_camera_id.in_(chunk)
            )
        )
        known.update({str(name): int(cid) for name, cid in found})
    rejected = []
    for i, r in enumerate(rows):
        if type(r) is not dict:
            continue
        camera = known.get(r.get("owner_camera_id"))  # type: ignore[arg-type]
        if camera is None:
            rejected.append(
                Rejected(i, "owner_camera_id", f"no camera of {owner_code} has this id")
            )
        else:
            r["camera_id"] = camera
    return rejected


def _floats(raw: list[Any]) -> tuple[F64, B]:
    """JSON numbers as floats (NaN elsewhere), and which entries were numbers at all."""
    n = len(raw)
    values = np.fromiter(
        (
            v if type(v) is float else float(v) if type(v) is int and -1e300 < v < 1e300 else np.nan
            for v in raw
        ),
        np.float64,
        n,
    )
    return values, np.isfinite(values)


def validate(
    rows: list[Any], *, now: dt.datetime | None = None, skip: set[int] | None = None
) -> tuple[Heartbeats, list[Rejected]]:
    """Check every row column by column; the first problem of a row is its reason."""
    now = now or utcnow()
    n = len(rows)
    reason: list[tuple[str | None, str] | None] = [None] * n
    for i in skip or ():
        reason[i] = (None, "")  # already rejected by the caller
    dicts = [r if type(r) is dict else {} for r in rows]
    for i, r in enumerate(rows):
        if type(r) is not dict and reason[i] is None:
            reason[i] = (None, "a heartbeat must be a JSON object")

    raw_id = [d.get("camera_id") for d in dicts]
    ok_id = np.fromiter((type(v) is int and 0 < v < 2**63 for v in raw_id), np.bool_, n)
    camera_id = np.fromiter(
        (v if ok else 0 for v, ok in zip(raw_id, ok_id, strict=True)), np.int64, n
    )

    at_us, at_problem = _times([d.get("at") for d in dicts], now)

    raw_online = [d.get("online") for d in dicts]
    ok_online = np.fromiter((type(v) is bool for v in raw_online), np.bool_, n)
    online = np.fromiter((v is True for v in raw_online), np.bool_, n)

    fps, fps_bad = _optional_numbers([d.get("fps") for d in dicts], MAX_FPS)
    rate, rate_bad = _optional_numbers([d.get("bitrate_kbps") for d in dicts], MAX_BITRATE_KBPS)

    for i in np.flatnonzero(~ok_id | (at_problem != "") | ~ok_online | fps_bad | rate_bad).tolist():
        if reason[i] is not None:
            continue
        if not ok_id[i]:
            reason[i] = ("camera_id", "camera_id must be a positive integer")
        elif at_problem[i]:
            reason[i] = ("at", str(at_problem[i]))
        elif not ok_online[i]:
            reason[i] = ("online", "online must be true or false")
        elif fps_bad[i]:
            reason[i] = ("fps", f"fps must be a number from 0 to {MAX_FPS:g}, or null")
        else:
            reason[i] = ("bitrate_kbps", "bitrate_kbps must be a non-negative number, or null")
    bad = np.fromiter((r is not None for r in reason), np.bool_, n)
    rejected = [Rejected(i, r[0], r[1]) for i, r in enumerate(reason) if r is not None and r[1]]
    good = ~bad
    beats = Heartbeats(
        np.arange(n, dtype=np.int64)[good], camera_id[good], at_us[good], online[good],
        fps[good], rate[good],
    )  # fmt: skip
    return beats, rejected


def _times(raw: list[Any], now: dt.datetime) -> tuple[I64, npt.NDArray[np.str_]]:
    """ISO 8601 strings with an offset, or epoch seconds -> microseconds; and a problem per row."""
    n = len(raw)
    problem = np.full(n, "", dtype=object)
    at_us = np.zeros(n, dtype=np.int64)
    is_str = np.fromiter((type(v) is str for v in raw), np.bool_, n)
    numbers, is_num = _floats(raw)
    if is_str.any():
        idx = np.flatnonzero(is_str)
        values, bad_text, naive = _parse_iso([raw[i] for i in idx])
        at_us[idx] = values
        problem[idx[bad_text]] = "at is not an ISO 8601 time"
        problem[idx[naive]] = "at needs a time zone offset (e.g. Z or +08:00)"
    if is_num.any():
        idx = np.flatnonzero(is_num)
        # Clipped so absurd values fail the age checks instead of overflowing.
        at_us[idx] = np.round(np.clip(numbers[idx], -1e11, 1e11) * 1e6).astype(np.int64)
    problem[~is_str & ~is_num] = "at is required: an ISO 8601 time or epoch seconds"
    now_us = us(now)
    checked = problem == ""
    problem[checked & (at_us > now_us + _us_delta(FUTURE_TOLERANCE))] = "at is in the future"
    problem[checked & (at_us < now_us - _us_delta(MAX_AGE))] = "at is more than 7 days old"
    return at_us, problem.astype(str)


def _parse_iso(strings: list[str]) -> tuple[I64, B, B]:
    """Microseconds, unparseable mask and missing-offset mask for ISO 8601 strings.

    Most senders write UTC with a trailing Z: those parse in one numpy call;
    anything else (offsets, odd forms) goes through ``datetime.fromisoformat``.
    """
    n = len(strings)
    values = np.zeros(n, dtype=np.int64)
    bad = np.zeros(n, dtype=np.bool_)
    naive = np.zeros(n, dtype=np.bool_)
    zulu = np.fromiter((t[-1:] == "Z" and t[10:11] == "T" for t in strings), np.bool_, n)
    rest = np.flatnonzero(~zulu)
    if zulu.any():
        idx = np.flatnonzero(zulu)
        try:
            parsed = np.array([strings[i][:-1] for i in idx], dtype="datetime64[us]")
            values[idx] = parsed.astype(np.int64)
        except (ValueError, OverflowError):
            rest = np.arange(n)
    for i in rest:
        try:
            when = dt.datetime.fromisoformat(strings[i])
        except (ValueError, OverflowError):
            bad[i] = True
            continue
        if when.tzinfo is None:
            naive[i] = True
        else:
            values[i] = us(when)
    return values, bad, naive


def _optional_numbers(raw: list[Any], upper: float) -> tuple[F64, B]:
    """Numbers in [0, upper] or null (NaN); True where the entry is neither."""
    none = np.fromiter((v is None for v in raw), np.bool_, len(raw))
    values, is_num = _floats(raw)
    with np.errstate(invalid="ignore"):
        ok = is_num & (values >= 0) & (values <= upper)
    return np.where(ok, values, np.nan), ~(ok | none)


def us(when: dt.datetime) -> int:
    return _us_delta(when - _EPOCH)


def _us_delta(delta: dt.timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def from_us(value: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=int(value))


def ingest(
    session: Session, beats: Heartbeats, *, actor: Principal, now: dt.datetime | None = None
) -> IntakeReport:
    """Apply valid heartbeats: unknown or out-of-scope cameras are rejected row by row."""
    now = now or utcnow()
    report = IntakeReport(received=len(beats))
    if len(beats) == 0:
        return report
    unique_ids = np.unique(beats.camera_id)
    allowed = _allowed_cameras(session, unique_ids, actor)
    known = np.isin(beats.camera_id, allowed)
    for i in beats.index[~known]:
        report.rejected.append(
            Rejected(int(i), "camera_id", "unknown camera or outside your scope")
        )
    beats = beats.take(known)
    report.accepted = len(beats)
    if len(beats) == 0:
        return report

    order = np.lexsort((beats.at_us, beats.camera_id))
    beats = beats.take(order)
    starts = np.flatnonzero(np.r_[True, beats.camera_id[1:] != beats.camera_id[:-1]])
    ends = np.r_[starts[1:], len(beats)] - 1
    ids = beats.camera_id[starts]
    report.cameras = int(ids.size)

    # Only cameras that reported "offline" or are offline now can change state.
    said_offline = np.unique(beats.camera_id[~beats.online])
    prior = _prior_states(session, ids, said_offline)
    _upsert_states(session, beats, starts, ends)
    if prior or said_offline.size:
        _apply_transitions(session, beats, starts, ends, ids, said_offline, prior, now, report)
    audit.record(
        session, actor=actor.actor, action="cameras.health.ingest",
        object_type="camera_health",
        detail={
            "received": report.received, "accepted": report.accepted, "cameras": report.cameras,
            "went_offline": len(report.went_offline), "recovered": len(report.recovered),
        },
    )  # fmt: skip
    return report


def _allowed_cameras(session: Session, ids: I64, actor: Principal) -> I64:
    """The ids among ``ids`` (sorted, unique) that exist and that the actor may report on."""
    cols = (Camera.id,) if actor.is_system else (Camera.id, Camera.owner_id, OrgUnit.path)
    query = select(*cols)
    if not actor.is_system:
        query = query.outerjoin(OrgUnit, OrgUnit.id == Camera.org_unit_id)
    rows: list[Any] = []
    if is_postgres(session):
        # A join with the unnested ids lets the planner use the primary key.
        rows = list(session.execute(text(_PG_CAMERAS), {"ids": _pg_array(ids)}).all())
    elif int(ids[-1] - ids[0]) < 4 * ids.size:
        # Dense ids (a video system reporting its block of cameras): one range scan.
        rows = list(session.execute(query.where(Camera.id.between(int(ids[0]), int(ids[-1])))))
    else:
        for start in range(0, ids.size, _CHUNK):
            chunk = ids[start : start + _CHUNK].tolist()
            rows.extend(session.execute(query.where(Camera.id.in_(chunk))).all())
    if not rows:
        return np.zeros(0, dtype=np.int64)
    found = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    wanted = np.isin(found, ids)
    if actor.is_system:
        return found[wanted]
    prefixes, owners = health.report_scope(session, actor)
    ok = np.fromiter(
        (r[1] in owners or (r[2] is not None and r[2].startswith(prefixes)) for r in rows),
        np.bool_,
        len(rows),
    )
    return found[ok & wanted]


@dataclass
class _Prior:
    state: str
    last_seen_us: int


_PG_CAMERAS = """
SELECT c.id, c.owner_id, o.path
FROM unnest(CAST(:ids AS bigint[])) AS u(id)
JOIN cameras c ON c.id = u.id
LEFT JOIN org_units o ON o.id = c.org_unit_id
"""

_PG_PRIOR = """
SELECT s.camera_id, s.state, s.last_seen_at
FROM unnest(CAST(:ids AS bigint[])) AS u(id)
JOIN camera_health_state s ON s.camera_id = u.id
WHERE s.state = 'offline'
UNION
SELECT s.camera_id, s.state, s.last_seen_at
FROM unnest(CAST(:off AS bigint[])) AS u(id)
JOIN camera_health_state s ON s.camera_id = u.id
"""


def _prior_states(session: Session, ids: I64, said_offline: I64) -> dict[int, _Prior]:
    """Live state of the batch's cameras that are offline now or said offline."""
    s = CameraLiveState
    cols = select(s.camera_id, s.state, s.last_seen_at)
    rows: list[Any] = []
    if is_postgres(session):
        params = {"ids": _pg_array(ids), "off": _pg_array(said_offline)}
        rows = list(session.execute(text(_PG_PRIOR), params).all())
    else:
        offline = session.execute(cols.where(s.state == LiveState.OFFLINE.value)).all()
        in_batch = np.isin(np.array([r[0] for r in offline], dtype=np.int64), ids)
        rows = [r for r, keep in zip(offline, in_batch, strict=True) if keep]
        for start in range(0, said_offline.size, _CHUNK):
            chunk = said_offline[start : start + _CHUNK].tolist()
            rows.extend(session.execute(cols.where(s.camera_id.in_(chunk))).all())
    return {int(r[0]): _Prior(r[1], us(r[2])) for r in rows}


_PG_UPSERT = """
INSERT INTO camera_health_state AS s
    (camera_id, state, state_since, first_seen_at, last_seen_at, last_online, fps,
     bitrate_kbps, reports)
SELECT u.id, CASE WHEN u.onl THEN 'online' ELSE 'offline' END,
       TIMESTAMPTZ 'epoch' + u.t0 * INTERVAL '1 microsecond',
       TIMESTAMPTZ 'epoch' + u.t0 * INTERVAL '1 microsecond',
       TIMESTAMPTZ 'epoch' + u.t1 * INTERVAL '1 microsecond',
       u.onl, NULLIF(u.fps, 'NaN'), NULLIF(u.br, 'NaN'), u.n
FROM unnest(CAST(:ids AS bigint[]), CAST(:t0 AS bigint[]), CAST(:t1 AS bigint[]),
            CAST(:onl AS boolean[]), CAST(:fps AS float8[]), CAST(:br AS float8[]),
            CAST(:n AS bigint[])) AS u(id, t0, t1, onl, fps, br, n)
ON CONFLICT (camera_id) DO UPDATE SET
    last_seen_at = GREATEST(s.last_seen_at, EXCLUDED.last_seen_at),
    last_online = CASE WHEN EXCLUDED.last_seen_at > s.last_seen_at
                       THEN EXCLUDED.last_online ELSE s.last_online END,
    fps = CASE WHEN EXCLUDED.last_seen_at > s.last_seen_at THEN EXCLUDED.fps ELSE s.fps END,
    bitrate_kbps = CASE WHEN EXCLUDED.last_seen_at > s.last_seen_at
                        THEN EXCLUDED.bitrate_kbps ELSE s.bitrate_kbps END,
    reports = s.reports + EXCLUDED.reports
"""

_SQLITE_UPSERT = """
INSERT INTO camera_health_state AS s
    (camera_id, state, state_since, first_seen_at, last_seen_at, last_online, fps,
     bitrate_kbps, reports)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (camera_id) DO UPDATE SET
    last_seen_at = max(s.last_seen_at, excluded.last_seen_at),
    last_online = CASE WHEN excluded.last_seen_at > s.last_seen_at
                       THEN excluded.last_online ELSE s.last_online END,
    fps = CASE WHEN excluded.last_seen_at > s.last_seen_at THEN excluded.fps ELSE s.fps END,
    bitrate_kbps = CASE WHEN excluded.last_seen_at > s.last_seen_at
                        THEN excluded.bitrate_kbps ELSE s.bitrate_kbps END,
    reports = s.reports + excluded.reports
"""


def _upsert_states(session: Session, beats: Heartbeats, starts: I64, ends: I64) -> None:
    """One statement: the newest report per camera becomes its live state."""
    ids = beats.camera_id[starts]
    t0, t1 = beats.at_us[starts], beats.at_us[ends]
    onl, fps, rate = beats.online[ends], beats.fps[ends], beats.bitrate_kbps[ends]
    counts = ends - starts + 1
    if is_postgres(session):
        session.execute(
            text(_PG_UPSERT),
            {
                "ids": _pg_array(ids), "t0": _pg_array(t0), "t1": _pg_array(t1),
                "onl": _pg_array(onl), "fps": _pg_array(fps), "br": _pg_array(rate),
                "n": _pg_array(counts),
            },
        )  # fmt: skip
        return
    # SQLite keeps UTC datetimes as naive text; SQLAlchemy's format, so text order is time order.
    first = _sqlite_times(t0)
    last = _sqlite_times(t1)
    state = np.where(onl, LiveState.ONLINE.value, LiveState.OFFLINE.value)
    params = list(
        zip(
            ids.tolist(), state.tolist(), first, first, last, onl.tolist(),
            _nullable(fps), _nullable(rate), counts.tolist(), strict=True,
        )
    )  # fmt: skip
    session.connection().exec_driver_sql(_SQLITE_UPSERT, params)


def _pg_array(values: npt.NDArray[Any]) -> str:
    """An array literal: psycopg's per-element list dumping costs seconds per 50,000."""
    if values.dtype == np.bool_:
        return "{" + ",".join("t" if v else "f" for v in values.tolist()) + "}"
    return "{" + ",".join(map(str, values.tolist())) + "}"  # floats: "nan" reads as NaN


def _sqlite_times(us: I64) -> list[str]:
    text_ = np.datetime_as_string(us.astype("datetime64[us]"), unit="us")
    return [t.replace("T", " ") for t in text_.tolist()]


def _nullable(values: F64) -> list[float | None]:
    return [None if v != v else v for v in values.tolist()]  # NaN != NaN


def _apply_transitions(
    session: Session,
    beats: Heartbeats,
    starts: I64,
    ends: I64,
    ids: I64,
    said_offline: I64,
    prior: dict[int, _Prior],
    now: dt.datetime,
    report: IntakeReport,
) -> None:
    """Walk the reports of the few cameras whose state may change, in time order."""
    candidates = np.flatnonzero(np.isin(ids, said_offline) | np.isin(ids, list(prior)))
    new_outages: list[dict[str, Any]] = []
    closed: list[dict[str, Any]] = []
    states: list[dict[str, Any]] = []
    for g in candidates:
        cid = int(ids[g])
        before = prior.get(cid)
        state = before.state if before else LiveState.ONLINE.value
        seen = before.last_seen_us if before else -1
        since: int | None = None
        open_new: dict[str, Any] | None = None
        for k in range(int(starts[g]), int(ends[g]) + 1):
            t = int(beats.at_us[k])
            if t <= seen:
                continue  # late report: the state already reflects newer news
            seen = t
            if beats.online[k] and state == LiveState.OFFLINE.value:
                state, since = LiveState.ONLINE.value, t
                if open_new is not None:
                    open_new["ended_at"] = from_us(t)
                    open_new = None
                else:
                    closed.append({"cid": cid, "ended": from_us(t)})
                report.recovered.append(cid)
            elif not beats.online[k] and state == LiveState.ONLINE.value:
                state, since = LiveState.OFFLINE.value, t
                open_new = {
                    "camera_id": cid, "started_at": from_us(t), "ended_at": None,
                    "cause": OutageCause.REPORTED.value, "detected_at": now,
                }  # fmt: skip
                new_outages.append(open_new)
                report.went_offline.append(cid)
        if since is not None:
            states.append({"cid": cid, "new_state": state, "new_since": from_us(since)})
    _write_transitions(session, new_outages, closed, states, now)


def _write_transitions(
    session: Session,
    new_outages: list[dict[str, Any]],
    closed: list[dict[str, Any]],
    states: list[dict[str, Any]],
    now: dt.datetime,
) -> None:
    o, s = CameraOutage.__table__, CameraLiveState.__table__
    assert isinstance(o, Table) and isinstance(s, Table)
    if closed:
        ended_ids = _close_outages(session, closed)
        health.add_notices(session, ended_ids, NoticeKind.RECOVERED, now)
    if new_outages:
        rows = session.execute(
            o.insert().returning(o.c.id, o.c.ended_at),
            new_outages,
        ).all()
        health.add_notices(session, [int(r[0]) for r in rows], NoticeKind.OPENED, now)
        health.add_notices(
            session, [int(r[0]) for r in rows if r[1] is not None], NoticeKind.RECOVERED, now
        )
    if states:
        session.execute(
            update(s)
            .where(s.c.camera_id == bindparam("cid"))
            .values(state=bindparam("new_state"), state_since=bindparam("new_since")),
            states,
        )


def _close_outages(session: Session, closed: list[dict[str, Any]]) -> list[int]:
    """End the open outage of each camera: one lookup, one executemany."""
    o = CameraOutage
    ended = {int(item["cid"]): item["ended"] for item in closed}
    cams = sorted(ended)
    found: list[Any] = []
    for start in range(0, len(cams), _CHUNK):
        chunk = cams[start : start + _CHUNK]
        found.extend(
            session.execute(
                select(o.id, o.camera_id).where(o.camera_id.in_(chunk), o.ended_at.is_(None))
            ).all()
        )
    if not found:
        return []  # offline by state but no open interval: nothing to close
    table = o.__table__
    assert isinstance(table, Table)
    session.execute(
        update(table).where(table.c.id == bindparam("oid")).values(ended_at=bindparam("end")),
        [{"oid": int(r[0]), "end": ended[int(r[1])]} for r in found],
    )
    return [int(r[0]) for r in found]


__all__ = [
    "Heartbeats",
    "IntakeReport",
    "Rejected",
    "from_us",
    "ingest",
    "parse_body",
    "resolve_owner_ids",
    "us",
    "validate",
]
