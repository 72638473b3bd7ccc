"""Every list endpoint runs a fixed number of SQL statements, however many rows it returns.

A "query per row" (a page that reads each row's category, clocks or geometry on its
own) is the usual way a list gets slow under load: the inbox page once ran ~100
statements a page. Here each list route is called over a few rows and over more rows,
and the two must cost the same number of statements (read from the server's own
``pingan_http_request_db_statements`` metric). Routes with a page size are also
called for a page of 1 and a page of N.

The routes come from the app's route table: a new GET route whose response is a list
or a page fails ``test_every_list_route_has_a_budget`` until it is measured here or
named in ``NOT_MEASURED`` with the reason.
"""

from __future__ import annotations

import datetime as dt
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from shapely import box
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pingan.alerts import service as alerts_service
from pingan.alerts import webhooks
from pingan.alerts.webhooks import SubscriptionIn
from pingan.alerts.webhooks_models import WebhookAttempt, WebhookDelivery
from pingan.cameras.health_models import CameraOutage, CameraOutageNotice
from pingan.dispatch.responder_models import ResponderKind
from pingan.governance import (
    assessments_service,
    compounds_service,
    mediation_service,
    petitions,
    tips,
)
from pingan.governance.assessments_schemas import AssessmentIn, ExpertIn
from pingan.governance.compounds_service import RemediationIn
from pingan.governance.mediation_schemas import DisputeIn
from pingan.governance.petitions_schemas import PetitionIn
from pingan.governance.tips_schemas import TipIn
from pingan.incidents import service as incidents_service
from pingan.incidents.analysis import runs
from pingan.incidents.schemas import IncidentIn
from pingan.kit import jobs
from pingan.kit.db import session_scope, utcnow
from pingan.kit.pagination import Page
from pingan.org import users
from pingan.org.principal import Principal
from pingan.places.models import Management, PlaceKind
from pingan.places.service import CompoundIn, PlaceIn, add_compounds, add_places
from tests.api.conftest import login
from tests.api.statements import statements_of
from tests.cameras.test_health_kit import add_cameras, add_owner
from tests.citykit import LAT0, LAT1, TestCity, grid_centre
from tests.dispatch.dispatchkit import add_responder, build_roads

SYSTEM = Principal.system("budget-test")
MORE = 5  # rows added between the two measurements
T0 = dt.datetime(2026, 10, 5, 2, 0, tzinfo=dt.UTC)  # a Monday, 10:00 in the city
LON, LAT = grid_centre("W1")
CITY_BOX = f"120.0,{LAT0},120.04,{LAT1}"


# --- rows of every kind, added in rounds ------------------------------------------------


@dataclass
class World:
    """What the rounds of rows made: ids the route paths need, and a running index."""

    engine: Engine
    client: TestClient
    headers: dict[str, str]
    worker: dict[str, str]
    city: TestCity
    made: int = 0
    ids: dict[str, int] = field(default_factory=dict)
    responders: list[int] = field(default_factory=list)

    def add_round(self, count: int) -> None:
        first, self.made = self.made, self.made + count
        with session_scope(self.engine) as s:
            for i in range(first, self.made):
                _add_rows(s, self, i)
        for i in range(first, self.made):
            body = {"category": "blocked_passage", "title": f"exit {i}", "lon": LON, "lat": LAT}
            made = self.client.post("/api/v1/cases", json=body, headers=self.worker)
            assert made.status_code == 201, made.text
        # Each round sends its own responders to the same incident.
        sent = self.client.post(
            f"/api/v1/dispatch/incidents/{self.ids['incident']}/dispatch",
            json={"responder_ids": self.responders[first : self.made]},
            headers=self.headers,
        )
        assert sent.status_code == 201, sent.text


