"""Permissions and the built-in roles that bundle them.

A role is granted to a user at an org unit and covers that unit's whole
subtree. Roles are rows in the database; these are the ones every
installation starts with.
"""

from __future__ import annotations

from enum import StrEnum


class Perm(StrEnum):
    ORG_READ = "org:read"
    ORG_WRITE = "org:write"
    INCIDENTS_READ = "incidents:read"
    INCIDENTS_WRITE = "incidents:write"
    PLACES_READ = "places:read"
    PLACES_WRITE = "places:write"
    USERS_ADMIN = "users:admin"
    AUDIT_READ = "audit:read"


ALL_PERMS = [p.value for p in Perm]

BUILTIN_ROLES: dict[str, tuple[str, list[str]]] = {
    "admin": ("Administers users, roles and data within the unit", ALL_PERMS),
    "officer": (
        "Reads and records incidents and places within the unit",
        [
            Perm.ORG_READ,
            Perm.INCIDENTS_READ,
            Perm.INCIDENTS_WRITE,
            Perm.PLACES_READ,
            Perm.PLACES_WRITE,
        ],
    ),
    "analyst": (
        "Reads incidents and places for analysis",
        [Perm.ORG_READ, Perm.INCIDENTS_READ, Perm.PLACES_READ],
    ),
    "grid_worker": (
        "Reports incidents and hazards in the grid",
        [Perm.ORG_READ, Perm.INCIDENTS_READ, Perm.INCIDENTS_WRITE, Perm.PLACES_READ],
    ),
    "auditor": ("Reads the audit log", [Perm.ORG_READ, Perm.AUDIT_READ]),
}
