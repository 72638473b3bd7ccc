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
    CASES_READ = "cases:read"
    CASES_REPORT = "cases:report"
    CASES_HANDLE = "cases:handle"
    CASES_MANAGE = "cases:manage"
    DISPATCH_READ = "dispatch:read"
    DISPATCH_WRITE = "dispatch:write"


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

# Case workflow permissions (issue 7), appended to the roles above.
BUILTIN_ROLES["officer"][1].extend(
    [Perm.CASES_READ, Perm.CASES_REPORT, Perm.CASES_HANDLE, Perm.CASES_MANAGE]
)
BUILTIN_ROLES["analyst"][1].append(Perm.CASES_READ)
BUILTIN_ROLES["grid_worker"][1].extend([Perm.CASES_READ, Perm.CASES_REPORT])

# Dispatch permissions (issue 6), appended to the roles above.
BUILTIN_ROLES["officer"][1].extend([Perm.DISPATCH_READ, Perm.DISPATCH_WRITE])
BUILTIN_ROLES["analyst"][1].append(Perm.DISPATCH_READ)
