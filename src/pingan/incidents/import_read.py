"""Reading incident files into rows for intake, each with its line or feature number.

Formats, chosen by file extension:

* CSV (``.csv``): comma-separated, UTF-8 (a byte-order mark is fine), one
  header line. Rows are numbered by physical line in the file, the header
  being line 1 (a quoted field spanning lines counts from its first line).
* GeoJSON (``.geojson``, ``.json``): Point features, numbered by their index
  in the ``features`` array, counting from 0. The legacy ``crs`` member is
  honoured; without it coordinates are lon/lat as RFC 7946 says.
* GeoPackage (``.gpkg``): a Point layer (``--layer`` when there are several),
  numbered by fid, reprojected to lon/lat from the layer's CRS.

Columns (CSV header or feature properties), case-insensitive:
``type``, ``occurred_at`` (required), ``lon``, ``lat`` (required in CSV; the
point geometry in GeoJSON/GeoPackage), ``reported_at``, ``severity``,
``source``, ``status``, ``external_id``, ``summary``. Aliases: ``longitude``,
``lng`` and ``long`` for lon, ``latitude`` for lat, ``incident_type`` for
type. Other columns are ignored and listed in the summary. Empty cells count
as absent, so optional fields take their defaults; a row without ``source``
gets the default source given to the reader.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shapely import MultiPoint, Point

from pingan.kit.vectorfile import Feature, FileRejected, open_layer, vector_format

FIELDS = (
    "type", "occurred_at", "reported_at", "lon", "lat", "severity", "source", "status",
    "external_id", "summary",
)  # fmt: skip
REQUIRED = ("type", "occurred_at", "lon", "lat")
ALIASES = {
    "longitude": "lon",
    "lng": "lon",
    "long": "lon",
    "latitude": "lat",
    "incident_type": "type",
}
# Fields the intake schema wants as text; spreadsheets and GIS tools often give numbers.
TEXT_FIELDS = frozenset({"type", "source", "status", "external_id", "summary"})


@dataclass(frozen=True)
class RowError:
    """Why a row could not even be read; ``row`` holds what was readable of it."""

    field: str | None
    reason: str
    row: dict[str, Any] | None = None


ParsedRow = tuple[int, dict[str, Any] | RowError]


@dataclass
class IncidentFile:
    path: Path
    format: str  # "csv", "geojson" or "gpkg"
    unit: str  # "line", "feature" or "fid"
    total: int  # rows (or lines, for CSV) to expect, for progress
    rows: Iterator[ParsedRow]
    ignored_columns: list[str] = field(default_factory=list)


def open_incident_file(
    path: Path, *, default_source: str = "import", layer: str | None = None
) -> IncidentFile:
    """Open a file and check its columns; rows are read lazily as ``rows`` is iterated.

    Raises ``FileRejected`` for an unreadable file, an unknown format or a
    missing required column (the error names the column).
    """
    if path.suffix.lower() == ".csv":
        return _open_csv(path, default_source)
    if vector_format(path) is None:
        raise FileRejected(
            f"{path.name}: unknown format {path.suffix!r} "
            "(expected .csv, .geojson, .json or .gpkg)",
            field="file",
        )
    return _open_vector(path, default_source, layer)


def read_incident_rows(
    path: Path, *, default_source: str = "import", layer: str | None = None
) -> Iterator[ParsedRow]:
    """``(line_no, row)`` for every row of the file; ``row`` is a dict or a ``RowError``."""
    return open_incident_file(path, default_source=default_source, layer=layer).rows


def column_map(names: list[str]) -> tuple[dict[str, str], list[str]]:
    """Map header names to canonical fields; also the names that map to nothing."""
    mapping: dict[str, str] = {}
    ignored: list[str] = []
    canonical = {n.strip().lower() for n in names} & set(FIELDS)
    for name in names:
        key = name.strip().lower()
        target = key if key in FIELDS else ALIASES.get(key)
        # An alias never overrides the canonical column when both are present.
        if target is None or (key != target and target in canonical) or target in mapping.values():
            ignored.append(name)
        else:
            mapping[name] = target
    return mapping, ignored


def _clean(row: dict[str, Any], default_source: str) -> dict[str, Any]:
    """Drop empty values, turn numbers into text where the schema wants text."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if key in TEXT_FIELDS and isinstance(value, int | float) and not isinstance(value, bool):
            value = str(int(value)) if float(value).is_integer() else str(value)
        out[key] = value
    out.setdefault("source", default_source)
    return out


