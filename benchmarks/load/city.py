"""The database of a load run: a fresh one, the synthetic city, and the clients' identities.

Everything the clients will need is gathered into a :class:`Plan` (plain JSON)
that the Locust driver and the stream holder read: who logs in, which API keys
each integration holds, which cameras each owner's video system reports for,
which responders are on duty, where in the city reports may fall, and which
map tiles the console asks for.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import asdict, dataclass, field
from typing import Any

from benchmarks import pgdb
from benchmarks.pgdb import drop_database  # noqa: F401  (run.py imports it from here)
from sqlalchemy import func, select

from pingan.bootstrap import seed_reference_data
from pingan.cameras import registry
from pingan.cameras.models import Camera, CameraOwner
from pingan.cases.categories import list_categories
from pingan.cases.models import Case
from pingan.dispatch.responder_models import Availability, Responder
from pingan.incidents.models import Incident, IncidentType
from pingan.kit.db import engine_for, session_scope
from pingan.kit.migrate import upgrade
from pingan.org import auth, users
from pingan.org.levels import Level
from pingan.org.models import OrgUnit
from pingan.org.principal import Principal

SYSTEM = Principal.system("load-test")
PASSWORD = "load-test-password-1"
# Console users log in once each; integrations each hold their own key (the server
# limits every key to its own rate, as it would for separate systems).
CONSOLE_USERS = 20
GATEWAYS = 8
SAMPLE_POINTS = 2000


@dataclass
class Plan:
    """What the load clients know: credentials, ids and places (JSON-serialisable)."""

    base_url: str = ""
    console_users: list[str] = field(default_factory=list)
    console_tokens: list[str] = field(default_factory=list)
    gateway_keys: list[str] = field(default_factory=list)
    open311_key: str = ""
    open311_codes: list[str] = field(default_factory=list)
    owner_keys: dict[str, str] = field(default_factory=dict)
    owner_cameras: dict[str, list[int]] = field(default_factory=dict)
    responders: list[int] = field(default_factory=list)
    points: list[tuple[float, float]] = field(default_factory=list)
    incident_types: list[str] = field(default_factory=list)
    case_categories: list[str] = field(default_factory=list)
    case_ids: list[int] = field(default_factory=list)
    tiles: list[tuple[int, int, int]] = field(default_factory=list)
    heat_since: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Plan:
        plan = cls(**doc)
        plan.points = [(float(a), float(b)) for a, b in plan.points]
        plan.tiles = [(int(z), int(x), int(y)) for z, x, y in plan.tiles]
        return plan


def fresh_database(backend: str, sqlite_path: str) -> tuple[str, str | None]:
    """(url, the database to drop afterwards with ``drop_database``: None for SQLite)."""
    url = pgdb.fresh_database(backend, sqlite_path, prefix="pingan_load")
    return url, (None if backend == "sqlite" else url)


def load_city(url: str, *, scale: str, days: int, seed: int) -> None:
    """Migrate, then the synthetic city with the demo's cases, responders and cameras."""
    from pingan.cameras.demo import seed_demo_cameras
    from pingan.cases.demo import seed_demo_cases
    from pingan.dispatch.seed import seed_responders
    from pingan.sim.city import build_city, recent_start

    upgrade(url)
    engine = engine_for(url)
    with session_scope(engine) as session:
        seed_reference_data(session)
        has_city = session.scalar(select(func.count(OrgUnit.id)))
    if has_city:
        return
    build_city(engine, scale=scale, seed=seed, start=recent_start(days), days=days)
    seed_demo_cases(engine, seed=seed)
    with session_scope(engine) as session:
        seed_responders(session, actor=SYSTEM, seed=seed)
    seed_demo_cameras(engine, seed=seed)


