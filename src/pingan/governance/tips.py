"""Anonymous tips: intake without identity, the PIN, the two-way dialogue, triage.

What is never stored: an account, an IP address, a device id, a user agent,
an original file name, image metadata. The public routes read none of them
(and the access log is scrubbed for them, see ``tips_logging``). The tipster
holds the tip number and the PIN they chose; the PIN is kept as an argon2
hash, and a run of wrong PINs locks the tip for a while.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import secrets
from collections.abc import Sequence
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session

from pingan.cases import actions, clocks
from pingan.cases.calendar import load_calendar
from pingan.cases.categories import CategorySpec, add_missing_categories, get_category
from pingan.cases.engine import CREATE
from pingan.cases.models import Case, CaseCategory
from pingan.cases.service import add_event, next_number
from pingan.cases.workflows.tip import DEFAULT_CATEGORIES, IN_SERVICE, LEVELS, OUTCOMES, WORKFLOW
from pingan.governance.tips_models import Tip, TipAttachment, TipMessage
from pingan.governance.tips_schemas import MessageOut, TipIn, TipsterView
from pingan.kit import audit
from pingan.kit.db import utcnow
from pingan.kit.errors import Conflict, NotFound, PayloadTooLarge, ValidationFailed
from pingan.kit.security import DUMMY_HASH, hash_password, verify_password
from pingan.org.models import OrgUnit
from pingan.org.permissions import Perm
from pingan.org.principal import Principal

TIPSTER = "public:tipster"
# Pillow's debug log echoes every EXIF tag it reads (camera serials, GPS): never
# let a DEBUG deployment write a tipster's metadata to the log.
logging.getLogger("PIL").setLevel(logging.INFO)
CHANNELS = ("web", "app")
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_FAILED_PINS = 5
LOCKOUT = dt.timedelta(minutes=15)
# What the tipster is told about the state: coarse, naming no unit or person.
PUBLIC_STATUS = {
    "received": "received",
    "triaged": "under review",
    "referred": "being handled",
    "concluded": "concluded",
    "dismissed": "closed without action",
}


def ensure_tip_categories(session: Session) -> int:
    specs = [
        CategorySpec(code, "tip", zh, en, department, level, amount, basis)
        for code, zh, en, department, level, amount, basis in DEFAULT_CATEGORIES
    ]
    return add_missing_categories(session, WORKFLOW.key, specs)


def _triage_desk(session: Session) -> OrgUnit:
    """Tips arrive at the city's root unit, where the tip desk triages them."""
    root = session.scalar(
        select(OrgUnit).where(OrgUnit.parent_id.is_(None)).order_by(OrgUnit.id).limit(1)
    )
    if root is None:
        raise Conflict("the city has no org units yet", field="unit")
    return root


def _check_pin(pin: str) -> None:
    if len(pin) < 6 or len(set(pin)) < 3:
        raise ValidationFailed(
            "choose a PIN of at least 6 characters, not one or two repeated", field="pin"
        )


def create_tip(session: Session, *, tip_in: TipIn, now: dt.datetime | None = None) -> Case:
    """File an anonymous tip; returns its case (the number is the tipster's key)."""
    now = now or utcnow()
    if tip_in.channel not in CHANNELS:
        raise ValidationFailed("channel must be web or app", field="channel")
    _check_pin(tip_in.pin)
    ensure_tip_categories(session)  # the defaults exist from first use on
    category = get_category(session, tip_in.category)
    if category.case_type != WORKFLOW.key:
        raise ValidationFailed(f"category {category.code!r} is not a tip", field="category")
    desk = _triage_desk(session)
    cal = load_calendar(session)
    # Hashed before the number is taken (see next_number): on SQLite the counter stays
    # locked until COMMIT; on PostgreSQL a failure after it would leave the number unused.
    pin_hash = hash_password(tip_in.pin)
    case = Case(
        case_type=WORKFLOW.key, state=WORKFLOW.initial, is_open=True, category_id=category.id,
        title=f"{category.name_zh} {category.name_en}", description="", address="",
        grid_path="", unit_id=desk.id, unit_path=desk.path, department="tip_desk",
        source=tip_in.channel, public_token=secrets.token_urlsafe(16), created_at=now,
        updated_at=now,
    )  # fmt: skip
    case.number = next_number(session, WORKFLOW.number_prefix, now.astimezone(cal.zone).year)
    session.add(case)
    session.flush()
    session.add(
        Tip(
            case_id=case.id, channel=tip_in.channel, content=tip_in.content,
            place=tip_in.place, pin_hash=pin_hash, failed_pins=0, level="",
        )
    )  # fmt: skip
    add_event(session, case, kind="created", actor=TIPSTER, at=now, to_state=case.state,
              detail={"category": category.code, "channel": tip_in.channel})  # fmt: skip
    clocks.apply(session, case=case, workflow=WORKFLOW, transition=CREATE, category=category,
                 cal=cal, now=now)  # fmt: skip
    return case


