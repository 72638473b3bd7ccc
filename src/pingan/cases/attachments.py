"""Case attachments: type and size limits, and EXIF removed from photos.

The type is decided by the file's leading bytes, not by what the client
claims. Photos lose their EXIF block (which carries the GPS position and
the device) unless the uploader keeps it on purpose; the pixels are not
touched, so no image library is needed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import struct

from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.cases.actions import may_take
from pingan.cases.engine import Transition
from pingan.cases.models import Case, CaseAttachment
from pingan.cases.service import add_event
from pingan.kit.db import utcnow
from pingan.kit.errors import Forbidden, NotFound, PayloadTooLarge, ValidationFailed
from pingan.org.permissions import Perm
from pingan.org.principal import Principal

MAX_BYTES = 10 * 1024 * 1024
PURPOSES = ("evidence", "result", "document")
_SIGNATURES = {
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"%PDF-": "application/pdf",
}


def sniff(data: bytes) -> str:
    for magic, kind in _SIGNATURES.items():
        if data.startswith(magic):
            return kind
    raise ValidationFailed("only JPEG, PNG and PDF files are accepted", field="file")


def strip_jpeg_exif(data: bytes) -> bytes:
    """Drop APP1 (EXIF/XMP) segments; everything else is copied as is."""
    out = bytearray(data[:2])
    i = 2
    while i + 4 <= len(data) and data[i] == 0xFF:
        marker = data[i + 1]
        if marker == 0xDA:  # start of scan: the rest is image data
            break
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if marker != 0xE1:
            out += data[i : i + 2 + length]
        i += 2 + length
    out += data[i:]
    return bytes(out)


def strip_png_exif(data: bytes) -> bytes:
    """Drop eXIf and text chunks (which may carry location), keep the rest."""
    out = bytearray(data[:8])
    i = 8
    while i + 12 <= len(data):
        (length,) = struct.unpack(">I", data[i : i + 4])
        kind = data[i + 4 : i + 8]
        end = i + 12 + length
        if kind not in (b"eXIf", b"tEXt", b"zTXt", b"iTXt"):
            out += data[i:end]
        i = end
    return bytes(out)


def add_attachment(
    session: Session,
    *,
    case: Case,
    filename: str,
    data: bytes,
    actor: Principal,
    purpose: str = "evidence",
    keep_exif: bool = False,
    now: dt.datetime | None = None,
) -> CaseAttachment:
    if not may_take(actor, case, Transition("attach", (), "", Perm.CASES_REPORT, True)):
        raise Forbidden("you may not add files to this case")
    if len(data) > MAX_BYTES:
        raise PayloadTooLarge(
            f"a file may be at most {MAX_BYTES // (1024 * 1024)} MiB, got {len(data)} bytes",
            field="file",
        )
    if not data:
        raise ValidationFailed("the file is empty", field="file")
    if purpose not in PURPOSES:
        raise ValidationFailed(f"purpose must be one of {', '.join(PURPOSES)}", field="purpose")
    content_type = sniff(data)
    if not keep_exif and content_type == "image/jpeg":
        data = strip_jpeg_exif(data)
    elif not keep_exif and content_type == "image/png":
        data = strip_png_exif(data)
    now = now or utcnow()
    attachment = CaseAttachment(
        case_id=case.id,
        filename=filename[:200] or "file",
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        purpose=purpose,
        data=data,
        uploaded_by=actor.actor,
        uploaded_at=now,
    )
    session.add(attachment)
    session.flush()
    add_event(
        session,
        case,
        kind="attachment",
        actor=actor.actor,
        at=now,
        detail={
            "attachment_id": attachment.id,
            "filename": attachment.filename,
            "size": attachment.size,
            "exif_kept": keep_exif,
        },
    )
    return attachment


def list_attachments(session: Session, case_id: int) -> list[CaseAttachment]:
    return list(
        session.scalars(
            select(CaseAttachment)
            .where(CaseAttachment.case_id == case_id)
            .order_by(CaseAttachment.id)
        )
    )


def get_attachment(session: Session, case: Case, attachment_id: int) -> CaseAttachment:
    found = session.get(CaseAttachment, attachment_id)
    if found is None or found.case_id != case.id:
        raise NotFound(f"attachment {attachment_id} not found")
    return found
