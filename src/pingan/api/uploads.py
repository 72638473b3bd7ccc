"""Reading an uploaded file under a size limit."""

from __future__ import annotations

from fastapi import UploadFile

from pingan.kit.errors import PayloadTooLarge


def read_capped(
    file: UploadFile, limit: int, *, detail: str | None = None, field: str | None = "file"
) -> bytes:
    """The upload's bytes, or 413 when it holds more than ``limit`` bytes.

    One byte past the limit is read, so an oversized upload is never held whole.
    ``detail`` defaults to "a file may be at most N MiB".
    """
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(detail or f"a file may be at most {limit // 2**20} MiB", field=field)
    return data
