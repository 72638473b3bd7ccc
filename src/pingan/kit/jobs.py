"""Background jobs: long work runs outside requests, with progress and a stored result.

A job is a row: its kind, parameters, status, progress, result or error, and
the software version that ran it — so an analysis in a briefing can be
reproduced. Workers claim queued jobs with an atomic conditional UPDATE, so
any number of server processes can run workers and each job runs once.

A claimed job carries a lease: the runner's id (host:pid#claim) and a time it
runs out. The runner renews it (on every progress call and from a timer) while
it works. A job whose runner died stops being renewed; the next worker that
looks puts it back in the queue (or marks it failed after too many attempts),
and every write of the old runner is conditional on its id, so a runner that
lost its lease can never overwrite the new runner's result.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import uuid4

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Engine,
    Float,
    Integer,
    String,
    Text,
    and_,
    cast,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from pingan import __version__
from pingan.kit.db import Base, UTCDateTime, session_scope, utcnow
from pingan.kit.errors import NotFound, ValidationFailed
from pingan.kit.meta import MetaEntry
from pingan.settings import get_settings

log = logging.getLogger("pingan.jobs")


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(100), index=True)
    params: Mapped[str] = mapped_column(Text, default="{}")
    status: Mapped[str] = mapped_column(String(20), index=True, default=JobStatus.QUEUED)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(String(300), default="")
    result: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    software_version: Mapped[str] = mapped_column(String(50), default=__version__)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The lease of a running job (NULL for runs recorded by their own foreground caller,
    # which no worker may take over): who runs it, until when, and the how-many-th try.
    runner: Mapped[str | None] = mapped_column(String(120))
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    def params_dict(self) -> dict[str, Any]:
        return dict(json.loads(self.params))

    def result_dict(self) -> dict[str, Any] | None:
        return None if self.result is None else dict(json.loads(self.result))


Progress = Callable[[float, str], None]
JobFunction = Callable[[Engine, dict[str, Any], Progress], dict[str, Any]]


@dataclass(frozen=True)
class JobKind:
    name: str
    run: JobFunction
    description: str = ""


_registry: dict[str, JobKind] = {}


def register(name: str, description: str = "") -> Callable[[JobFunction], JobFunction]:
    """Decorator: make a function runnable as a job of kind ``name``."""

    def wrap(fn: JobFunction) -> JobFunction:
        _registry[name] = JobKind(name, fn, description)
        return fn

    return wrap


@dataclass(frozen=True)
class Schedule:
    """Enqueue a job of ``kind`` once per period of ``every_seconds`` (UTC-aligned slots)."""

    kind: str
    every_seconds: int
    params: tuple[tuple[str, Any], ...] = ()
    name: str = ""  # several schedules of one kind differ by name; "" means the kind


_schedules: dict[str, Schedule] = {}


def schedule(
    kind: str,
    *,
    every_seconds: int,
    params: dict[str, Any] | None = None,
    name: str | None = None,
) -> None:
    """Run ``kind`` periodically in every server's worker (each period exactly once).

    ``name`` (default: the kind) keys the schedule, so one kind can run on
    several schedules with different parameters.
    """
    if every_seconds < 1:
        raise ValueError("every_seconds must be at least 1")
    key = name or kind
    _schedules[key] = Schedule(kind, every_seconds, tuple(sorted((params or {}).items())), key)


def enqueue_due(engine: Engine, now: dt.datetime | None = None) -> list[int]:
    """Submit the scheduled jobs whose period has begun; returns the new job ids.

    Several processes may call this at once: each period's job is claimed by
    a compare-and-set on a meta row, so it is submitted exactly once.
    """
    now = now or utcnow()
    submitted: list[int] = []
    for item in list(_schedules.values()):
        slot = int(now.timestamp()) // item.every_seconds
        key = f"schedule.{item.name or item.kind}"
        with session_scope(engine) as session:
            if session.get(MetaEntry, key) is None:
                session.execute(_insert_ignore(session).values(key=key, value="-1"))
            won = session.execute(
                update(MetaEntry)
                # A competing process blocks on the row, then sees the new slot and loses.
                .where(MetaEntry.key == key, cast(MetaEntry.value, BigInteger) < slot)
                .values(value=str(slot))
            )
            if won.rowcount == 1:  # type: ignore[attr-defined]
                job = submit(
                    session, kind=item.kind, params=dict(item.params), created_by="system:scheduler"
                )
                submitted.append(job.id)
    return submitted


def _insert_ignore(session: Session) -> Any:
    """INSERT that does nothing when another process created the row first."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(MetaEntry).on_conflict_do_nothing(index_elements=["key"])
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(MetaEntry).on_conflict_do_nothing(index_elements=["key"])