def make_identities(url: str, *, run_tag: str, seed: int) -> Plan:
    """Users, roles and keys for this run (names tagged, so a kept database can be reused)."""
    rng = random.Random(seed)
    plan = Plan()
    engine = engine_for(url)
    with session_scope(engine) as session:
        city = session.scalar(
            select(OrgUnit).where(OrgUnit.level == Level.CITY.value).order_by(OrgUnit.id)
        )
        if city is None:
            raise SystemExit("the database holds no city")
        for i in range(CONSOLE_USERS):
            name = f"load-{run_tag}-op{i}"
            user = users.create_user(session, username=name, password=PASSWORD, actor=SYSTEM)
            users.grant_role(session, user=user, role_name="officer", unit=city, actor=SYSTEM)
            plan.console_users.append(name)
        for i in range(GATEWAYS):
            user = users.create_user(
                session,
                username=f"load-{run_tag}-gw{i}",
                password=None,
                is_service=True,
                actor=SYSTEM,
            )
            users.grant_role(session, user=user, role_name="officer", unit=city, actor=SYSTEM)
            key, _ = auth.create_api_key(session, user=user, name="gateway", actor=SYSTEM)
            plan.gateway_keys.append(key)
        app = users.create_user(
            session, username=f"load-{run_tag}-311", password=None, is_service=True, actor=SYSTEM
        )
        users.grant_role(session, user=app, role_name="grid_worker", unit=city, actor=SYSTEM)
        plan.open311_key, _ = auth.create_api_key(session, user=app, name="311", actor=SYSTEM)

        cameras: dict[str, list[int]] = {}
        for cam_id, code in session.execute(
            select(Camera.id, CameraOwner.code).join(CameraOwner, CameraOwner.id == Camera.owner_id)
        ):
            cameras.setdefault(code, []).append(int(cam_id))
        for code in sorted(cameras):
            name = f"load-{run_tag}-vms-{code.lower()}"
            user = users.create_user(
                session, username=name, password=None, is_service=True, actor=SYSTEM
            )
            registry.link_owner_user(session, code, name, actor=SYSTEM)
            plan.owner_keys[code], _ = auth.create_api_key(
                session, user=user, name="vms", actor=SYSTEM
            )
            plan.owner_cameras[code] = sorted(cameras[code])

        plan.responders = [
            int(r)
            for r in session.scalars(
                select(Responder.id).where(Responder.availability == Availability.AVAILABLE)
            )
        ]
        total = session.scalar(select(func.count(Incident.id))) or 0
        step = max(1, total // SAMPLE_POINTS)
        plan.points = [
            (float(lon), float(lat))
            for lon, lat in session.execute(
                select(Incident.lon, Incident.lat)
                .where(Incident.id % step == 0)
                .limit(SAMPLE_POINTS)
            )
        ]
        parents = select(IncidentType.parent_id).where(IncidentType.parent_id.is_not(None))
        plan.incident_types = sorted(
            session.scalars(select(IncidentType.code).where(IncidentType.id.not_in(parents)))
        )
        plan.case_categories = [c.code for c in list_categories(session, "grid_event")]
        plan.case_ids = [int(i) for i in session.scalars(select(Case.id).order_by(Case.id))]
        newest = session.scalar(select(func.max(Incident.occurred_at)))
    if not (plan.points and plan.responders and plan.owner_cameras and plan.case_ids):
        raise SystemExit("the city lacks incidents, responders, cameras or cases")
    rng.shuffle(plan.responders)
    plan.tiles = tiles_over(plan.points, zooms=(12, 13, 14))
    # The console's heat layer shows the last 30 days (a whole-day window, so tiles share it).
    anchor = (newest or dt.datetime.now(dt.UTC)).date()
    plan.heat_since = (anchor - dt.timedelta(days=30)).isoformat()
    return plan


def tiles_over(
    points: list[tuple[float, float]], *, zooms: tuple[int, ...]
) -> list[tuple[int, int, int]]:
    """Web Mercator tiles that hold at least one of the points, at each zoom."""
    found: set[tuple[int, int, int]] = set()
    for z in zooms:
        n = 2**z
        for lon, lat in points:
            x = int((lon + 180.0) / 360.0 * n)
            rad = math.radians(lat)
            y = int((1.0 - math.asinh(math.tan(rad)) / math.pi) / 2.0 * n)
            found.add((z, x, y))
    return sorted(found)
