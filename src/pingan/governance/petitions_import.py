"""Bulk petition import from CSV or JSON lines (letters keyed in, another system's export).

Each row is one matter, registered exactly as single intake registers it
(``petitions.create_petition``): the statutory clocks run from the received
date on the city's working-day calendar, the registration letter is issued,
and the same-matter check runs against what is filed, earlier rows of the
file included. A row is keyed by (channel, external reference): a second run
of the same file finds the matters it registered and adds nothing. A bad row
is reported with its line number and reason; every good row is kept.

Columns (CSV header or JSON keys): channel, external_ref, received (a date,
taken as 09:00 in the city's zone, or a date-time), category, unit (the
registering office: org unit code or id), matter, and optionally requests,
place, petitioner_name, petitioner_phone, petitioner_address, is_group,
headcount, representatives (CSV: ``name|phone; name|phone``; JSON: a list of
``{"name", "phone"}``), accused_name.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pingan.cases.calendar import load_calendar
from pingan.cases.models import Case
from pingan.governance import petitions
from pingan.governance.petitions_schemas import PetitionIn, RepresentativeIn
from pingan.kit import audit
from pingan.kit.db import utcnow
from pingan.kit.errors import PayloadTooLarge, PinganError, ValidationFailed
from pingan.org.models import OrgUnit
from pingan.org.principal import Principal

FORMATS = ("csv", "jsonl")
RECEIVED_AT = dt.time(9, 0)  # a date alone: the office's opening hour
IMPORTED, EXISTS, FAILED = "imported", "exists", "failed"
# An upload over HTTP is imported inside the request, so it stays small.
MAX_API_BYTES = 512 * 1024
MAX_API_ROWS = 200


class ImportRow(BaseModel):
    """One row as read from the file, before it becomes a ``PetitionIn``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    channel: str
    external_ref: str = Field(..., min_length=1, max_length=80)
    received: dt.datetime | dt.date
    category: str
    unit: str = Field(..., min_length=1, max_length=50)
    matter: str = Field(..., min_length=1, max_length=20000)
    requests: str = Field("", max_length=5000)
    place: str = Field("", max_length=300)
    petitioner_name: str | None = Field(None, max_length=200)
    petitioner_phone: str | None = Field(None, max_length=50)
    petitioner_address: str | None = Field(None, max_length=300)
    is_group: bool = False
    headcount: int = Field(1, ge=1, le=100000)
    representatives: list[RepresentativeIn] = Field(default_factory=list)
    accused_name: str | None = Field(None, max_length=200)

    @field_validator("received", mode="before")
    @classmethod
    def _date_alone(cls, value: Any) -> Any:
        """A bare date stays a date (pydantic would read it as midnight)."""
        if isinstance(value, str) and len(value.strip()) == 10:
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                return value
        return value

    @field_validator("representatives", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        """CSV gives ``name|phone; name|phone``."""
        if not isinstance(value, str):
            return value
        people = [p.strip() for p in value.split(";") if p.strip()]
        return [dict(zip(("name", "phone"), p.split("|", 1), strict=False)) for p in people]


@dataclass
class RowResult:
    line: int
    status: str
    external_ref: str | None = None
    number: str | None = None
    # Given once, for the letter to the petitioner; never stored in clear.
    query_code: str | None = None
    same_matter: list[str] = field(default_factory=list)
    error: str | None = None
    field: str | None = None


@dataclass
class ImportReport:
    rows: list[RowResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.rows)

    @property
    def imported(self) -> int:
        return self.count(IMPORTED)

    @property
    def existing(self) -> int:
        return self.count(EXISTS)

    @property
    def failed(self) -> int:
        return self.count(FAILED)


# --- reading -----------------------------------------------------------------

Record = tuple[int, dict[str, Any] | PinganError]


def detect_format(name: str, explicit: str | None = None) -> str:
    if explicit is not None:
        if explicit not in FORMATS:
            raise ValidationFailed(f"format must be one of {', '.join(FORMATS)}", field="format")
        return explicit
    lower = name.lower()
    if lower.endswith(".csv"):
        return "csv"
    if lower.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    raise ValidationFailed(
        f"cannot tell the format of {name!r}: name it .csv or .jsonl, or give the format",
        field="format",
    )


def read_records(text: str, fmt: str) -> Iterator[Record]:
    """(line number, raw row or the error that row has), in file order."""
    if fmt == "csv":
        yield from _read_csv(text)
    else:
        yield from _read_jsonl(text)


def _read_csv(text: str) -> Iterator[Record]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    known = set(ImportRow.model_fields)
    unknown = [c for c in reader.fieldnames or [] if c not in known]
    if unknown:
        raise ValidationFailed(
            f"line 1: unknown column(s) {', '.join(unknown)} (known: {', '.join(known)})",
            field="file",
        )
    last = reader.line_num
    for raw in reader:
        line, last = last + 1, reader.line_num
        if None in raw:
            yield line, ValidationFailed("more values than columns", field="file")
            continue
        # An empty cell is an absent value, so that defaults apply.
        yield line, {k: v for k, v in raw.items() if v is not None and v.strip() != ""}


def _read_jsonl(text: str) -> Iterator[Record]:
    for line, content in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        if not content.strip():
            continue
        try:
            value = json.loads(content)
        except json.JSONDecodeError as exc:
            yield line, ValidationFailed(f"not JSON: {exc.msg}", field="file")
            continue
        if not isinstance(value, dict):
            yield line, ValidationFailed("each line must be a JSON object", field="file")
            continue
        yield line, value


# --- importing ---------------------------------------------------------------


def idempotency_key(channel: str, external_ref: str) -> str:
    return f"petition:{channel}:{external_ref}"


def _received(value: dt.datetime | dt.date, session: Session) -> dt.datetime:
    zone = load_calendar(session).zone
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=zone)
    return dt.datetime.combine(value, RECEIVED_AT, zone)


