"""Users, roles and role grants."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from pingan.kit import audit
from pingan.kit.errors import Conflict, NotFound, ValidationFailed
from pingan.kit.security import hash_password
from pingan.org.auth_passwords import check_password
from pingan.org.auth_scopes import scope_allows
from pingan.org.models import Membership, OrgUnit, Role, User
from pingan.org.permissions import BUILTIN_ROLES, ROLE_LEVELS, Perm

# Imported for its session listeners: every process that changes users or grants
# announces it, so the API workers' principal caches forget at once.
from pingan.org import principal_cache  # noqa: F401  isort: skip
from pingan.org.principal import Grant, Principal
from pingan.settings import get_settings

MIN_PASSWORD_LENGTH = 8  # the default of PINGAN_PASSWORD_MIN_LENGTH


def _min_password_length() -> int:
    # Never below 8 (NIST SP 800-63B), whatever the setting says.
    return max(MIN_PASSWORD_LENGTH, int(get_settings().password_min_length))


def ensure_builtin_roles(session: Session) -> None:
    """Create missing built-in roles and give existing ones newly added permissions.

    Idempotent, and it only adds: a permission an operator removed from a
    built-in role by hand comes back, one they added stays.
    """
    existing = {r.name: r for r in session.scalars(select(Role))}
    for name, (description, perms) in BUILTIN_ROLES.items():
        wanted = [str(p) for p in perms]
        role = existing.get(name)
        if role is None:
            session.add(Role(name=name, description=description, permissions=wanted))
        elif missing := [p for p in wanted if p not in role.permissions]:
            role.permissions = [*role.permissions, *missing]
    session.flush()


def create_user(
    session: Session,
    *,
    username: str,
    password: str | None,
    display_name: str = "",
    is_service: bool = False,
    actor: Principal,
) -> User:
    actor.require(Perm.USERS_ADMIN)
    username = username.strip()
    if not username or len(username) > 100:
        raise ValidationFailed("username must be 1-100 characters", field="username")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists", field="username")
    if password is not None:
        check_password(password, username=username, min_length=_min_password_length())
    if password is None and not is_service:
        raise ValidationFailed("a person's account needs a password", field="password")
    user = User(
        username=username,
        display_name=display_name,
        password_hash=None if password is None else hash_password(password),
        is_service=is_service,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor.actor,
        action="user.create",
        object_type="user",
        object_id=user.id,
        detail={"username": username, "service": is_service},
    )
    return user


def get_user_by_name(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"user {username!r} not found", field="username")
    return user


def list_users(session: Session, *, actor: Principal) -> list[User]:
    """The accounts an administrator may see: those holding a role inside their
    scope, and those holding none yet (so they can be granted one)."""
    actor.require(Perm.USERS_ADMIN)
    stmt = select(User).options(
        selectinload(User.memberships).selectinload(Membership.org_unit),
        selectinload(User.memberships).selectinload(Membership.role),
    )
    found = session.scalars(stmt.order_by(User.id))
    return [
        u for u in found if not u.memberships or any(visible_grant(actor, m) for m in u.memberships)
    ]


def visible_grant(actor: Principal, membership: Membership) -> bool:
    return actor.can(Perm.USERS_ADMIN, membership.org_unit.path)


def administers(actor: Principal, user: User) -> bool:
    """Whether ``actor`` administers every unit where ``user`` holds a role.

    Acting as such a user (a key minted for them) gives nothing the
    administrator could not grant anyway; acting as anyone else would.
    """
    return actor.can(Perm.USERS_ADMIN) and all(visible_grant(actor, m) for m in user.memberships)


def grant_role(
    session: Session, *, user: User, role_name: str, unit: OrgUnit, actor: Principal
) -> Membership:
    """Grant ``role_name`` at ``unit``; the granter must administer that unit."""
    actor.require(Perm.USERS_ADMIN, unit.path)
    role = session.scalar(select(Role).where(Role.name == role_name))
    if role is None:
        names = ", ".join(session.scalars(select(Role.name).order_by(Role.name)))
        raise NotFound(f"role {role_name!r} not found (roles: {names})", field="role")
    existing = session.scalar(
        select(Membership).where(
            Membership.user_id == user.id,
            Membership.org_unit_id == unit.id,
            Membership.role_id == role.id,
        )
    )
    if existing is not None:
        return existing
    wanted = ROLE_LEVELS.get(role_name)
    if wanted is not None and unit.level != wanted:
        raise ValidationFailed(
            f"role {role_name!r} is granted at a {wanted}, not at a {unit.level}", field="unit"
        )
    membership = Membership(
        user_id=user.id, org_unit_id=unit.id, role_id=role.id, granted_by=actor.actor
    )
    session.add(membership)
    session.flush()
    audit.record(
        session,
        actor=actor.actor,
        action="user.grant",
        object_type="user",
        object_id=user.id,
        detail={"role": role_name, "org_unit": unit.code},
    )
    return membership


def principal_for(
    session: Session,
    user: User,
    *,
    via: str,
    api_key_id: int | None = None,
    scopes: list[str] | None = None,
) -> Principal:
    rows = session.execute(
        select(OrgUnit.id, OrgUnit.level, OrgUnit.path, Role.name, Role.permissions)
        .join(Membership, Membership.org_unit_id == OrgUnit.id)
        .join(Role, Role.id == Membership.role_id)
        .where(Membership.user_id == user.id)
    ).all()
    grants = tuple(
        Grant(
            unit_id=uid,
            level=level,
            path=path,
            role=role,
            permissions=frozenset(p for p in perms if scope_allows(scopes, p)),
        )
        for uid, level, path, role, perms in rows
    )
    return Principal(
        user_id=user.id, username=user.username, grants=grants, via=via, api_key_id=api_key_id
    )
