"""Access requests: everything Pingan holds about a named person, as one JSON document.

``PERSONAL_FIELDS`` is the map of where personal fields live (found by
reading every domain's models); a person is matched by name, phone, e-mail
or username, and through their user account by id. Anonymous tips hold no
identifier at all, so they can never be matched.

Answering a request is itself an access to personal data: it needs
``privacy:export`` over the whole city and is audited, with the identifiers
hashed so that the audit log, kept for ever, does not keep the name.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import LargeBinary, Table, inspect, or_, select
from sqlalchemy.orm import Session

from pingan.kit import audit
from pingan.kit.db import Base, Geometry, utcnow
from pingan.kit.errors import Forbidden, ValidationFailed
from pingan.org.models import OrgUnit
from pingan.org.permissions import Perm
from pingan.org.principal import Principal

IDENTIFIERS = ("name", "phone", "email", "username")

# table -> identifier -> column holding it
PERSONAL_FIELDS: dict[str, dict[str, str]] = {
    "users": {"username": "username", "name": "display_name"},
    "cases": {"name": "reporter_name", "phone": "reporter_phone", "email": "reporter_email"},
    "responders": {"name": "display_name"},
    "petitions": {"name": "petitioner_name", "phone": "petitioner_phone"},
    "petition_representatives": {"name": "name", "phone": "phone"},
    "mediation_parties": {"name": "name", "phone": "phone"},
    "risk_experts": {"name": "name"},
    "camera_owners": {"name": "contact_name", "phone": "contact_phone", "email": "contact_email"},
}
# table -> column holding a user id: what is tied to the person's own account.
BY_USER_ID: dict[str, str] = {
    "memberships": "user_id",
    "api_keys": "user_id",
    "cases": "reporter_user_id",
    "responders": "user_id",
}
# Secrets and internal keys are never part of an export.
WITHHELD = {"password_hash", "token_hash", "key_hash", "pin_hash", "public_token"}


def _table(session: Session, name: str) -> Table | None:
    import pingan.models  # noqa: F401  (every domain's tables in the metadata)

    table = Base.metadata.tables.get(name)
    if table is None or not inspect(session.get_bind()).has_table(name):
        return None
    return table


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _rows(session: Session, table: Table, condition: Any) -> list[dict[str, Any]]:
    shown = [
        c
        for c in table.columns
        if c.name not in WITHHELD and not isinstance(c.type, LargeBinary | Geometry)
    ]
    result = session.execute(select(*shown).where(condition).order_by(*table.primary_key.columns))
    return [{k: _plain(v) for k, v in row._mapping.items()} for row in result]


def _require_city_wide(session: Session, actor: Principal) -> None:
    roots = session.scalars(select(OrgUnit.path).where(OrgUnit.parent_id.is_(None))).all()
    if not actor.can(Perm.PRIVACY_EXPORT) or not all(
        actor.can(Perm.PRIVACY_EXPORT, path) for path in roots
    ):
        raise Forbidden("answering an access request needs 'privacy:export' over the whole city")


def export_person(session: Session, *, actor: Principal, **wanted: str | None) -> dict[str, Any]:
    """All rows that name the person (and, for a user, what hangs off their account)."""
    given = {k: v.strip() for k, v in wanted.items() if k in IDENTIFIERS and v and v.strip()}
    unknown = set(wanted) - set(IDENTIFIERS)
    if unknown:
        raise ValidationFailed(f"unknown identifier {sorted(unknown)[0]!r}", field="person")
    if not given:
        raise ValidationFailed("give at least one of name, phone, email, username", field="person")
    _require_city_wide(session, actor)

    sections: dict[str, list[dict[str, Any]]] = {}
    for name, fields in PERSONAL_FIELDS.items():
        table = _table(session, name)
        if table is None:
            continue
        matches = [
            table.c[column] == given[ident]
            for ident, column in fields.items()
            if ident in given and column in table.c
        ]
        if matches:
            found = _rows(session, table, or_(*matches))
            if found:
                sections[name] = found

    user_ids = [int(u["id"]) for u in sections.get("users", [])]
    usernames = [str(u["username"]) for u in sections.get("users", [])]
    if user_ids:
        for name, column in BY_USER_ID.items():
            table = _table(session, name)
            if table is None or column not in table.c:
                continue
            seen = {row.get("id") for row in sections.get(name, [])}
            extra = [
                r
                for r in _rows(session, table, table.c[column].in_(user_ids))
                if r.get("id") not in seen
            ]
            if extra:
                sections.setdefault(name, []).extend(extra)

    actions: list[dict[str, Any]] = []
    if usernames:
        log = audit.AuditEntry
        who = or_(
            *[log.actor == f"user:{u}" for u in usernames],
            *[log.actor.like(f"apikey:%:{u}") for u in usernames],
        )
        for entry in session.scalars(select(log).where(who).order_by(log.id)):
            actions.append(
                {
                    "id": entry.id,
                    "at": entry.at.isoformat(),
                    "actor": entry.actor,
                    "action": entry.action,
                    "object_type": entry.object_type,
                    "object_id": entry.object_id,
                }
            )

    counts = {name: len(rows) for name, rows in sections.items()}
    counts["audit_log"] = len(actions)
    digest = hashlib.sha256(
        "\n".join(f"{k}={given[k]}" for k in sorted(given)).encode()
    ).hexdigest()
    audit.record(
        session,
        actor=actor.actor,
        action="privacy.export",
        object_type="person",
        object_id=digest[:16],
        detail={"identifiers": sorted(given), "sha256": digest, "counts": counts},
    )
    return {
        "subject": given,
        "generated_at": utcnow().isoformat(),
        "generated_by": actor.actor,
        "counts": counts,
        "records": sections,
        "actions_in_audit_log": actions,
        "note": (
            "Anonymous tips hold no identifier and cannot be tied to a person. "
            "The audit log lists the actions this person took with their account."
        ),
    }