def _office(session: Session, ref: str) -> OrgUnit:
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == ref))
    if unit is None and ref.isdigit() and len(ref) < 10:
        unit = session.get(OrgUnit, int(ref))
    if unit is None:
        raise ValidationFailed(f"org unit {ref!r} not found (give its code or id)", field="unit")
    return unit


def _failure(line: int, ref: Any, exc: Exception) -> RowResult:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = str(first["loc"][0]) if first["loc"] else None
        return RowResult(line, FAILED, ref, error=f"{where}: {first['msg']}", field=where)
    assert isinstance(exc, PinganError)
    return RowResult(line, FAILED, ref, error=exc.detail, field=exc.field)


def import_row(
    session: Session, line: int, raw: dict[str, Any], *, actor: Principal, now: dt.datetime
) -> RowResult:
    """One row in its own savepoint: a failure leaves nothing of it behind."""
    ref = raw.get("external_ref")
    try:
        row = ImportRow.model_validate(raw)
        key = idempotency_key(row.channel, row.external_ref)
        done = session.scalar(select(Case.number).where(Case.idempotency_key == key))
        if done is not None:
            return RowResult(line, EXISTS, row.external_ref, number=done)
        with session.begin_nested():
            petition_in = PetitionIn(
                channel=row.channel, category=row.category, unit_id=_office(session, row.unit).id,
                matter=row.matter, requests=row.requests, place=row.place,
                petitioner_name=row.petitioner_name, petitioner_phone=row.petitioner_phone,
                petitioner_address=row.petitioner_address, is_group=row.is_group,
                headcount=row.headcount, representatives=row.representatives,
                accused_name=row.accused_name, received_at=_received(row.received, session),
            )  # fmt: skip
            case, _petition, code, matches = petitions.create_petition(
                session, petition_in=petition_in, actor=actor, now=now
            )
            case.idempotency_key = key
            session.flush()
    except (ValidationError, PinganError) as exc:
        return _failure(line, ref, exc)
    except IntegrityError:  # another import registered the same key meanwhile
        number = session.scalar(select(Case.number).where(Case.idempotency_key == key))
        return RowResult(line, EXISTS, row.external_ref, number=number)
    return RowResult(
        line, IMPORTED, row.external_ref, number=case.number, query_code=code,
        same_matter=[m.number for m in matches],
    )  # fmt: skip


def import_records(
    session: Session,
    records: Iterable[Record],
    *,
    actor: Principal,
    now: dt.datetime | None = None,
    progress: Callable[[RowResult], None] | None = None,
) -> ImportReport:
    """Import every record; the report has one result per record, by line."""
    now = now or utcnow()
    report = ImportReport()
    for line, raw in records:
        if isinstance(raw, PinganError):
            result = _failure(line, None, raw)
        else:
            result = import_row(session, line, raw, actor=actor, now=now)
        report.rows.append(result)
        if progress is not None:
            progress(result)
    audit.record(
        session, actor=actor.actor, action="petition.import", object_type="petition",
        detail={"imported": report.imported, "existing": report.existing,
                "failed": report.failed},
    )  # fmt: skip
    return report


def import_upload(
    session: Session, data: bytes, filename: str, fmt: str | None, *, actor: Principal
) -> ImportReport:
    """An uploaded file (HTTP): at most ``MAX_API_ROWS`` rows, imported in this transaction."""
    kind = detect_format(filename, fmt)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed("the file is not UTF-8 text", field="file") from None
    records = list(read_records(text, kind))
    if len(records) > MAX_API_ROWS:
        raise PayloadTooLarge(
            f"at most {MAX_API_ROWS} rows per upload, got {len(records)}; "
            "use `pingan petitions import` for more",
            field="file",
        )
    return import_records(session, records, actor=actor)