def _add_rows(s: Session, world: World, i: int) -> None:
    """One row of every kind (and its children: a tip's message, an outage's notice)."""
    city = world.city
    when = T0 + dt.timedelta(hours=i)
    incidents_service.create(
        s,
        incident_in=IncidentIn(type="theft.bicycle", occurred_at=when, lon=LON, lat=LAT),
        actor=SYSTEM,
    )
    day = dt.date(2026, 9, 1) + dt.timedelta(days=5 * i)  # windows apart: no merging
    alerts_service.record_signal(
        s,
        signal=alerts_service.Signal(
            method="ears.c3", org_unit_id=city.id("W1"), grid_ids=(city.id("W1"), city.id("W2")),
            window_start=day, window_end=day + dt.timedelta(days=1), statistic=3.0 + i,
            observed=5, expected=1.0,
        ),
        actor=SYSTEM,
    )  # fmt: skip
    s.flush()  # queues the alert's webhook delivery; one failed attempt on it
    delivery = s.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id.desc())).first()
    assert delivery is not None
    s.add(WebhookAttempt(delivery_id=delivery.id, attempt=1, worker="test", status_code=503))
    world.responders.append(
        add_responder(s, name=f"Car {i}", kind=ResponderKind.POLICE_UNIT,
                      org_unit_id=city.id("W1"), at_m=(100.0 * i, 0.0), now=utcnow())
    )  # fmt: skip
    [camera_id] = add_cameras(s, "PSB", "W1", 1, prefix=f"r{i}-")
    outage = CameraOutage(camera_id=camera_id, started_at=when, cause="silent", detected_at=when)
    s.add(outage)
    s.flush()
    s.add(CameraOutageNotice(outage_id=outage.id, kind="opened", recipient="ops", created_at=when))
    petitions.create_petition(
        s,
        petition_in=PetitionIn(
            channel="visit", category="petition.housing", unit_id=city.id("C"),
            matter=f"第{i}号楼电梯停运，物业不予维修 (matter {i})", requests="修复电梯",
            place=f"幸福小区{i}号楼", petitioner_name=f"张{i}",
            petitioner_phone=f"138000011{i:02d}",
        ),
        actor=SYSTEM,
    )  # fmt: skip
    tip = tips.create_tip(
        s, tip_in=TipIn(category="tip.drugs", content=f"Dealing at gate {i}", pin="lantern-4412")
    )
    tips.add_staff_message(s, case_ref=tip.id, text=f"Thank you ({i})", actor=SYSTEM)
    mediation_service.register(
        s,
        dispute_in=DisputeIn.model_validate(
            {"category": "md_neighbour", "title": f"Noise {i}", "lon": LON, "lat": LAT,
             "parties": [{"role": "applicant", "name": f"王{i}"}]}
        ),
        actor=SYSTEM,
    )  # fmt: skip
    compound = f"B{i}"
    add_compounds(
        s,
        [CompoundIn(code=compound, name_zh=f"{compound}小区", name_en=compound,
                    geom=box(LON - 0.001, LAT - 0.001, LON + 0.001, LAT + 0.001),
                    households=300, buildings=6, management=Management.UNMANAGED,
                    grid_id=city.id("W1"))],
        actor=SYSTEM,
    )  # fmt: skip
    compounds_service.register(
        s,
        remediation_in=RemediationIn(compound=compound, no_property_management=True,
                                     no_responsible_department=True, no_self_governance=True,
                                     residents=100),
        actor=SYSTEM,
    )  # fmt: skip
    assessments_service.register(
        s,
        assessment_in=AssessmentIn(category="ra_major_project", project=f"Renewal {i}",
                                   proposing_org="西区住房和城乡建设局", lon=LON, lat=LAT),
        actor=SYSTEM,
    )  # fmt: skip
    assessments_service.add_expert(
        s, expert_in=ExpertIn(name=f"专家{i}", field="law", affiliation="市律师协会"), actor=SYSTEM
    )
    add_places(
        s,
        [PlaceIn(code=f"P{i}", kind=next(iter(PlaceKind)), name_zh=f"场所{i}", name_en=f"Site {i}",
                 protection_level=1, geom=box(LON, LAT, LON + 0.0005, LAT + 0.0005),
                 grid_id=city.id("W1"))],
        actor=SYSTEM,
    )  # fmt: skip
    users.create_user(s, username=f"budget_user_{i}", password=None, is_service=True, actor=SYSTEM)
    # A finished run (as the worker leaves it): the list shows runs, it does not run them.
    s.add(jobs.Job(kind=next(iter(runs.KINDS)), params=f'{{"i": {i}}}', created_by="user:chief",
                   status=jobs.JobStatus.SUCCEEDED, result="{}"))  # fmt: skip


@pytest.fixture
def world(engine: Engine, city: TestCity, client: TestClient, people: dict[str, int]) -> World:
    with session_scope(engine) as s:
        build_roads(s)
        add_owner(s, "PSB")
        # Refused at once on the discard port: no delivery leaves the machine.
        hook = SubscriptionIn(name="ops", url="http://127.0.0.1:9/hook", org_unit_id=city.id("C"))
        webhooks.create_subscription(s, hook, actor=SYSTEM)
        incident = incidents_service.create(
            s,
            incident_in=IncidentIn(type="fight", occurred_at=T0, lon=LON, lat=LAT),
            actor=SYSTEM,
        )
        petitions.ensure_petition_categories(s)
        tips.ensure_tip_categories(s)
        mediation_service.ensure_categories(s)
        assessments_service.ensure_categories(s)
    found = World(engine, client, login(client, "chief"), login(client, "w1_worker"), city)
    found.ids["incident"] = incident.id
    return found


