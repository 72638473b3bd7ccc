"""Seed data every installation needs: built-in roles and the default taxonomy."""

from __future__ import annotations

from sqlalchemy.orm import Session

from pingan.incidents.taxonomy import ensure_types
from pingan.org.users import ensure_builtin_roles


def seed_reference_data(session: Session) -> None:
    ensure_builtin_roles(session)
    ensure_types(session)
