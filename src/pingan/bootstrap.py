"""Seed data every installation needs: built-in roles, the incident taxonomy and
the grid-event categories (which are also the Open311 services)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from pingan.cases.categories import ensure_categories
from pingan.incidents.taxonomy import ensure_types
from pingan.org.users import ensure_builtin_roles


def seed_reference_data(session: Session) -> None:
    ensure_builtin_roles(session)
    ensure_types(session)
    ensure_categories(session)
