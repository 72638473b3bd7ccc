"""Complaints and petitions: intake, reading under confidentiality, joint reception.

Confidentiality: a petition that accuses someone (a named official, a user,
a unit) is never shown to the accused or to anyone whose grants lie in the
accused unit or in a unit of the accused user; nor is it registered by or
forwarded to such a unit. Every read of a petition, allowed or refused, is
written to the audit log (a refusal is committed before the error is raised,
so that the rollback of the request keeps it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session

from pingan.cases import clocks
from pingan.cases.attachments import MAX_BYTES, sniff, strip_jpeg_exif, strip_png_exif
from pingan.cases.calendar import Basis, load_calendar
from pingan.cases.categories import CategorySpec, add_missing_categories, get_category
from pingan.cases.engine import CREATE
from pingan.cases.models import Case, CaseClock
from pingan.cases.service import add_event, next_number
from pingan.cases.workflows.petition import CHANNELS, DEFAULT_CATEGORIES, WORKFLOW
from pingan.governance.petitions_dedupe import Match, find_same_matter, person_key, place_key
from pingan.governance.petitions_models import (
    Petition,
    PetitionMaterial,
    PetitionParticipant,
    PetitionRepresentative,
)
from pingan.governance.petitions_schemas import PetitionIn
from pingan.kit import audit
from pingan.kit.db import utcnow
from pingan.kit.errors import Conflict, NotFound, PayloadTooLarge, ValidationFailed
from pingan.kit.security import hash_password
from pingan.org.models import OrgUnit, User
from pingan.org.permissions import Perm
from pingan.org.principal import Principal
from pingan.org.users import principal_for

MAX_REPRESENTATIVES = 5
OFFICE_DEPARTMENT = "letters_visits"


def ensure_petition_categories(session: Session) -> int:
    """Create the default petition categories that are missing (idempotent)."""
    # Handling is concluded within 60 days of acceptance (2022 Regulations, art. 35).
    specs = [
        CategorySpec(code, "matter", zh, en, department, level, 60, Basis.STATUTORY_DAYS.value)
        for code, zh, en, department, level in DEFAULT_CATEGORIES
    ]
    return add_missing_categories(session, WORKFLOW.key, specs)


def unit_or_error(session: Session, unit_id: int, field: str) -> OrgUnit:
    unit = session.get(OrgUnit, unit_id) if 0 < unit_id < 2**31 else None
    if unit is None:
        raise ValidationFailed(f"org unit {unit_id} not found", field=field)
    return unit


# --- confidentiality ---------------------------------------------------------


def accused_paths(session: Session, petition: Petition) -> list[str]:
    """The org paths whose people must not see the petition."""
    paths: list[str] = []
    if petition.accused_unit_id is not None:
        unit = session.get(OrgUnit, petition.accused_unit_id)
        if unit is not None:
            paths.append(unit.path)
    if petition.accused_user_id is not None:
        user = session.get(User, petition.accused_user_id)
        if user is not None:
            paths += [g.path for g in principal_for(session, user, via="check").grants]
    return paths


def is_accused_side(
    session: Session,
    principal: Principal,
    petition: Petition,
    known: dict[tuple[int | None, int | None], list[str]] | None = None,
) -> bool:
    """Whether ``principal`` is (within) what the petition accuses.

    ``known`` keeps the accused paths across the rows of one list: many petitions
    accuse the same unit or person, whose grants are then read once, not per row.
    """
    if principal.is_system:
        return False
    if petition.accused_user_id is not None and principal.user_id == petition.accused_user_id:
        return True
    key = (petition.accused_unit_id, petition.accused_user_id)
    if known is None or key not in known:
        barred = accused_paths(session, petition)
        if known is not None:
            known[key] = barred
    else:
        barred = known[key]
    return any(g.path.startswith(p) for g in principal.grants for p in barred)


def _check_not_accused_unit(session: Session, petition: Petition, unit: OrgUnit, what: str) -> None:
    for path in accused_paths(session, petition):
        if unit.path.startswith(path):
            raise ValidationFailed(
                f"{what} {unit.name_en or unit.code} is (within) the unit the matter accuses; "
                "choose a body outside it",
                field="unit_id",
            )


def audit_refusal(session: Session, *, actor: Principal, number: str, why: str) -> None:
    """Record a refused access and commit it at once, so the refusal that follows keeps it.

    Every caller checks access before it changes anything, so the commit
    carries nothing of the request but this entry (and an API key's last use).
    """
    audit.record(
        session, actor=actor.actor, action="petition.read_refused", object_type="petition",
        object_id=number, detail={"why": why},
    )  # fmt: skip
    session.commit()


def participant_paths(session: Session, case_id: int) -> list[str]:
    return list(
        session.scalars(
            select(PetitionParticipant.unit_path).where(PetitionParticipant.case_id == case_id)
        )
    )


def may_read(session: Session, principal: Principal, case: Case, petition: Petition) -> bool:
    if principal.is_system:
        return True
    if petition.leader_user_id is not None and principal.user_id == petition.leader_user_id:
        return True
    paths = [case.unit_path, *participant_paths(session, case.id)]
    return any(principal.can(Perm.PETITIONS_READ, p) for p in paths)


def load(session: Session, ref: int | str) -> tuple[Case, Petition]:
    """By case id or number, without any check (callers check)."""
    stmt = select(Case).where(Case.case_type == WORKFLOW.key)
    if isinstance(ref, int) or (ref.isdigit() and len(ref) <= 18):
        stmt = stmt.where(Case.id == int(ref))
    else:
        stmt = stmt.where(Case.number == ref)
    case = session.scalar(stmt)
    petition = session.get(Petition, case.id) if case is not None else None
    if case is None or petition is None:
        raise NotFound(f"petition {ref} not found")
    return case, petition


def get_petition(
    session: Session, ref: int | str, *, actor: Principal, purpose: str = "read"
) -> tuple[Case, Petition]:
    """A petition the actor may read; the access (or its refusal) is audited."""
    case, petition = load(session, ref)
    if is_accused_side(session, actor, petition):
        audit_refusal(session, actor=actor, number=case.number, why="accused side")
        raise NotFound(f"petition {ref} not found")
    if not may_read(session, actor, case, petition):
        raise NotFound(f"petition {ref} not found")
    audit.record(
        session, actor=actor.actor, action=f"petition.{purpose}", object_type="petition",
        object_id=case.number,
    )  # fmt: skip
    return case, petition


def scope_clause(principal: Principal) -> ColumnElement[bool]:
    if principal.is_system:
        return Case.id.is_not(None)
    parts: list[ColumnElement[bool]] = []
    for g in principal.grants_with(Perm.PETITIONS_READ):
        parts.append(Case.unit_path.startswith(g.path))
        parts.append(
            Case.id.in_(
                select(PetitionParticipant.case_id).where(
                    PetitionParticipant.unit_path.startswith(g.path)
                )
            )
        )
    if principal.user_id is not None:
        parts.append(Petition.leader_user_id == principal.user_id)
    return or_(*parts) if parts else false()


def list_petitions(
    session: Session,
    *,
    actor: Principal,
    state: str | None = None,
    channel: str | None = None,
    is_open: bool | None = None,
    overdue: bool = False,
    led_by_me: bool = False,
    limit: int = 100,
    after_id: int | None = None,
    now: dt.datetime | None = None,
) -> list[tuple[Case, Petition]]:
    """Petitions in scope, by id; the accused side never sees those that accuse it."""
    now = now or utcnow()
    stmt = (
        select(Case, Petition)
        .join(Petition, Petition.case_id == Case.id)
        .where(scope_clause(actor))
        .order_by(Case.id)
        .limit(limit)
    )
    if state is not None:
        stmt = stmt.where(Case.state == state)
    if channel is not None:
        stmt = stmt.where(Petition.channel == channel)
    if is_open is not None:
        stmt = stmt.where(Case.is_open.is_(is_open))
    if led_by_me:
        stmt = stmt.where(Petition.leader_user_id == (actor.user_id or -1))
    if overdue:
        late = select(CaseClock.case_id).where(
            CaseClock.status == clocks.RUNNING,
            CaseClock.due_at <= now,
            CaseClock.name.not_in(("review_window", "rereview_window")),
        )
        stmt = stmt.where(Case.id.in_(late))
    if after_id is not None:
        stmt = stmt.where(Case.id > after_id)
    rows = [(c, p) for c, p in session.execute(stmt)]
    known: dict[tuple[int | None, int | None], list[str]] = {}
    shown = [(c, p) for c, p in rows if not is_accused_side(session, actor, p, known)]
    audit.record(
        session, actor=actor.actor, action="petition.list", object_type="petition",
        detail={"numbers": [c.number for c, _ in shown]},
    )  # fmt: skip
    return shown


# --- intake ------------------------------------------------------------------


def new_query_code() -> str:
    """Eight letters and digits, easy to read out over the phone (no 0/O, 1/I)."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(8))


def _validate(petition_in: PetitionIn) -> None:
    if petition_in.channel not in CHANNELS:
        raise ValidationFailed(f"channel must be one of {', '.join(CHANNELS)}", field="channel")
    reps = len(petition_in.representatives)
    if reps > MAX_REPRESENTATIVES:
        raise ValidationFailed(
            f"a group petition names at most {MAX_REPRESENTATIVES} representatives, got {reps}",
            field="representatives",
        )
    if petition_in.is_group and reps == 0:
        raise ValidationFailed(
            "a group petition names its representatives (1 to 5)", field="representatives"
        )
    if not petition_in.is_group and reps:
        raise ValidationFailed(
            "only a group petition names representatives", field="representatives"
        )
    if petition_in.is_group and petition_in.headcount < 2:
        raise ValidationFailed("a group petition has a headcount of 2 or more", field="headcount")


def create_petition(
    session: Session,
    *,
    petition_in: PetitionIn,
    actor: Principal,
    now: dt.datetime | None = None,
) -> tuple[Case, Petition, str, list[Match]]:
    """Register a matter; returns the case, its petition, the query code and look-alikes.

    A matter whose facts already went through re-review is registered (what
    came in is always on record) and at once not accepted, with a letter.
    """
    now = now or utcnow()
    _validate(petition_in)
    ensure_petition_categories(session)  # the defaults exist from first use on
    category = get_category(session, petition_in.category)
    if category.case_type != WORKFLOW.key:
        raise ValidationFailed(f"category {category.code!r} is not a petition", field="category")
    office = unit_or_error(session, petition_in.unit_id, "unit_id")
    actor.require(Perm.PETITIONS_MANAGE, office.path)
    if petition_in.accused_unit_id is not None:
        unit_or_error(session, petition_in.accused_unit_id, "accused_unit_id")
    if (
        petition_in.accused_user_id is not None
        and session.get(User, petition_in.accused_user_id) is None
    ):
        raise ValidationFailed(
            f"user {petition_in.accused_user_id} not found", field="accused_user_id"
        )
    received = petition_in.received_at or now
    if received.tzinfo is None:
        raise ValidationFailed("received_at needs a time zone", field="received_at")
    if received > now + dt.timedelta(minutes=5):
        raise ValidationFailed("received_at is in the future", field="received_at")
    who = person_key(petition_in.petitioner_name, petition_in.petitioner_phone)
    where = place_key(petition_in.place)
    matches = find_same_matter(
        session, matter=petition_in.matter, person=who, place=where, now=received
    )
    cal = load_calendar(session)
    code = new_query_code()
    # Everything that needs no case id runs before the number is taken (see
    # next_number): on SQLite the counter stays locked until COMMIT, and the query
    # code's hash alone is a slow argon2 round; on PostgreSQL a failure after it would
    # leave the number unused.
    case = Case(
        case_type=WORKFLOW.key, state=WORKFLOW.initial, is_open=True, category_id=category.id,
        # Neutral: the generic case lists must not carry the matter or names.
        title=f"{category.name_zh} {category.name_en}", description="", address="",
        grid_path="", unit_id=office.id, unit_path=office.path,
        department=OFFICE_DEPARTMENT, source=petition_in.channel,
        public_token=secrets.token_urlsafe(16), created_at=received, updated_at=received,
    )  # fmt: skip
    petition = Petition(
        channel=petition_in.channel, received_at=received,
        is_group=petition_in.is_group, headcount=petition_in.headcount,
        petitioner_name=petition_in.petitioner_name,
        petitioner_phone=petition_in.petitioner_phone,
        petitioner_address=petition_in.petitioner_address, person_key=who,
        place=petition_in.place, place_key=where, matter=petition_in.matter,
        requests=petition_in.requests, accused_name=petition_in.accused_name,
        accused_user_id=petition_in.accused_user_id,
        accused_unit_id=petition_in.accused_unit_id,
        same_matter_as_id=matches[0].case_id if matches else None,
        same_matter_score=matches[0].score if matches else None,
        lookup_hash=hash_password(code), joint=False, exhausted=False, rating_comment="",
    )  # fmt: skip
    # Neither object is in the session yet, so the queries of this check flush nothing.
    _check_not_accused_unit(session, petition, office, "the registering office")
    case.number = next_number(session, WORKFLOW.number_prefix, received.astimezone(cal.zone).year)
    session.add(case)
    session.flush()
    petition.case_id = case.id
    session.add(petition)
    session.flush()
    for rep in petition_in.representatives:
        session.add(PetitionRepresentative(case_id=case.id, name=rep.name, phone=rep.phone))
    add_event(
        session, case, kind="created", actor=actor.actor, at=received, to_state=case.state,
        detail={"channel": petition.channel, "category": category.code,
                "same_matter": [m.number for m in matches]},
    )  # fmt: skip
    clocks.apply(
        session, case=case, workflow=WORKFLOW, transition=CREATE, category=category, cal=cal,
        now=received,
    )  # fmt: skip
    from pingan.governance import petitions_steps

    petitions_steps.send_letter(session, case, petition, "registered", office=office, now=received)
    exhausted = next((m for m in matches if m.exhausted), None)
    if exhausted is not None:
        petitions_steps.take(
            session, case_ref=case.id, name="decline", actor=Principal.system("petitions"),
            fields={"reason": f"同一事实已经复核终结（{exhausted.number}），不再受理 / "
                              f"same facts concluded by re-review in {exhausted.number}"},
            now=received,
        )  # fmt: skip
    return case, petition, code, matches


# --- joint reception, leaders, materials --------------------------------------


def assign_leader(
    session: Session, *, case_ref: int | str, user_id: int, actor: Principal,
    now: dt.datetime | None = None,
) -> Petition:  # fmt: skip
    """A named leader owns a hard case to closure (包案): sees it and is listed on it."""
    case, petition = get_petition(session, case_ref, actor=actor, purpose="assign_leader")
    actor.require(Perm.PETITIONS_MANAGE, case.unit_path)
    if not case.is_open:
        raise Conflict(f"petition {case.number} is closed", field="case")
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise ValidationFailed(f"user {user_id} not found", field="user_id")
    if petition.accused_user_id == user.id or is_accused_side(
        session, principal_for(session, user, via="check"), petition
    ):
        raise ValidationFailed("the leader may not be on the accused side", field="user_id")
    before = petition.leader_user_id
    petition.leader_user_id = user.id
    add_event(
        session, case, kind="leader", actor=actor.actor, at=now or utcnow(),
        detail={"from": before, "to": user.id, "username": user.username},
    )  # fmt: skip
    return petition


def add_participant(
    session: Session, *, case_ref: int | str, unit_id: int, department: str, actor: Principal,
    now: dt.datetime | None = None,
) -> PetitionParticipant:  # fmt: skip
    """Bring a department into the joint reception of the matter; it may then read it."""
    now = now or utcnow()
    case, petition = get_petition(session, case_ref, actor=actor, purpose="joint_reception")
    actor.require(Perm.PETITIONS_MANAGE, case.unit_path)
    if not case.is_open:
        raise Conflict(f"petition {case.number} is closed", field="case")
    unit = unit_or_error(session, unit_id, "unit_id")
    _check_not_accused_unit(session, petition, unit, "the department")
    existing = session.scalar(
        select(PetitionParticipant).where(
            PetitionParticipant.case_id == case.id,
            PetitionParticipant.unit_id == unit.id,
            PetitionParticipant.department == department,
        )
    )
    if existing is not None:
        return existing
    row = PetitionParticipant(
        case_id=case.id, unit_id=unit.id, unit_path=unit.path, department=department,
        added_at=now,
    )  # fmt: skip
    session.add(row)
    petition.joint = True
    add_event(
        session, case, kind="joint", actor=actor.actor, at=now,
        detail={"unit_id": unit.id, "department": department},
    )  # fmt: skip
    session.flush()
    return row


def participants(session: Session, case_id: int) -> Sequence[PetitionParticipant]:
    return session.scalars(
        select(PetitionParticipant)
        .where(PetitionParticipant.case_id == case_id)
        .order_by(PetitionParticipant.id)
    ).all()


def representatives(session: Session, case_id: int) -> Sequence[PetitionRepresentative]:
    return session.scalars(
        select(PetitionRepresentative)
        .where(PetitionRepresentative.case_id == case_id)
        .order_by(PetitionRepresentative.id)
    ).all()


def add_material(
    session: Session, *, case_ref: int | str, filename: str, data: bytes, accuses: bool,
    actor: Principal, now: dt.datetime | None = None,
) -> PetitionMaterial:  # fmt: skip
    now = now or utcnow()
    case, _petition = get_petition(session, case_ref, actor=actor, purpose="add_material")
    actor.require(Perm.PETITIONS_HANDLE, case.unit_path)
    if len(data) > MAX_BYTES:
        raise PayloadTooLarge(
            f"a file may be at most {MAX_BYTES // (1024 * 1024)} MiB, got {len(data)} bytes",
            field="file",
        )
    if not data:
        raise ValidationFailed("the file is empty", field="file")
    content_type = sniff(data)
    if content_type == "image/jpeg":
        data = strip_jpeg_exif(data)
    elif content_type == "image/png":
        data = strip_png_exif(data)
    row = PetitionMaterial(
        case_id=case.id, accuses=accuses, filename=filename[:200] or "file",
        content_type=content_type, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
        data=data, added_by=actor.actor, added_at=now,
    )  # fmt: skip
    session.add(row)
    session.flush()
    add_event(
        session, case, kind="material", actor=actor.actor, at=now,
        detail={"material_id": row.id, "accuses": accuses, "size": row.size},
    )  # fmt: skip
    return row


def list_materials(
    session: Session, *, case_ref: int | str, actor: Principal
) -> list[PetitionMaterial]:
    case, _petition = get_petition(session, case_ref, actor=actor, purpose="list_materials")
    return list(
        session.scalars(
            select(PetitionMaterial)
            .where(PetitionMaterial.case_id == case.id)
            .order_by(PetitionMaterial.id)
        )
    )


def get_material(
    session: Session, *, case_ref: int | str, material_id: int, actor: Principal
) -> PetitionMaterial:
    case, _petition = get_petition(session, case_ref, actor=actor, purpose="read_material")
    row = session.get(PetitionMaterial, material_id)
    if row is None or row.case_id != case.id:
        raise NotFound(f"material {material_id} not found")
    audit.record(
        session, actor=actor.actor, action="petition.material_read", object_type="petition",
        object_id=case.number, detail={"material_id": row.id, "accuses": row.accuses},
    )  # fmt: skip
    return row
