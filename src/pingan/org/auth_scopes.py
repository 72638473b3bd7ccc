"""API key scopes (issue 11): what an integration's key may do.

Each scope names the permissions it lets a key use; a key acts with those of
its user's permissions that one of its scopes allows. Permissions added later
by a domain follow the same rules (a new ``x:read`` is covered by ``read``).
"""

from __future__ import annotations

from pingan.kit.errors import ValidationFailed
from pingan.org.permissions import Perm

SCOPES: dict[str, str] = {
    "read": "every read permission (*:read)",
    "intake": "record incidents and file cases (incidents:write, cases:report)",
    "dispatch": "responder positions, heartbeats and assignments (dispatch:*)",
    "admin": "administer users and keys (users:admin)",
    "all": "everything its user may do",
}


def scope_allows(scopes: list[str] | None, perm: str) -> bool:
    if scopes is None or "all" in scopes:
        return True
    return (
        ("read" in scopes and perm.endswith(":read"))
        or ("intake" in scopes and perm in (Perm.INCIDENTS_WRITE, Perm.CASES_REPORT))
        or ("dispatch" in scopes and perm.startswith("dispatch:"))
        or ("admin" in scopes and perm == Perm.USERS_ADMIN)
    )


def check_scopes(scopes: list[str] | None) -> list[str] | None:
    if scopes is None:
        return None
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ValidationFailed(
            f"unknown or no scopes {unknown}: use some of {', '.join(SCOPES)}", field="scopes"
        )
    return sorted(set(scopes))