# --- the routes and how each is measured ------------------------------------------------

INBOXES = ("all", "mine", "unit", "overdue", "due_today", "flagged")
OGC_LAYERS = ("org-units", "incidents", "incident-counts", "cameras", "alerts")

# Route template -> concrete paths (with their query) measured over few and over more rows.
GROWING: dict[str, list[str]] = {
    "/api/v1/cases": [f"/api/v1/cases?inbox={box_}" for box_ in INBOXES],
    "/api/v1/incidents": ["/api/v1/incidents"],
    "/api/v1/alerts": ["/api/v1/alerts"],
    "/api/v1/alerts/webhooks/deliveries": ["/api/v1/alerts/webhooks/deliveries"],
    "/api/v1/dispatch/responders": ["/api/v1/dispatch/responders"],
    "/api/v1/dispatch/incidents/{incident_id}/assignments": [
        "/api/v1/dispatch/incidents/{incident}/assignments"
    ],
    "/api/v1/dispatch/incidents/{incident_id}/timeline": [
        "/api/v1/dispatch/incidents/{incident}/timeline"
    ],
    "/api/v1/map/responders.geojson": ["/api/v1/map/responders.geojson"],
    "/api/v1/cameras": ["/api/v1/cameras"],
    "/api/v1/cameras/layer": [
        f"/api/v1/cameras/layer?bbox={CITY_BOX}&sectors={on}" for on in ("false", "true")
    ],
    "/api/v1/cameras/health/cameras": ["/api/v1/cameras/health/cameras"],
    "/api/v1/cameras/health/outages": ["/api/v1/cameras/health/outages"],
    "/api/v1/petitions": ["/api/v1/petitions"],
    "/api/v1/tips": ["/api/v1/tips"],
    "/api/v1/mediation/ledger": ["/api/v1/mediation/ledger"],
    "/api/v1/compounds/remediations": ["/api/v1/compounds/remediations"],
    "/api/v1/assessments": ["/api/v1/assessments"],
    "/api/v1/assessments/experts": ["/api/v1/assessments/experts"],
    "/api/v1/places": ["/api/v1/places"],
    "/api/v1/places/compounds": ["/api/v1/places/compounds"],
    "/api/v1/users": ["/api/v1/users"],
    "/api/v1/analysis/runs": ["/api/v1/analysis/runs"],
    "/ogc/collections/{collection_id}/items": [
        f"/ogc/collections/{layer}/items" for layer in OGC_LAYERS
    ],
    "/api/v1/exports/{layer_id}": [
        f"/api/v1/exports/{layer}?format={fmt}"
        for layer in ("incidents", "cameras", "alerts")
        for fmt in ("csv", "geojson")
    ],
}

# Paths with a page size: a page of 1 and a page of N cost the same.
PAGED: dict[str, list[str]] = {
    "/api/v1/cases": [f"/api/v1/cases?inbox={box_}&limit={{n}}" for box_ in INBOXES],
    "/api/v1/incidents": ["/api/v1/incidents?limit={n}"],
    "/api/v1/alerts": ["/api/v1/alerts?limit={n}"],
    "/api/v1/alerts/webhooks/deliveries": ["/api/v1/alerts/webhooks/deliveries?limit={n}"],
    "/api/v1/dispatch/responders": ["/api/v1/dispatch/responders?limit={n}"],
    "/api/v1/map/responders.geojson": ["/api/v1/map/responders.geojson?limit={n}"],
    "/api/v1/cameras": ["/api/v1/cameras?limit={n}"],
    "/api/v1/cameras/layer": [f"/api/v1/cameras/layer?bbox={CITY_BOX}&limit={{n}}"],
    "/api/v1/cameras/health/cameras": ["/api/v1/cameras/health/cameras?limit={n}"],
    "/api/v1/cameras/health/outages": ["/api/v1/cameras/health/outages?limit={n}"],
    "/api/v1/petitions": ["/api/v1/petitions?limit={n}"],
    "/api/v1/tips": ["/api/v1/tips?limit={n}"],
    "/api/v1/places": ["/api/v1/places?limit={n}"],
    "/api/v1/places/compounds": ["/api/v1/places/compounds?limit={n}"],
    "/api/v1/org/units": ["/api/v1/org/units?limit={n}"],
    "/api/v1/audit": ["/api/v1/audit?limit={n}"],
    "/api/v1/analysis/runs": ["/api/v1/analysis/runs?limit={n}"],
    "/ogc/collections/{collection_id}/items": [
        f"/ogc/collections/{layer}/items?limit={{n}}" for layer in OGC_LAYERS
    ],
}

