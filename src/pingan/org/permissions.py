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
    # Complaints and petitions, anonymous tips and their rewards (issue 8).
    PETITIONS_READ = "petitions:read"
    PETITIONS_HANDLE = "petitions:handle"
    PETITIONS_MANAGE = "petitions:manage"
    TIPS_READ = "tips:read"
    TIPS_HANDLE = "tips:handle"
    TIPS_REWARD = "tips:reward"
    # Camera health: read live state and outages, report heartbeats (issue 5).
    CAMERAS_HEALTH_READ = "cameras:health:read"
    CAMERAS_HEALTH_REPORT = "cameras:health:report"
    # Briefings, KPIs, safety index and campaigns (issue 9).
    REPORTS_READ = "reports:read"
    REPORTS_WRITE = "reports:write"
    REPORTS_PUBLISH = "reports:publish"
    # Camera registry, coverage and placement plans (issue 5).
    CAMERAS_READ = "cameras:read"
    CAMERAS_WRITE = "cameras:write"
    # Exports of all that is held about a person, for access requests (issue 11, data protection).
    PRIVACY_EXPORT = "privacy:export"
    # Alert webhooks and federation feeds (issue 4): admins only, via ALL_PERMS.
    ALERTS_INTEGRATIONS = "alerts:integrations"


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

# Petitions and tips (issue 8): officers handle both; approving and paying tip
# rewards is a separate role so that the four-eyes rule has two people to work with.
BUILTIN_ROLES["officer"][1].extend(
    [
        Perm.PETITIONS_READ,
        Perm.PETITIONS_HANDLE,
        Perm.PETITIONS_MANAGE,
        Perm.TIPS_READ,
        Perm.TIPS_HANDLE,
    ]
)
BUILTIN_ROLES["reward_officer"] = (
    "Approves and pays rewards for anonymous tips",
    [Perm.ORG_READ, Perm.TIPS_READ, Perm.TIPS_REWARD],
)

# Camera health (issue 5): officers read and report, analysts read.
BUILTIN_ROLES["officer"][1].extend([Perm.CAMERAS_HEALTH_READ, Perm.CAMERAS_HEALTH_REPORT])
BUILTIN_ROLES["analyst"][1].append(Perm.CAMERAS_HEALTH_READ)

# Reports (issue 9): analysts draft and comment, officers also publish.
BUILTIN_ROLES["officer"][1].extend([Perm.REPORTS_READ, Perm.REPORTS_WRITE, Perm.REPORTS_PUBLISH])
BUILTIN_ROLES["analyst"][1].extend([Perm.REPORTS_READ, Perm.REPORTS_WRITE])

# Camera registry and coverage (issue 5): officers manage cameras in their units,
# analysts read coverage and plans. Owners' own users are linked per owner instead.
BUILTIN_ROLES["officer"][1].extend([Perm.CAMERAS_READ, Perm.CAMERAS_WRITE])
BUILTIN_ROLES["analyst"][1].append(Perm.CAMERAS_READ)

# The three-level grid workforce (issue 7): grid workers in their grid, a lead for each
# community's grid workers, and the subdistrict's grid management centre, which
# dispatches and closes grid cases. The levels these two are granted at are enforced
# (``ROLE_LEVELS``); see ``pingan.org.workforce``.
BUILTIN_ROLES["community_grid_lead"] = (
    "Leads the grid workers of a community: verifies and handles their reports",
    [
        Perm.ORG_READ, Perm.INCIDENTS_READ, Perm.INCIDENTS_WRITE, Perm.PLACES_READ,
        Perm.CASES_READ, Perm.CASES_REPORT, Perm.CASES_HANDLE, Perm.DISPATCH_READ,
    ],
)  # fmt: skip
BUILTIN_ROLES["subdistrict_grid_centre"] = (
    "The subdistrict's grid management centre: dispatches and closes grid cases",
    [
        Perm.ORG_READ, Perm.INCIDENTS_READ, Perm.INCIDENTS_WRITE, Perm.PLACES_READ,
        Perm.CASES_READ, Perm.CASES_REPORT, Perm.CASES_HANDLE, Perm.CASES_MANAGE,
        Perm.DISPATCH_READ,
    ],
)  # fmt: skip
ROLE_LEVELS: dict[str, str] = {
    "community_grid_lead": "community",
    "subdistrict_grid_centre": "subdistrict",
}