# --- CSV ----------------------------------------------------------------------


def _open_csv(path: Path, default_source: str) -> IncidentFile:
    lines = _scan_utf8_lines(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), None)
    except csv.Error as exc:
        raise FileRejected(f"{path.name}: unreadable header: {exc}", field="file") from None
    if not header:
        raise FileRejected(f"{path.name} is empty: no header line", field="file")
    mapping, ignored = column_map(header)
    for name in REQUIRED:
        if name not in mapping.values():
            raise FileRejected(f"{path.name}: missing required column {name!r}", field=name)
    return IncidentFile(
        path=path,
        format="csv",
        unit="line",
        total=max(lines - 1, 0),
        rows=_csv_rows(path, header, mapping, default_source),
        ignored_columns=ignored,
    )


def _scan_utf8_lines(path: Path) -> int:
    """Count lines and check the encoding before anything is stored."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = 0
    tail_open = False
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    bad_line = lines + chunk[: exc.start].count(b"\n") + 1
                    raise FileRejected(
                        f"{path.name} is not UTF-8 text (line {bad_line}); "
                        "save it as UTF-8 and import again",
                        field="file",
                    ) from None
                lines += chunk.count(b"\n")
                tail_open = not chunk.endswith(b"\n")
            decoder.decode(b"", final=True)
    except OSError as exc:
        raise FileRejected(f"cannot read {path}: {exc.strerror}", field="file") from None
    except UnicodeDecodeError:
        raise FileRejected(f"{path.name} ends inside a UTF-8 character", field="file") from None
    return lines + (1 if lines == 0 or tail_open else 0)


def _csv_rows(
    path: Path, header: list[str], mapping: dict[str, str], default_source: str
) -> Iterator[ParsedRow]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        next(reader)
        last_line = reader.line_num
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                # The reader resumes after the bad record, so the rest still loads.
                yield last_line + 1, RowError(None, f"unreadable CSV record: {exc}")
                last_line = reader.line_num
                continue
            line, last_line = last_line + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue  # blank line
            raw = {
                mapping[name]: cell
                for name, cell in zip(header, record, strict=False)
                if name in mapping
            }
            if len(record) != len(header):
                reason = f"has {len(record)} fields, the header has {len(header)}"
                yield line, RowError(None, reason, raw)
                continue
            yield line, _clean(raw, default_source)


# --- GeoJSON and GeoPackage ---------------------------------------------------


def _open_vector(path: Path, default_source: str, layer: str | None) -> IncidentFile:
    vector = open_layer(path, layer=layer)
    ignored: list[str] = []
    if vector.fields is not None:
        mapping, ignored = column_map(vector.fields)
        for name in ("type", "occurred_at"):
            if name not in mapping.values():
                raise FileRejected(f"{path.name}: missing required field {name!r}", field=name)
    return IncidentFile(
        path=path,
        format=vector.format,
        unit=vector.unit,
        total=vector.count,
        rows=(
            (feature.number, _feature_row(feature, default_source)) for feature in vector.features
        ),
        ignored_columns=ignored,
    )


def _feature_row(feature: Feature, default_source: str) -> dict[str, Any] | RowError:
    mapping, _ignored = column_map(list(feature.properties))
    raw = {target: feature.properties[name] for name, target in mapping.items()}
    if feature.error is not None:
        return RowError("geometry", feature.error, raw)
    geom = feature.geometry
    if geom is not None:
        if isinstance(geom, MultiPoint) and len(geom.geoms) == 1:
            geom = geom.geoms[0]
        if not isinstance(geom, Point) or geom.is_empty:
            kind = "an empty Point" if geom.is_empty else geom.geom_type
            return RowError("geometry", f"geometry must be a Point, got {kind}", raw)
        # The geometry is the location; lon/lat properties only stand in when it is null.
        raw["lon"], raw["lat"] = geom.x, geom.y
    return _clean(raw, default_source)
