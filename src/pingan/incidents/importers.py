"""Importing incident files through intake, in batches, with a per-line report.

Each batch is its own transaction: an interrupted import keeps the batches
already stored, and re-running it is safe because intake is idempotent on
``(source, external_id)`` (stored rows come back as duplicates). A bad row
never stops the file; it is reported with its line (CSV), feature index
(GeoJSON) or fid (GeoPackage) and the reason.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from pingan.incidents.import_read import FIELDS, RowError, open_incident_file
from pingan.incidents.service import intake_batch
from pingan.kit.db import get_engine, session_scope
from pingan.kit.errors import NotFound, PinganError, ValidationFailed
from pingan.org.principal import Principal
from pingan.org.service import grid_locator
from pingan.settings import get_settings

DEFAULT_BATCH_SIZE = 5000
AUDIT_ACTION = "incidents.import"
# How often (in rows read) the progress callback hears from us between batches.
PROGRESS_EVERY = 1000

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RejectedLine:
    number: int
    field: str | None
    reason: str
    row: dict[str, Any] | None = None


@dataclass
class ImportSummary:
    path: Path
    format: str
    unit: str  # "line", "feature" or "fid": what ``RejectedLine.number`` counts
    read: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: list[RejectedLine] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    def where(self, number: int) -> str:
        return f"{self.unit} {number}"


class ImportStopped(PinganError):
    """A batch failed for a reason that is not one bad row; earlier batches are kept."""

    slug = "import-stopped"
    title = "Import stopped"


def import_incidents(
    path: Path,
    *,
    engine: Engine | None = None,
    default_source: str = "import",
    layer: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    actor: Principal | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Read ``path`` and store its incidents; returns what was accepted and rejected."""
    limit = get_settings().max_batch_size
    if not 1 <= batch_size <= limit:
        raise ValidationFailed(f"batch size must be 1..{limit}", field="batch_size")
    engine = engine or get_engine()
    source_file = open_incident_file(path, default_source=default_source, layer=layer)
    _require_grids(engine)
    actor = actor or Principal.system("import")
    summary = ImportSummary(
        path=path,
        format=source_file.format,
        unit=source_file.unit,
        ignored_columns=source_file.ignored_columns,
    )
    batch: list[tuple[int, dict[str, Any]]] = []
    for number, row in source_file.rows:
        summary.read += 1
        if isinstance(row, RowError):
            summary.rejected.append(RejectedLine(number, row.field, row.reason, row.row))
        else:
            batch.append((number, row))
        if len(batch) >= batch_size:
            _store_batch(engine, batch, summary, actor)
            batch = []
        if progress is not None and summary.read % PROGRESS_EVERY == 0:
            progress(summary.read, source_file.total)
    if batch:
        _store_batch(engine, batch, summary, actor)
    summary.rejected.sort(key=lambda r: r.number)
    if progress is not None:
        progress(source_file.total, source_file.total)
    return summary


def _require_grids(engine: Engine) -> None:
    with session_scope(engine) as session:
        if len(grid_locator(session).index) == 0:
            raise NotFound(
                "no grids to place incidents in: import boundaries "
                "(`pingan import boundaries`) or build the synthetic city first"
            )


def _store_batch(
    engine: Engine,
    batch: list[tuple[int, dict[str, Any]]],
    summary: ImportSummary,
    actor: Principal,
) -> None:
    try:
        with session_scope(engine) as session:
            result = intake_batch(
                session, rows=[row for _, row in batch], actor=actor, audit_action=AUDIT_ACTION
            )
    except Exception as exc:
        detail = exc.detail if isinstance(exc, PinganError) else str(exc).splitlines()[0]
        raise ImportStopped(
            f"stopped at {summary.where(batch[0][0])} after storing {summary.accepted} "
            f"incidents (re-running the import is safe): {detail}"
        ) from exc
    summary.accepted += len(result.accepted)
    summary.duplicates += len(result.duplicates)
    for bad in result.rejected:
        number, row = batch[bad.index]
        summary.rejected.append(RejectedLine(number, bad.field, bad.reason, row))


def write_rejected_csv(summary: ImportSummary, target: Path) -> None:
    """Every rejected row with its number and reason, ready to fix and import again."""
    columns = [summary.unit, "field", "reason", *FIELDS]
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for bad in summary.rejected:
            writer.writerow(
                {
                    **(bad.row or {}),
                    summary.unit: bad.number,
                    "field": bad.field or "",
                    "reason": bad.reason,
                }
            )
