"""The event cube's columnar snapshot of the incidents table, on local disk.

A cold cube pull used to re-read every row from the database; most of that
time was PostgreSQL's own COPY. The snapshot keeps the columns a cube filter
needs as immutable numpy segments (one ``.npy`` per column per segment) and a
JSON manifest, under ``PINGAN_CUBE_DIR``. ``cube_sync`` appends what the
database has and the snapshot lacks; ``load_cube`` filters the segments in
numpy. Readers map the files (``mmap_mode="r"``), so server processes on one
host share the page cache.

One directory per database incarnation: the database URL plus a random token
kept in ``pingan_meta`` (renewed by ``pingan restore``), so a restored or
recreated database never reuses a snapshot. Writers serialise on an exclusive
``flock`` of the directory's lock file; files are written under a temporary
name and renamed, the manifest last, and files the manifest no longer names
are unlinked (open maps survive that on Linux).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from pingan.kit import meta
from pingan.settings import get_settings

INCARNATION_KEY = "cube.incarnation"
EPOCH_KEY = "incidents.epoch"  # bumped by the triggers of migration 0021
FORMAT = 1
KEEP_INCARNATIONS = 4
MANIFEST = "manifest.json"
LOCK = "lock"

# The columns kept: enough to evaluate every CubeFilter and the scope clause.
COLUMNS: dict[str, np.dtype[Any]] = {
    name: np.dtype(kind)
    for name, kind in (
        ("id", "<i8"), ("x", "<f8"), ("y", "<f8"), ("t_us", "<i8"), ("lon", "<f8"),
        ("lat", "<f8"), ("type_id", "<i4"), ("grid_id", "<i4"), ("community_id", "<i4"),
        ("subdistrict_id", "<i4"), ("district_id", "<i4"), ("city_id", "<i4"),
        ("severity", "<i2"),
    )
}  # fmt: skip

Columns = dict[str, NDArray[Any]]


@dataclass
class Segment:
    name: str
    rows: int


@dataclass
class Manifest:
    """What the snapshot holds, as of one database snapshot."""

    incarnation: str
    epoch: str
    max_id: int = 0
    last_t_us: int | None = None  # occurred_at of the row ``max_id``, to notice a rewrite
    # Ids below max_id the snapshot lacks and a running transaction may still
    # commit: [low, high, observed at (database clock, microseconds)].
    gaps: list[list[int]] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    built_at_us: int = 0

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.segments)

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, **asdict(self)}, separators=(",", ":"))

    @classmethod
    def from_json(cls, body: str) -> Manifest:
        raw = json.loads(body)
        if raw.pop("format", None) != FORMAT:
            raise ValueError("unknown manifest format")
        raw["segments"] = [Segment(str(s["name"]), int(s["rows"])) for s in raw["segments"]]
        manifest = cls(**raw)
        if any(len(g) != 3 for g in manifest.gaps):
            raise ValueError("bad gap entry")
        return manifest


def enabled() -> bool:
    return bool(get_settings().cube_dir)


def incarnation(session: Session) -> str:
    """This database's token, made on first use (in its own short transaction)."""
    token = meta.get_value(session, INCARNATION_KEY)
    if token:
        return token
    engine = session.get_bind().engine
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO pingan_meta (key, value) VALUES (:k, :v) ON CONFLICT (key) DO NOTHING"
            ),
            {"k": INCARNATION_KEY, "v": secrets.token_hex(16)},
        )
        return str(
            conn.execute(
                text("SELECT value FROM pingan_meta WHERE key = :k"), {"k": INCARNATION_KEY}
            ).scalar_one()
        )


def renew_incarnation(session: Session) -> None:
    """A new token: snapshots made before (e.g. before a restore) are never used again."""
    meta.set_value(session, INCARNATION_KEY, secrets.token_hex(16))


class SnapshotDir:
    """The files of one database incarnation's snapshot."""

    def __init__(self, base: Path, engine: Engine, token: str) -> None:
        url = engine.url.render_as_string(hide_password=True)
        digest = hashlib.sha256(f"{url}\0{token}".encode()).hexdigest()[:16]
        label = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(engine.url.database or "db").name)[:40]
        self.base = base
        self.token = token
        self.path = base / f"{label}-{digest}"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Exclusive across processes and threads (each open() is its own flock)."""
        created = not self.path.exists()
        fd = _lock(self.path)
        try:
            if created:
                _forget_old_incarnations(self.base, keep=self.path)
            yield
        finally:
            os.close(fd)

    def read_manifest(self) -> Manifest | None:
        """The manifest, or None when missing or unreadable (then the snapshot is rebuilt)."""
        try:
            manifest = Manifest.from_json((self.path / MANIFEST).read_text())
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return manifest if manifest.incarnation == self.token else None

    def write_segment(self, columns: Columns) -> Segment:
        rows = len(columns["id"])
        name = f"s{uuid.uuid4().hex[:12]}"
        for column, dtype in COLUMNS.items():
            array = np.ascontiguousarray(columns[column], dtype=dtype)
            if len(array) != rows:
                raise ValueError(f"column {column} has {len(array)} rows, not {rows}")
            _write_atomically(self._file(name, column), lambda f, a=array: np.save(f, a))
        return Segment(name, rows)

    def commit(self, manifest: Manifest) -> None:
        """Publish the manifest, then unlink files it no longer names."""
        body = manifest.to_json().encode()
        _write_atomically(self.path / MANIFEST, lambda f: f.write(body))
        _fsync_dir(self.path)
        kept = {self._file(s.name, c).name for s in manifest.segments for c in COLUMNS}
        for entry in self.path.iterdir():
            if entry.name in (MANIFEST, LOCK) or entry.name in kept:
                continue
            entry.unlink(missing_ok=True)

    def open(self, segments: list[Segment]) -> list[Columns] | None:
        """The segments' columns, mapped; None if a file is missing or does not fit."""
        opened: list[Columns] = []
        try:
            for segment in segments:
                columns: Columns = {}
                for column, dtype in COLUMNS.items():
                    array = np.load(self._file(segment.name, column), mmap_mode="r")
                    if array.shape != (segment.rows,) or array.dtype != dtype:
                        return None
                    columns[column] = array
                opened.append(columns)
        except (OSError, ValueError, EOFError):
            return None
        return opened

    def _file(self, segment: str, column: str) -> Path:
        return self.path / f"{segment}.{column}.npy"


def _lock(path: Path) -> int:
    """Lock ``path/lock``, making the directory if needed; retried if it was removed meanwhile."""
    while True:
        path.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:
            continue  # removed between mkdir and open
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            same = os.fstat(fd).st_ino == os.stat(path / LOCK).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # we locked a file that was removed: start again


def _forget_old_incarnations(base: Path, keep: Path) -> None:
    """Remove all but the newest few snapshot directories, skipping any in use."""
    dirs = [d for d in base.iterdir() if d.is_dir() and d != keep]
    dirs.sort(key=lambda d: _mtime(d / MANIFEST), reverse=True)
    for old in dirs[KEEP_INCARNATIONS - 1 :]:
        try:
            fd = os.open(old / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue  # a process is syncing it right now
        try:
            shutil.rmtree(old, ignore_errors=True)
        finally:
            os.close(fd)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _write_atomically(path: Path, write: Any) -> None:
    partial = path.with_name(path.name + f".{uuid.uuid4().hex[:8]}.tmp")
    with open(partial, "wb") as handle:
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