# --- the tipster's side -------------------------------------------------------


def _load(session: Session, ref: int | str) -> tuple[Case, Tip]:
    stmt = select(Case).where(Case.case_type == WORKFLOW.key)
    if isinstance(ref, int):
        stmt = stmt.where(Case.id == ref)
    else:
        stmt = stmt.where(Case.number == ref.strip())
    case = session.scalar(stmt)
    tip = session.get(Tip, case.id) if case is not None else None
    if case is None or tip is None:
        raise NotFound(f"tip {ref} not found")
    return case, tip


def _count_failure(session: Session, tip: Tip, now: dt.datetime) -> None:
    """Committed at once: the refusal that follows rolls the request back.

    ``open_tip`` comes before any change in every caller, so the commit
    carries nothing else of the request.
    """
    tip.failed_pins += 1
    if tip.failed_pins >= MAX_FAILED_PINS:
        tip.failed_pins, tip.locked_until = 0, now + LOCKOUT
    session.commit()


def open_tip(
    session: Session, *, number: str, pin: str, now: dt.datetime | None = None
) -> tuple[Case, Tip]:
    """The tip for this number and PIN; a wrong PIN reads the same as an unknown number."""
    now = now or utcnow()
    try:
        case, tip = _load(session, number)
    except NotFound:
        verify_password(DUMMY_HASH, pin)  # same time whether or not the number exists
        raise NotFound("no tip with this number and PIN") from None
    if tip.locked_until is not None and tip.locked_until > now:
        raise Conflict("too many wrong PINs: try again in a quarter of an hour", field="pin")
    if not verify_password(tip.pin_hash, pin):
        _count_failure(session, tip, now)
        raise NotFound("no tip with this number and PIN")
    if tip.failed_pins:
        tip.failed_pins = 0
    return case, tip


def messages(session: Session, case_id: int) -> Sequence[TipMessage]:
    return session.scalars(
        select(TipMessage).where(TipMessage.case_id == case_id).order_by(TipMessage.id)
    ).all()


def attachment_ids(session: Session, case_id: int) -> list[int]:
    return list(
        session.scalars(
            select(TipAttachment.id)
            .where(TipAttachment.case_id == case_id)
            .order_by(TipAttachment.id)
        )
    )


def messages_of_many(session: Session, case_ids: list[int]) -> dict[int, list[TipMessage]]:
    """``messages`` of a whole page of tips in one query."""
    found: dict[int, list[TipMessage]] = {i: [] for i in case_ids}
    if case_ids:
        stmt = select(TipMessage).where(TipMessage.case_id.in_(case_ids)).order_by(TipMessage.id)
        for m in session.scalars(stmt):
            found[m.case_id].append(m)
    return found


def attachment_ids_of_many(session: Session, case_ids: list[int]) -> dict[int, list[int]]:
    """``attachment_ids`` of a whole page of tips in one query."""
    found: dict[int, list[int]] = {i: [] for i in case_ids}
    if case_ids:
        stmt = (
            select(TipAttachment.case_id, TipAttachment.id)
            .where(TipAttachment.case_id.in_(case_ids))
            .order_by(TipAttachment.id)
        )
        for case_id, attachment_id in session.execute(stmt):
            found[case_id].append(attachment_id)
    return found


