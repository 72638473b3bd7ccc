"""``pingan demo``: the synthetic city and a demo login, ready to explore."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

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

    # --- dispatch (issue 6): a responder roster on the roads, so the board has people ---
    _seed_responders(engine, seed=seed)

    # --- cameras (issue 5): several owners' networks, coverage, a plan; no-op if any exist ---
    from pingan.cameras.demo import seed_demo_cameras

    cameras = seed_demo_cameras(engine, seed=seed)
    if cameras:
        console.print(f"Registered {cameras} demo cameras of several owners.")

    # --- petitions and tips (issue 8): open and closed matters; no-op if any exist ---
    from pingan.governance.petitions_demo import seed_demo_petitions
    from pingan.governance.tips_demo import seed_demo_tips

    filed = seed_demo_petitions(engine, seed=seed)
    tipped = seed_demo_tips(engine, seed=seed)
    if filed or tipped:
        console.print(f"Registered {filed} demo petitions and {tipped} anonymous tips.")

    # --- mediation, assessments, compounds, outreach (issue 8); each a no-op if seeded ---
    from pingan.governance.assessments_demo import seed_demo_assessments
    from pingan.governance.compounds_demo import seed_demo_remediations
    from pingan.governance.mediation_demo import seed_demo_disputes
    from pingan.governance.outreach_demo import seed_demo_outreach

    disputes, assessed = seed_demo_disputes(engine, seed=seed), seed_demo_assessments(engine)
    remediated, outreach = seed_demo_remediations(engine, seed=seed), seed_demo_outreach(engine)
    if disputes or assessed or remediated or outreach:
        console.print(
            f"Registered {disputes} disputes, {assessed} risk assessments, {remediated} compound "
            f"remediation projects and {outreach} legal outreach activities."
        )

    # --- briefings (issue 9): queued for the job worker; no-op once any exists or is queued ---
    from pingan.reports.demo import seed_demo_reports

    if seed_demo_reports(engine):
        console.print("Queued last month's and last week's city briefings (made by the server).")

    # --- camera health (issue 5): 3 days of heartbeats, past outages, some down now ---
    from pingan.cameras.health_demo import seed_demo_health

    offline = seed_demo_health(engine, seed=seed)
    if offline:
        console.print(f"Simulated camera heartbeats: {offline} cameras are offline now.")

    # --- open interfaces (issue 11): a hotspot run for /ogc/collections/hotspots; no-op if any ---
    from pingan.ops.demo import seed_demo_hotspot_run

    if seed_demo_hotspot_run(engine):
        console.print("Queued a hotspot run (served at /ogc/collections/hotspots once made).")


def _seed_responders(engine: Engine, *, seed: int) -> None:
    from pingan.dispatch.responder_models import Responder
    from pingan.dispatch.seed import seed_responders

    with session_scope(engine) as session:
        if session.scalar(select(func.count(Responder.id))):
            return
        report = seed_responders(session, actor=Principal.system("demo"), seed=seed)
    console.print(
        f"Registered {report.responders} responders ({report.available} on duty), "
        f"{report.units} teams."
    )


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