# The same route over a filter that selects 1 row and one that selects several.
FILTERED: dict[str, tuple[str, str]] = {
    "/api/v1/org/units.geojson": (
        "/api/v1/org/units.geojson?level=city",
        "/api/v1/org/units.geojson?level=grid",
    ),
}

# GET routes answering a list (or a page, a FeatureCollection, a CSV) not measured here.
NOT_MEASURED: dict[str, str] = {
    "/api/v1/incidents/types": "the taxonomy: one query, no rows of the city's data",
    "/api/v1/cases/categories": "one query over the category table",
    "/api/v1/cases/checkins": "grid-worker check-ins: one query (no per-row code); no fixture",
    "/api/v1/cases/kpis": "aggregates computed in SQL, not rows",
    "/api/v1/petitions/categories": "one query over the category table",
    "/api/v1/petitions/{ref}/materials": "one petition's files: one query",
    "/api/v1/tips/rewards": "one joined query (reward, case number)",
    "/api/v1/public/tips/categories": "one query over the category table",
    "/api/v1/mediation/categories": "one query over the category table",
    "/api/v1/assessments/categories": "one query over the category table",
    "/api/v1/compounds/totals": "aggregates, not rows",
    "/api/v1/outreach/activities": "one query; no fixture here",
    "/api/v1/outreach/counts": "aggregates, not rows",
    "/api/v1/dispatch/units": "units and their members: two queries (unit_members is batched)",
    "/api/v1/dispatch/me/assignments": "one query for the caller's responders' assignments",
    "/api/v1/dispatch/kpis": "aggregates, not rows",
    "/api/v1/dispatch/commands": "incident commands: no fixture here",
    "/api/v1/dispatch/commands/{command_id}/log": "no fixture here",
    "/api/v1/dispatch/responders/{responder_id}/shifts": "one responder's shifts: one query",
    "/api/v1/alerts/watch-rules": "the caller's rules: one query",
    "/api/v1/alerts/webhooks": "one query",
    "/api/v1/federation/peers": "one query over a handful of peers",
    "/api/v1/cameras/owners": "one query",
    "/api/v1/cameras/plans": "placement plans: no fixture here (a plan is a long job)",
    "/api/v1/cameras/health/availability": "aggregates, not rows",
    "/api/v1/privacy/retention": "static rules",
    "/api/v1/kpis/definitions": "static definitions",
    "/api/v1/reports/briefings": "briefings are jobs; no fixture here",
    "/api/v1/reports/campaigns": "no fixture here",
}


def list_routes(client: TestClient) -> Iterator[str]:
    """Paths of GET routes whose declared answer is a list or a page."""
    for context in iter_route_contexts(client.app.routes):  # type: ignore[attr-defined]
        route = context.route
        if not isinstance(route, APIRoute) or "GET" not in (context.methods or set()):
            continue
        model = route.response_model
        is_list = typing.get_origin(model) is list
        is_page = isinstance(model, type) and issubclass(model, Page)
        if is_list or is_page:
            yield context.path


def test_every_list_route_has_a_budget(client: TestClient) -> None:
    measured = set(GROWING) | set(PAGED) | set(FILTERED)
    unnamed = [p for p in list_routes(client) if p not in measured and p not in NOT_MEASURED]
    assert unnamed == [], "list routes neither measured here nor named in NOT_MEASURED"
    stale = [p for p in NOT_MEASURED if p in measured]
    assert stale == []


def _measure_all(world: World, paths: dict[str, list[str]], n: int = 0) -> dict[str, int]:
    """Statements of each path (its ``{n}`` filled), after a first call that warms caches."""
    found = {}
    for raws in paths.values():
        for raw in raws:
            path = raw.replace("{incident}", str(world.ids["incident"])).replace("{n}", str(n))
            statements_of(world.client, path, world.headers)
            found[raw] = statements_of(world.client, path, world.headers)
    return found


def test_more_rows_cost_no_more_statements(world: World) -> None:
    world.add_round(1)
    few = _measure_all(world, GROWING)
    world.add_round(MORE)
    many = _measure_all(world, GROWING)
    grew = {p: (few[p], many[p]) for p in few if many[p] != few[p]}
    assert grew == {}, f"routes that run a query per row, (1 row, more rows) statements: {grew}"


def test_a_page_of_n_costs_what_a_page_of_1_costs(world: World) -> None:
    world.add_round(1 + MORE)
    one = _measure_all(world, PAGED, n=1)
    full = _measure_all(world, PAGED, n=1 + MORE)
    grew = {p: (one[p], full[p]) for p in one if full[p] != one[p]}
    assert grew == {}, f"routes that run a query per row, (page of 1, of N) statements: {grew}"
    for few, more in FILTERED.values():
        assert statements_of(world.client, few, world.headers) == statements_of(
            world.client, more, world.headers
        ), more