def tipster_view(
    session: Session, *, number: str, pin: str, now: dt.datetime | None = None
) -> TipsterView:
    from pingan.governance.tips_rewards import public_rewards

    case, _tip = open_tip(session, number=number, pin=pin, now=now)
    category = session.get(CaseCategory, case.category_id)
    assert category is not None
    audit.record(session, actor=TIPSTER, action="tip.tipster_read", object_type="tip",
                 object_id=case.number)  # fmt: skip
    return TipsterView(
        number=case.number,
        status=PUBLIC_STATUS[case.state],
        category=category.code,
        messages=[
            MessageOut(id=m.id, at=m.at, sender=m.sender, body=m.body)
            for m in messages(session, case.id)
        ],
        attachments=len(attachment_ids(session, case.id)),
        rewards=public_rewards(session, case.id),
    )


def add_tipster_message(
    session: Session, *, number: str, pin: str, text: str, now: dt.datetime | None = None
) -> TipMessage:
    now = now or utcnow()
    case, _tip = open_tip(session, number=number, pin=pin, now=now)
    if not case.is_open and case.closed_at is not None:
        raise Conflict("the tip is closed; file a new tip for new information", field="text")
    row = TipMessage(case_id=case.id, at=now, sender="tipster", staff_actor=None, body=text)
    session.add(row)
    session.flush()
    add_event(session, case, kind="tipster_message", actor=TIPSTER, at=now,
              detail={"message_id": row.id})  # fmt: skip
    return row


def clean_image(data: bytes) -> tuple[bytes, str]:
    """Re-encode a JPEG or PNG from its pixels alone, so no EXIF, XMP, text or ICC survives."""
    if len(data) > MAX_IMAGE_BYTES:
        raise PayloadTooLarge(
            f"an image may be at most {MAX_IMAGE_BYTES // 2**20} MiB, got {len(data)} bytes",
            field="file",
        )
    refusal = ValidationFailed(
        "only JPEG and PNG images are accepted: other files can carry metadata that identifies you",
        field="file",
    )
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format not in ("JPEG", "PNG"):
                raise refusal
            if img.width * img.height > MAX_PIXELS:
                raise ValidationFailed("the image has too many pixels", field="file")
            img.load()
            upright = ImageOps.exif_transpose(img) or img
            alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
            clean = upright.convert("RGBA" if alpha and img.format == "PNG" else "RGB")
            clean.info = {}
            out = io.BytesIO()
            if img.format == "JPEG":
                clean.save(out, "JPEG", quality=90)
                return out.getvalue(), "image/jpeg"
            clean.save(out, "PNG")
            return out.getvalue(), "image/png"
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError):
        raise refusal from None


def add_tipster_attachment(
    session: Session, *, number: str, pin: str, data: bytes, now: dt.datetime | None = None
) -> TipAttachment:
    now = now or utcnow()
    case, _tip = open_tip(session, number=number, pin=pin, now=now)
    if not data:
        raise ValidationFailed("the file is empty", field="file")
    clean, content_type = clean_image(data)
    row = TipAttachment(
        case_id=case.id, at=now, content_type=content_type, size=len(clean),
        sha256=hashlib.sha256(clean).hexdigest(), data=clean,
    )  # fmt: skip
    session.add(row)
    session.flush()
    add_event(session, case, kind="attachment", actor=TIPSTER, at=now,
              detail={"attachment_id": row.id, "size": row.size})  # fmt: skip
    return row


# --- the staff side -----------------------------------------------------------


def scope_clause(principal: Principal) -> ColumnElement[bool]:
    if principal.is_system:
        return Case.id.is_not(None)
    parts = [Case.unit_path.startswith(g.path) for g in principal.grants_with(Perm.TIPS_READ)]
    return or_(*parts) if parts else false()


def get_tip(
    session: Session, ref: int | str, *, actor: Principal, purpose: str = "read"
) -> tuple[Case, Tip]:
    case, tip = _load(session, ref)
    if not actor.can(Perm.TIPS_READ, case.unit_path):
        raise NotFound(f"tip {ref} not found")
    audit.record(session, actor=actor.actor, action=f"tip.{purpose}", object_type="tip",
                 object_id=case.number)  # fmt: skip
    return case, tip


