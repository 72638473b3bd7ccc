"""Who is acting, and which parts of the org tree each permission covers.

A role granted at an org unit covers the unit's whole subtree, so a check is
a prefix test on materialised paths. Service functions receive a
``Principal`` and enforce scope themselves; views never filter by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pingan.kit.errors import Forbidden


@dataclass(frozen=True)
class Grant:
    unit_id: int
    level: str
    path: str
    role: str
    permissions: frozenset[str]

    def covers(self, unit_path: str) -> bool:
        return unit_path.startswith(self.path)


@dataclass(frozen=True)
class Principal:
    user_id: int | None
    username: str
    grants: tuple[Grant, ...] = ()
    via: str = "session"
    # The local operator at the CLI: trusted with everything.
    is_system: bool = False
    api_key_id: int | None = field(default=None, compare=False)

    @classmethod
    def system(cls, name: str = "cli") -> Principal:
        return cls(user_id=None, username=name, via="system", is_system=True)

    @property
    def actor(self) -> str:
        if self.is_system:
            return f"system:{self.username}"
        if self.api_key_id is not None:
            return f"apikey:{self.api_key_id}:{self.username}"
        return f"user:{self.username}"

    def grants_with(self, perm: str) -> list[Grant]:
        """The grants carrying ``perm``, without those inside another one."""
        found = sorted((g for g in self.grants if perm in g.permissions), key=lambda g: g.path)
        kept: list[Grant] = []
        for grant in found:
            if not any(grant.path.startswith(k.path) for k in kept):
                kept.append(grant)
        return kept

    def can(self, perm: str, unit_path: str | None = None) -> bool:
        """Whether ``perm`` is held at the unit (or anywhere, if no unit is given)."""
        if self.is_system:
            return True
        grants = self.grants_with(perm)
        if unit_path is None:
            return bool(grants)
        return any(g.covers(unit_path) for g in grants)

    def require(self, perm: str, unit_path: str | None = None) -> None:
        if not self.can(perm, unit_path):
            where = "" if unit_path is None else " for this org unit"
            raise Forbidden(f"permission {perm!r} is not granted{where}")
