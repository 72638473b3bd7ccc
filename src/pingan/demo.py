"""``pingan demo``: the synthetic city and a demo login, ready to explore."""

from __future__ import annotations

from sqlalchemy import func, select

from pingan.kit.cli import console
from pingan.kit.db import get_engine, session_scope
from pingan.kit.errors import NotFound
from pingan.org import users
from pingan.org.levels import Level
from pingan.org.models import OrgUnit
from pingan.org.principal import Principal
from pingan.settings import get_settings


def prepare_demo(*, seed: int) -> None:
    """Load the demo city if the database has none; make sure the demo user exists."""
    engine = get_engine()
    with session_scope(engine) as session:
        has_city = session.scalar(select(func.count(OrgUnit.id))) or 0
    if not has_city:
        from pingan.sim.city import build_city, recent_start

        console.print("Loading the synthetic demo city (the last 365 days of incidents)...")
        build_city(engine, scale="demo", seed=seed, start=recent_start(365), progress=True)
    else:
        console.print("Database already holds a city: keeping it.")
    _ensure_demo_user()

    # --- cases (issue 7): grid-event cases, open and closed; no-op if any exist ---
    from pingan.cases.demo import seed_demo_cases

    seeded = seed_demo_cases(engine, seed=seed)
    if seeded:
        console.print(f"Filed {seeded} demo grid-event cases.")


def _ensure_demo_user() -> None:
    settings = get_settings()
    operator = Principal.system("demo")
    with session_scope(get_engine()) as session:
        city = session.scalar(
            select(OrgUnit).where(OrgUnit.level == Level.CITY.value).order_by(OrgUnit.id)
        )
        if city is None:
            raise NotFound("no city unit found after loading the demo city")
        try:
            user = users.get_user_by_name(session, settings.demo_username)
        except NotFound:
            user = users.create_user(
                session,
                username=settings.demo_username,
                password=settings.demo_password,
                display_name="Demo administrator",
                actor=operator,
            )
        users.grant_role(session, user=user, role_name="admin", unit=city, actor=operator)