def list_tips(
    session: Session,
    *,
    actor: Principal,
    state: str | None = None,
    level: str | None = None,
    is_open: bool | None = None,
    limit: int = 100,
    after_id: int | None = None,
) -> list[tuple[Case, Tip]]:
    stmt = (
        select(Case, Tip)
        .join(Tip, Tip.case_id == Case.id)
        .where(scope_clause(actor))
        .order_by(Case.id)
        .limit(limit)
    )
    if state is not None:
        stmt = stmt.where(Case.state == state)
    if level is not None:
        stmt = stmt.where(Tip.level == level)
    if is_open is not None:
        stmt = stmt.where(Case.is_open.is_(is_open))
    if after_id is not None:
        stmt = stmt.where(Case.id > after_id)
    return [(c, t) for c, t in session.execute(stmt)]


def add_staff_message(
    session: Session, *, case_ref: int | str, text: str, actor: Principal,
    now: dt.datetime | None = None,
) -> TipMessage:  # fmt: skip
    """A reply the tipster reads with the number and PIN; shown to them as from "staff"."""
    now = now or utcnow()
    case, _tip = get_tip(session, case_ref, actor=actor, purpose="reply")
    actor.require(Perm.TIPS_HANDLE, case.unit_path)
    row = TipMessage(case_id=case.id, at=now, sender="staff", staff_actor=actor.actor, body=text)
    session.add(row)
    session.flush()
    add_event(session, case, kind="staff_message", actor=actor.actor, at=now,
              detail={"message_id": row.id})  # fmt: skip
    return row


def get_attachment(
    session: Session, *, case_ref: int | str, attachment_id: int, actor: Principal
) -> TipAttachment:
    case, _tip = get_tip(session, case_ref, actor=actor, purpose="read_attachment")
    row = session.get(TipAttachment, attachment_id)
    if row is None or row.case_id != case.id:
        raise NotFound(f"attachment {attachment_id} not found")
    return row


def take(
    session: Session,
    *,
    case_ref: int | str,
    name: str,
    fields: dict[str, Any],
    actor: Principal,
    now: dt.datetime | None = None,
) -> Case:
    """Triage (level, optionally a corrected category), refer, conclude or dismiss."""
    now = now or utcnow()
    case, tip = get_tip(session, case_ref, actor=actor, purpose=f"step.{name}")
    WORKFLOW.transition(name, case.state)
    target: OrgUnit | None = None
    if name == "triage":
        if fields.get("level") not in LEVELS:
            raise ValidationFailed(f"level must be one of {', '.join(LEVELS)}",
                                   field="fields.level")  # fmt: skip
        if fields.get("category"):
            corrected = get_category(session, str(fields["category"]), field="fields.category")
            if corrected.case_type != WORKFLOW.key:
                raise ValidationFailed("not a tip category", field="fields.category")
            case.category_id = corrected.id
    elif name == "refer":
        raw = fields.get("unit_id")
        target = session.get(OrgUnit, raw) if isinstance(raw, int) and 0 < raw < 2**31 else None
        if target is None:
            raise ValidationFailed("refer needs unit_id (an org unit id)", field="fields.unit_id")
    elif name == "conclude" and fields.get("outcome") not in OUTCOMES:
        raise ValidationFailed(f"outcome must be one of {', '.join(OUTCOMES)}",
                               field="fields.outcome")  # fmt: skip
    token = IN_SERVICE.set(True)
    try:
        actions.transition(session, case=case, name=name, fields=fields, actor=actor, now=now)
    finally:
        IN_SERVICE.reset(token)
    if name == "triage":
        tip.level = str(fields["level"])
    elif name == "refer" and target is not None:
        case.unit_id, case.unit_path = target.id, target.path
        category = session.get(CaseCategory, case.category_id)
        case.department = str(fields.get("department") or (category.department if category else ""))
    elif name == "conclude":
        tip.outcome = str(fields["outcome"])
    session.flush()
    return case
