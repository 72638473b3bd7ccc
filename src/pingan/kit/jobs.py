"""Background jobs: long work runs outside requests, with progress and a stored result.

A job is a row: its kind, parameters, status, progress, result or error, and
the software version that ran it — so an analysis in a briefing can be
reproduced. Workers claim queued jobs with an atomic conditional UPDATE, so
any number of server processes can run workers and each job runs once.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Engine, Float, Integer, String, Text, cast, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from pingan import __version__
from pingan.kit.db import Base, UTCDateTime, session_scope, utcnow
from pingan.kit.errors import NotFound, ValidationFailed
from pingan.kit.meta import MetaEntry

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


_schedules: dict[str, Schedule] = {}


def schedule(kind: str, *, every_seconds: int, params: dict[str, Any] | None = None) -> None:
    """Run ``kind`` periodically in every server's worker (each period exactly once)."""
    if every_seconds < 1:
        raise ValueError("every_seconds must be at least 1")
    _schedules[kind] = Schedule(kind, every_seconds, tuple(sorted((params or {}).items())))


def enqueue_due(engine: Engine, now: dt.datetime | None = None) -> list[int]:
    """Submit the scheduled jobs whose period has begun; returns the new job ids.

    Several processes may call this at once: each period's job is claimed by
    a compare-and-set on a meta row, so it is submitted exactly once.
    """
    now = now or utcnow()
    submitted: list[int] = []
    for item in list(_schedules.values()):
        slot = int(now.timestamp()) // item.every_seconds
        key = f"schedule.{item.kind}"
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


def claim_next(engine: Engine) -> int | None:
    """Take the oldest queued job; None when there is nothing to do."""
    with session_scope(engine) as session:
        candidates = session.scalars(
            select(Job.id).where(Job.status == JobStatus.QUEUED).order_by(Job.id).limit(5)
        ).all()
        for job_id in candidates:
            claimed = session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == JobStatus.QUEUED)
                .values(status=JobStatus.RUNNING, started_at=utcnow())
            )
            if claimed.rowcount == 1:  # type: ignore[attr-defined]
                return int(job_id)
    return None


def run_job(engine: Engine, job_id: int) -> None:
    """Run a claimed job to the end, recording progress, result or error."""
    with session_scope(engine) as session:
        job = get(session, job_id)
        kind, params = job.kind, job.params_dict()

    def progress(fraction: float, message: str = "") -> None:
        with session_scope(engine) as s:
            s.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(progress=max(0.0, min(1.0, fraction)), message=message[:300])
            )

    try:
        result = _registry[kind].run(engine, params, progress)
    except Exception as exc:
        log.exception("job failed", extra={"job_id": job_id, "kind": kind})
        detail = f"{type(exc).__name__}: {exc}"
        with session_scope(engine) as s:
            s.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(
                    status=JobStatus.FAILED,
                    error=detail[:2000] + "\n" + traceback.format_exc()[-4000:],
                    finished_at=utcnow(),
                )
            )
        return
    with session_scope(engine) as s:
        s.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(
                status=JobStatus.SUCCEEDED,
                progress=1.0,
                result=json.dumps(result, default=str),
                finished_at=utcnow(),
            )
        )


def run_pending(engine: Engine) -> int:
    """Run queued jobs until none is left (the CLI and tests use this)."""
    done = 0
    while (job_id := claim_next(engine)) is not None:
        run_job(engine, job_id)
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
