"""The grid workforce of an area, level by level, with its gaps.

Three levels work every grid case: the grid worker in the grid, the
community's grid lead, and the subdistrict's grid management centre (above
them the district's command centre, through the org tree). This is the
supervisor's view of who holds each post under a unit, and where nobody does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.org.levels import Level
from pingan.org.models import Membership, OrgUnit, Role, User
from pingan.org.permissions import Perm
from pingan.org.principal import Principal
from pingan.org.service import get_unit

# The post at each level, by role name.
POSTS = {
    Level.GRID.value: "grid_worker",
    Level.COMMUNITY.value: "community_grid_lead",
    Level.SUBDISTRICT.value: "subdistrict_grid_centre",
}


@dataclass
class Post:
    unit_id: int
    code: str
    name_zh: str
    name_en: str
    level: str
    role: str
    people: list[str] = field(default_factory=list)
    children: list[Post] = field(default_factory=list)


@dataclass
class Workforce:
    root: Post
    # Units under the root whose post nobody holds, by level.
    vacant: dict[str, list[str]]
    held: dict[str, int]


def workforce(session: Session, unit_id: int, *, actor: Principal) -> Workforce:
    """Who holds the grid posts at and under a unit (a district, subdistrict or community)."""
    actor.require(Perm.USERS_ADMIN)  # names of staff: administrators of the area only
    root = get_unit(session, unit_id, principal=actor)
    actor.require(Perm.USERS_ADMIN, root.path)
    units = list(
        session.scalars(
            select(OrgUnit).where(OrgUnit.path.startswith(root.path)).order_by(OrgUnit.path)
        )
    )
    holders: dict[tuple[int, str], list[str]] = {}
    rows = session.execute(
        select(Membership.org_unit_id, Role.name, User.username)
        .join(Role, Role.id == Membership.role_id)
        .join(User, User.id == Membership.user_id)
        .join(OrgUnit, OrgUnit.id == Membership.org_unit_id)
        .where(OrgUnit.path.startswith(root.path), Role.name.in_(POSTS.values()),
               User.is_active.is_(True))
        .order_by(User.username)
    ).all()  # fmt: skip
    for holder_unit, role_name, username in rows:
        holders.setdefault((holder_unit, role_name), []).append(username)
    posts: dict[int, Post] = {}
    vacant: dict[str, list[str]] = {level: [] for level in POSTS}
    held: dict[str, int] = {level: 0 for level in POSTS}
    for unit in units:
        role = POSTS.get(unit.level, "")
        post = Post(unit.id, unit.code, unit.name_zh, unit.name_en, unit.level, role,
                    people=holders.get((unit.id, role), []))  # fmt: skip
        posts[unit.id] = post
        if role and post.people:
            held[unit.level] += 1
        elif role:
            vacant[unit.level].append(unit.code)
        if unit.parent_id in posts and unit.id != root.id:
            posts[unit.parent_id].children.append(post)
    return Workforce(root=posts[root.id], vacant=vacant, held=held)