def submit(session: Session, *, kind: str, params: dict[str, Any], created_by: str) -> Job:
    if kind not in _registry:
        known = ", ".join(sorted(_registry)) or "none"
        raise ValidationFailed(f"unknown job kind {kind!r} (known: {known})", field="kind")
    job = Job(kind=kind, params=json.dumps(params, default=str), created_by=created_by)
    session.add(job)
    session.flush()
    return job


def get(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"job {job_id} not found")
    return job


class LeaseLost(RuntimeError):
    """This runner's lease on the job ran out and the job was taken back; stop working on it."""


@dataclass(frozen=True)
class Claim:
    """A job this runner holds: writes about the job are conditional on ``runner``."""

    job_id: int
    runner: str


def new_runner_id() -> str:
    """host:pid, plus a per-claim tag so a process that claims a job again is a new runner."""
    return f"{socket.gethostname()}:{os.getpid()}#{uuid4().hex[:8]}"


def _lease(lease_seconds: float | None) -> dt.timedelta:
    seconds = get_settings().job_lease_seconds if lease_seconds is None else lease_seconds
    return dt.timedelta(seconds=seconds)


def _held(claim: Claim) -> ColumnElement[bool]:
    return and_(Job.id == claim.job_id, Job.runner == claim.runner, Job.status == JobStatus.RUNNING)


def claim(engine: Engine, *, lease_seconds: float | None = None) -> Claim | None:
    """Take the oldest queued job under a fresh lease; None when there is nothing to do."""
    lease = _lease(lease_seconds)
    with session_scope(engine) as session:
        candidates = session.scalars(
            select(Job.id).where(Job.status == JobStatus.QUEUED).order_by(Job.id).limit(5)
        ).all()
        for job_id in candidates:
            runner, now = new_runner_id(), utcnow()
            claimed = session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == JobStatus.QUEUED)
                .values(
                    status=JobStatus.RUNNING,
                    started_at=now,
                    runner=runner,
                    lease_expires_at=now + lease,
                    attempts=Job.attempts + 1,
                )
            )
            if claimed.rowcount == 1:  # type: ignore[attr-defined]
                return Claim(int(job_id), runner)
    return None


def claim_next(engine: Engine) -> int | None:
    """Take the oldest queued job; None when there is nothing to do."""
    taken = claim(engine)
    return None if taken is None else taken.job_id


def renew(engine: Engine, claim: Claim, *, lease_seconds: float | None = None) -> bool:
    """Extend the lease; False when this runner no longer holds the job."""
    with session_scope(engine) as session:
        renewed = session.execute(
            update(Job)
            .where(_held(claim))
            .values(lease_expires_at=utcnow() + _lease(lease_seconds))
        )
        return bool(renewed.rowcount == 1)  # type: ignore[attr-defined]


def requeue_expired(
    engine: Engine, *, max_attempts: int | None = None, now: dt.datetime | None = None
) -> list[int]:
    """Put running jobs whose lease ran out back in the queue; fail those out of attempts.

    Returns the ids taken back. Runs without a lease (NULL: recorded by a foreground
    caller) are never touched. Each change is a compare-and-set on the old runner, so
    competing workers take a job back once, and a renewal that lands first wins.
    """
    now = now or utcnow()
    limit = get_settings().job_max_attempts if max_attempts is None else max_attempts
    expired = and_(
        Job.status == JobStatus.RUNNING,
        Job.lease_expires_at.is_not(None),
        Job.lease_expires_at < now,
    )
    taken: list[int] = []
    with session_scope(engine) as session:
        rows = session.execute(select(Job.id, Job.runner, Job.attempts).where(expired)).all()
        for job_id, runner, attempts in rows:
            values: dict[str, Any] = {"lease_expires_at": None, "runner": None}
            if attempts >= limit:
                values.update(
                    status=JobStatus.FAILED,
                    finished_at=now,
                    error=(
                        f"LeaseExpired: runner {runner} stopped renewing its lease (process "
                        f"killed or stalled) on attempt {attempts} of {limit}; not retried"
                    ),
                )
            else:
                values.update(
                    status=JobStatus.QUEUED,
                    progress=0.0,
                    message=f"re-queued after attempt {attempts} of {limit}: runner {runner} "
                    "stopped renewing its lease",
                )
            done = session.execute(
                update(Job).where(expired, Job.id == job_id, Job.runner == runner).values(**values)
            )
            if done.rowcount == 1:  # type: ignore[attr-defined]
                log.warning(
                    "job lease expired",
                    extra={"job_id": job_id, "runner": runner, "attempts": attempts},
                )
                taken.append(int(job_id))
    return taken


class _LeaseKeeper:
    """Renews a claim's lease from a timer thread while the job function works."""

    def __init__(self, engine: Engine, claim: Claim, lease_seconds: float | None) -> None:
        self.engine, self.claim, self.lease_seconds = engine, claim, lease_seconds
        self.lost = threading.Event()
        self._stop = threading.Event()
        # Three renewals per lease: one slow database round trip does not lose it.
        every = _lease(lease_seconds).total_seconds() / 3
        self._thread = threading.Thread(
            target=self._loop, args=(every,), name=f"pingan-lease-{claim.job_id}", daemon=True
        )

    def __enter__(self) -> _LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self, every: float) -> None:
        while not self._stop.wait(every):
            try:
                if not renew(self.engine, self.claim, lease_seconds=self.lease_seconds):
                    self.lost.set()
                    return
            except Exception:  # the database may be back before the lease runs out
                log.exception("job lease renewal failed", extra={"job_id": self.claim.job_id})


def run_job(
    engine: Engine, job_id: int, runner: str | None = None, *, lease_seconds: float | None = None
) -> None:
    """Run a claimed job to the end, recording progress, result or error.

    ``runner`` is the claim's runner id (read from the row when not given: the
    caller has just claimed it). Nothing is written once the lease is lost.
    """
    with session_scope(engine) as session:
        job = get(session, job_id)
        kind, params = job.kind, job.params_dict()
        held = Claim(job_id, runner or job.runner or "")

    with _LeaseKeeper(engine, held, lease_seconds) as keeper:

        def progress(fraction: float, message: str = "") -> None:
            if keeper.lost.is_set():
                raise LeaseLost(f"job {job_id}: lease lost; another runner took it over")
            with session_scope(engine) as s:
                moved = s.execute(
                    update(Job)
                    .where(_held(held))
                    .values(
                        progress=max(0.0, min(1.0, fraction)),
                        message=message[:300],
                        lease_expires_at=utcnow() + _lease(lease_seconds),
                    )
                )
            if moved.rowcount != 1:  # type: ignore[attr-defined]
                keeper.lost.set()
                raise LeaseLost(f"job {job_id}: lease lost; another runner took it over")

        try:
            result = _registry[kind].run(engine, params, progress)
        except LeaseLost:
            log.warning("job abandoned: lease lost", extra={"job_id": job_id, "kind": kind})
            return
        except Exception as exc:
            log.exception("job failed", extra={"job_id": job_id, "kind": kind})
            detail = f"{type(exc).__name__}: {exc}"
            _finish(
                engine,
                held,
                status=JobStatus.FAILED,
                finished_at=utcnow(),
                error=detail[:2000] + "\n" + traceback.format_exc()[-4000:],
            )
            return
        _finish(
            engine,
            held,
            status=JobStatus.SUCCEEDED,
            progress=1.0,
            finished_at=utcnow(),
            result=json.dumps(result, default=str),
        )


def _finish(engine: Engine, held: Claim, **values: Any) -> None:
    """The final write, only while this runner still holds the job."""
    with session_scope(engine) as s:
        done = s.execute(update(Job).where(_held(held)).values(lease_expires_at=None, **values))
    if done.rowcount != 1:  # type: ignore[attr-defined]
        log.warning(
            "job outcome discarded: lease lost",
            extra={"job_id": held.job_id, "runner": held.runner, "status": values["status"]},
        )


def run_pending(engine: Engine, *, lease_seconds: float | None = None) -> int:
    """Take back expired leases, then run queued jobs until none is left."""
    requeue_expired(engine)
    done = 0
    while (taken := claim(engine, lease_seconds=lease_seconds)) is not None:
        run_job(engine, taken.job_id, taken.runner, lease_seconds=lease_seconds)
        done += 1
    return done


class Worker:
    """A background thread in the server process that runs queued jobs."""

    def __init__(
        self, engine: Engine, poll_seconds: float = 1.0, *, scheduling: bool = True
    ) -> None:
        self.engine = engine
        self.poll_seconds = poll_seconds
        self.scheduling = scheduling
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="pingan-jobs", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self.scheduling:
                    enqueue_due(self.engine)
                run_pending(self.engine)
            except Exception:  # a broken database must not kill the worker
                log.exception("job worker error")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()
