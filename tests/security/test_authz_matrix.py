"""The authorisation matrix: every route of the app, called as anonymous, as a
user whose roles lie only in another district, and as a user whose roles
cover the data.

The routes come from the app's own route table, so a route added anywhere
is called here. Each needs a rule: public routes are declared (with a reason)
in ``pingan.api.security``; every other route must be listed in ``RULES``
below, or the test names it and fails.

Path parameters are filled from the fixtures where the name is known (an
incident, a case, a responder, a unit, a user: all in the west district) and
otherwise get a placeholder, for which an in-scope caller may get 404.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from pingan.api.security import public_reason
from tests.security.conftest import MARKER, World

# What a logged-in caller may expect from a protected route.
SCOPED = "scoped"  # data tied to org units: outside your scope it is refused or absent
OWN = "own"  # the caller's own account or assignments: everyone logged in gets an answer

RULES: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/auth/me"): OWN,
    ("GET", "/api/v1/org/units"): SCOPED,
    ("GET", "/api/v1/org/units.geojson"): SCOPED,
    ("GET", "/api/v1/org/units/{unit_id}"): SCOPED,
    ("GET", "/api/v1/users"): SCOPED,
    ("POST", "/api/v1/users"): SCOPED,
    ("POST", "/api/v1/users/{user_id}/grants"): SCOPED,
    ("POST", "/api/v1/users/api-keys"): SCOPED,
    ("POST", "/api/v1/incidents"): SCOPED,
    ("POST", "/api/v1/incidents/batch"): SCOPED,
    ("GET", "/api/v1/incidents"): SCOPED,
    ("GET", "/api/v1/incidents/types"): SCOPED,
    ("GET", "/api/v1/incidents/{incident_id}"): SCOPED,
    ("PATCH", "/api/v1/incidents/{incident_id}"): SCOPED,
    ("POST", "/api/v1/analysis/runs"): SCOPED,
    ("GET", "/api/v1/analysis/runs"): SCOPED,
    ("GET", "/api/v1/analysis/heat/tiles/{z}/{x}/{y}.png"): SCOPED,
    ("GET", "/api/v1/analysis/heat/legend"): SCOPED,
    ("GET", "/api/v1/analysis/heat"): SCOPED,
    ("GET", "/api/v1/analysis/heat/contours"): SCOPED,
    ("GET", "/api/v1/analysis/heat.tif"): SCOPED,
    ("GET", "/api/v1/analysis/forecast"): SCOPED,
    ("GET", "/api/v1/analysis/forecast/evaluation"): SCOPED,
    ("GET", "/api/v1/analysis/hotspots"): SCOPED,
    ("GET", "/api/v1/analysis/emerging"): SCOPED,
    ("GET", "/api/v1/analysis/rates"): SCOPED,
    ("GET", "/api/v1/places"): SCOPED,
    ("GET", "/api/v1/places/compounds"): SCOPED,
    ("GET", "/api/v1/audit"): SCOPED,
    ("GET", "/api/v1/audit/verify"): SCOPED,
    ("GET", "/api/v1/jobs/{job_id}"): SCOPED,
    ("GET", "/api/v1/dispatch/responders"): SCOPED,
    ("POST", "/api/v1/dispatch/responders"): SCOPED,
    ("GET", "/api/v1/dispatch/responders/{responder_id}"): SCOPED,
    ("PATCH", "/api/v1/dispatch/responders/{responder_id}"): SCOPED,
    ("PUT", "/api/v1/dispatch/responders/{responder_id}/availability"): SCOPED,
    ("GET", "/api/v1/dispatch/units"): SCOPED,
    ("POST", "/api/v1/dispatch/units"): SCOPED,
    ("POST", "/api/v1/dispatch/positions"): SCOPED,
    ("POST", "/api/v1/dispatch/recommend"): SCOPED,
    ("POST", "/api/v1/dispatch/incidents/{incident_id}/dispatch"): SCOPED,
    ("GET", "/api/v1/dispatch/incidents/{incident_id}/assignments"): SCOPED,
    ("GET", "/api/v1/dispatch/incidents/{incident_id}/timeline"): SCOPED,
    ("GET", "/api/v1/dispatch/me/assignments"): OWN,
    ("POST", "/api/v1/dispatch/assignments/{assignment_id}/status"): SCOPED,
    ("GET", "/api/v1/dispatch/events"): SCOPED,
    ("GET", "/api/v1/dispatch/kpis"): SCOPED,
    ("GET", "/api/v1/dispatch/commands"): SCOPED,
    ("POST", "/api/v1/dispatch/commands"): SCOPED,
    ("GET", "/api/v1/dispatch/commands/{command_id}"): SCOPED,
    ("GET", "/api/v1/dispatch/commands/{command_id}/board"): SCOPED,
    ("GET", "/api/v1/dispatch/commands/{command_id}/log"): SCOPED,
    ("POST", "/api/v1/dispatch/commands/{command_id}/log"): SCOPED,
    ("POST", "/api/v1/dispatch/commands/{command_id}/deactivate"): SCOPED,
    ("POST", "/api/v1/dispatch/patrols/plan"): SCOPED,
    ("POST", "/api/v1/dispatch/assignments/{assignment_id}/ack-link"): SCOPED,
    ("GET", "/api/v1/map/roads.geojson"): SCOPED,
    ("POST", "/api/v1/cases"): SCOPED,
    ("GET", "/api/v1/cases"): SCOPED,
    ("GET", "/api/v1/cases/categories"): SCOPED,
    ("POST", "/api/v1/cases/checkins"): SCOPED,
    ("GET", "/api/v1/cases/checkins"): SCOPED,
    ("GET", "/api/v1/cases/kpis"): SCOPED,
    ("GET", "/api/v1/cases/{case_id}"): SCOPED,
    ("POST", "/api/v1/cases/{case_id}/transitions"): SCOPED,
    ("POST", "/api/v1/cases/{case_id}/comments"): SCOPED,
    ("POST", "/api/v1/cases/{case_id}/assignment"): SCOPED,
    ("POST", "/api/v1/cases/{case_id}/attachments"): SCOPED,
    ("GET", "/api/v1/cases/{case_id}/attachments/{attachment_id}"): SCOPED,
    ("GET", "/api/v1/alerts"): SCOPED,
    ("GET", "/api/v1/alerts/stream"): SCOPED,
    ("GET", "/api/v1/alerts/{alert_id}"): SCOPED,
    ("POST", "/api/v1/alerts/{alert_id}/acknowledge"): SCOPED,
    ("POST", "/api/v1/alerts/{alert_id}/resolve"): SCOPED,
    ("POST", "/api/v1/alerts/{alert_id}/dismiss"): SCOPED,
    ("POST", "/api/v1/alerts/runs"): SCOPED,
    ("GET", "/api/v1/alerts/watch-rules"): SCOPED,
    ("POST", "/api/v1/alerts/watch-rules"): SCOPED,
    ("POST", "/api/v1/alerts/watch-rules/{rule_id}/active"): SCOPED,
    ("GET", "/api/v1/map/responders.geojson"): SCOPED,
    ("GET", "/api/v1/exports/{layer_id}"): SCOPED,
    ("GET", "/api/v1/dispatch/plans"): SCOPED,
    ("POST", "/api/v1/dispatch/responders/{responder_id}/shifts"): SCOPED,
    ("GET", "/api/v1/dispatch/responders/{responder_id}/shifts"): SCOPED,
    ("DELETE", "/api/v1/dispatch/shifts/{shift_id}"): SCOPED,
    ("POST", "/api/v1/cameras/health/heartbeats"): SCOPED,
    ("GET", "/api/v1/cameras/health/cameras"): SCOPED,
    ("GET", "/api/v1/cameras/health/outages"): SCOPED,
    ("GET", "/api/v1/cameras/health/availability"): SCOPED,
    ("POST", "/api/v1/cameras/health/check"): SCOPED,
    ("PUT", "/api/v1/cameras/health/probes/{camera_id}"): SCOPED,
    ("POST", "/api/v1/cameras/health/probes/{camera_id}/run"): SCOPED,
    ("GET", "/api/v1/cameras"): SCOPED,
    ("POST", "/api/v1/cameras"): SCOPED,
    ("POST", "/api/v1/cameras/import"): SCOPED,
    ("GET", "/api/v1/cameras/owners"): SCOPED,
    ("POST", "/api/v1/cameras/owners"): SCOPED,
    ("GET", "/api/v1/cameras/layer"): SCOPED,
    ("GET", "/api/v1/cameras/coverage"): SCOPED,
    ("GET", "/api/v1/cameras/coverage/segments"): SCOPED,
    ("POST", "/api/v1/cameras/coverage/recompute"): SCOPED,
    ("GET", "/api/v1/cameras/blind-spots"): SCOPED,
    ("POST", "/api/v1/cameras/plans"): SCOPED,
    ("GET", "/api/v1/cameras/plans"): SCOPED,
    ("GET", "/api/v1/cameras/plans/{plan_id}"): SCOPED,
    ("GET", "/api/v1/cameras/plans/{plan_id}/sites.geojson"): SCOPED,
    ("GET", "/api/v1/cameras/plans/{plan_id}/sites.csv"): SCOPED,
    ("GET", "/api/v1/cameras/{camera_id:int}"): SCOPED,
    ("PATCH", "/api/v1/cameras/{camera_id:int}"): SCOPED,
    ("DELETE", "/api/v1/cameras/{camera_id:int}"): SCOPED,
    ("POST", "/api/v1/petitions"): SCOPED,
    ("GET", "/api/v1/petitions"): SCOPED,
    ("GET", "/api/v1/petitions/categories"): SCOPED,
    ("GET", "/api/v1/petitions/statistics"): SCOPED,
    ("GET", "/api/v1/petitions/{ref}"): SCOPED,
    ("POST", "/api/v1/petitions/{ref}/steps"): SCOPED,
    ("POST", "/api/v1/petitions/{ref}/leader"): SCOPED,
    ("POST", "/api/v1/petitions/{ref}/participants"): SCOPED,
    ("POST", "/api/v1/petitions/{ref}/materials"): SCOPED,
    ("GET", "/api/v1/petitions/{ref}/materials"): SCOPED,
    ("GET", "/api/v1/petitions/{ref}/materials/{material_id}"): SCOPED,
    ("GET", "/api/v1/petitions/{ref}/letters/{letter_id}"): SCOPED,
    ("GET", "/api/v1/tips"): SCOPED,
    ("GET", "/api/v1/tips/statistics"): SCOPED,
    ("GET", "/api/v1/tips/rewards"): SCOPED,
    ("GET", "/api/v1/tips/ledger"): SCOPED,
    ("POST", "/api/v1/tips/rewards/pay"): SCOPED,
    ("POST", "/api/v1/tips/rewards/{reward_id}/decision"): SCOPED,
    ("GET", "/api/v1/tips/{ref}"): SCOPED,
    ("POST", "/api/v1/tips/{ref}/steps"): SCOPED,
    ("POST", "/api/v1/tips/{ref}/messages"): SCOPED,
    ("GET", "/api/v1/tips/{ref}/attachments/{attachment_id}"): SCOPED,
    ("POST", "/api/v1/tips/{ref}/rewards"): SCOPED,
    ("GET", "/api/v1/mediation/categories"): SCOPED,
    ("POST", "/api/v1/mediation/disputes"): SCOPED,
    ("GET", "/api/v1/mediation/disputes/{number}"): SCOPED,
    ("POST", "/api/v1/mediation/disputes/{number}/transitions"): SCOPED,
    ("POST", "/api/v1/mediation/disputes/{number}/follow-up"): SCOPED,
    ("GET", "/api/v1/mediation/ledger"): SCOPED,
    ("GET", "/api/v1/mediation/statistics"): SCOPED,
    ("GET", "/api/v1/assessments/categories"): SCOPED,
    ("GET", "/api/v1/assessments/experts"): SCOPED,
    ("POST", "/api/v1/assessments/experts"): SCOPED,
    ("POST", "/api/v1/assessments/experts/{expert_id}/interests"): SCOPED,
    ("POST", "/api/v1/assessments"): SCOPED,
    ("GET", "/api/v1/assessments/{number}"): SCOPED,
    ("POST", "/api/v1/assessments/{number}/panel"): SCOPED,
    ("POST", "/api/v1/assessments/{number}/consultations"): SCOPED,
    ("POST", "/api/v1/assessments/{number}/scores"): SCOPED,
    ("GET", "/api/v1/assessments/{number}/rating"): SCOPED,
    ("POST", "/api/v1/assessments/{number}/conclude"): SCOPED,
    ("POST", "/api/v1/assessments/{number}/mitigations"): SCOPED,
    ("POST", "/api/v1/assessments/{number}/monitoring"): SCOPED,
    ("POST", "/api/v1/assessments/{number}/transitions"): SCOPED,
    ("GET", "/api/v1/assessments/{number}/report.html"): SCOPED,
    ("GET", "/api/v1/assessments/{number}/report.pdf"): SCOPED,
    ("POST", "/api/v1/compounds/remediations"): SCOPED,
    ("GET", "/api/v1/compounds/remediations"): SCOPED,
    ("GET", "/api/v1/compounds/remediations/{code}"): SCOPED,
    ("POST", "/api/v1/compounds/remediations/{code}/steps"): SCOPED,
    ("GET", "/api/v1/compounds/totals"): SCOPED,
    ("GET", "/api/v1/compounds/cases/{number}"): SCOPED,
    ("POST", "/api/v1/compounds/cases/{number}/transitions"): SCOPED,
    ("POST", "/api/v1/compounds/cases/{number}/attachments"): SCOPED,
    ("POST", "/api/v1/petitions/import"): SCOPED,
    ("POST", "/api/v1/outreach/activities"): SCOPED,
    ("GET", "/api/v1/outreach/activities"): SCOPED,
    ("GET", "/api/v1/outreach/counts"): SCOPED,
    ("POST", "/api/v1/privacy/exports"): SCOPED,
    ("GET", "/api/v1/privacy/retention"): SCOPED,
    ("GET", "/api/v1/kpis/definitions"): SCOPED,
    ("GET", "/api/v1/kpis"): SCOPED,
    ("GET", "/api/v1/kpis/{code}/records"): SCOPED,
    ("POST", "/api/v1/reports/briefings"): SCOPED,
    ("GET", "/api/v1/reports/briefings"): SCOPED,
    ("GET", "/api/v1/reports/briefings/{briefing_id}"): SCOPED,
    ("GET", "/api/v1/reports/briefings/{briefing_id}/html"): SCOPED,
    ("GET", "/api/v1/reports/briefings/{briefing_id}/pdf"): SCOPED,
    ("POST", "/api/v1/reports/briefings/{briefing_id}/comments"): SCOPED,
    ("POST", "/api/v1/reports/briefings/{briefing_id}/publish"): SCOPED,
    ("PUT", "/api/v1/reports/sensitive-period"): SCOPED,
    ("GET", "/api/v1/reports/safety-index"): SCOPED,
    ("POST", "/api/v1/reports/campaigns"): SCOPED,
    ("GET", "/api/v1/reports/campaigns"): SCOPED,
    ("GET", "/api/v1/reports/campaigns/{campaign_id}"): SCOPED,
    ("POST", "/api/v1/reports/campaigns/{campaign_id}/evaluate"): SCOPED,
    ("GET", "/api/v1/cases/workflows/{case_type}"): SCOPED,
    ("GET", "/api/v1/cameras/tiles/coverage/{z}/{x}/{y}.png"): SCOPED,
    ("GET", "/api/v1/cameras/tiles/cameras/{z}/{x}/{y}.png"): SCOPED,
    ("GET", "/api/v1/cameras/tiles/coverage/{z}/{x}/{y}.mvt"): SCOPED,
    ("GET", "/api/v1/cameras/tiles/cameras/{z}/{x}/{y}.mvt"): SCOPED,
    ("GET", "/api/v1/assessments"): SCOPED,
    ("GET", "/api/v1/alerts/webhooks"): SCOPED,
    ("POST", "/api/v1/alerts/webhooks"): SCOPED,
    ("POST", "/api/v1/alerts/webhooks/{webhook_id}/active"): SCOPED,
    ("GET", "/api/v1/alerts/webhooks/deliveries"): SCOPED,
    ("POST", "/api/v1/alerts/webhooks/deliveries/{delivery_id}/requeue"): SCOPED,
    ("GET", "/api/v1/federation/peers"): SCOPED,
    ("POST", "/api/v1/federation/peers"): SCOPED,
    ("GET", "/api/v1/federation/peers/{peer_id}/layer"): SCOPED,
    ("GET", "/api/v1/org/units/{unit_id}/grid-workforce"): SCOPED,
    ("GET", "/ogc"): SCOPED,
    ("GET", "/ogc/conformance"): SCOPED,
    ("GET", "/ogc/collections"): SCOPED,
    ("GET", "/ogc/collections/{collection_id}"): SCOPED,
    ("GET", "/ogc/collections/{collection_id}/items"): SCOPED,
    ("GET", "/ogc/collections/{collection_id}/items/{feature_id}"): SCOPED,
}

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
PLACEHOLDERS = {"fmt": "json", "z": "12", "x": "3413", "y": "1677"}
PLACEHOLDER = "999999"
SSE_QUERY = {"max_seconds": "0.1"}  # streams end at once instead of holding the test


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    query_names: frozenset[str]


def _query_names(route: APIRoute) -> frozenset[str]:
    names: set[str] = set()
    stack = [route.dependant]
    while stack:
        dep = stack.pop()
        names.update(q.name for q in dep.query_params)
        stack.extend(dep.dependencies)
    return frozenset(names)


def endpoints(client: TestClient) -> Iterator[Endpoint]:
    """Every (method, path) of the app's route table, mounts included."""
    for context in iter_route_contexts(client.app.routes):  # type: ignore[attr-defined]
        route = context.route
        query = _query_names(route) if isinstance(route, APIRoute) else frozenset()
        methods = context.methods or {"GET"}  # a mount answers GET
        for method in sorted(methods - {"HEAD"}):
            yield Endpoint(method, context.path, query)


def _url(endpoint: Endpoint, ids: dict[str, int]) -> tuple[str, bool]:
    """The concrete URL, and whether it names one of the west-side fixtures."""
    names_fixture = False

    def fill(match: re.Match[str]) -> str:
        nonlocal names_fixture
        name = match.group(1).split(":")[0]
        if name in ids:
            names_fixture = True
            return str(ids[name])
        return PLACEHOLDERS.get(name, PLACEHOLDER)

    return re.sub(r"{([^}]+)}", fill, endpoint.path), names_fixture


def _call(
    client: TestClient, endpoint: Endpoint, url: str, headers: dict[str, str]
) -> httpx.Response:
    params = {k: v for k, v in SSE_QUERY.items() if k in endpoint.query_names}
    body = {"json": {}} if endpoint.method in UNSAFE else {}
    return client.request(endpoint.method, url, params=params, headers=headers, **body)


def _protected(endpoint: Endpoint) -> bool:
    return public_reason(endpoint.method, endpoint.path) is None


def test_every_route_has_a_rule(app_client: TestClient) -> None:
    missing = [
        f"{e.method} {e.path}"
        for e in endpoints(app_client)
        if _protected(e) and (e.method, e.path) not in RULES
    ]
    assert not missing, (
        "routes without an authorisation rule: add them to RULES here (or, if anyone "
        "may call them, to PUBLIC_ROUTES in pingan.api.security with a reason): "
        + ", ".join(missing)
    )


def test_anonymous_gets_401_except_on_public_routes(app_client: TestClient, world: World) -> None:
    failures = []
    for endpoint in endpoints(app_client):
        if endpoint.path in ("/console", "/worker", "/docs-assets"):
            continue  # static file mounts
        url, _ = _url(endpoint, world.ids)
        response = _call(app_client, endpoint, url, {})
        if _protected(endpoint):
            if response.status_code != 401:
                failures.append(f"{endpoint.method} {url}: {response.status_code}, not 401")
            elif MARKER in response.text:
                failures.append(f"{endpoint.method} {url}: 401 body shows west data")
        elif response.status_code >= 500:
            failures.append(f"{endpoint.method} {url}: {response.status_code}")
    assert not failures, "\n".join(failures)


def test_out_of_scope_user_is_refused_or_sees_nothing_of_the_west(
    app_client: TestClient, world: World
) -> None:
    """east_admin holds every permission, but only in the east district."""
    headers = world.headers["east_admin"]
    failures = []
    for endpoint in endpoints(app_client):
        if not _protected(endpoint):
            continue
        url, names_fixture = _url(endpoint, world.ids)
        response = _call(app_client, endpoint, url, headers)
        status = response.status_code
        rule = RULES.get((endpoint.method, endpoint.path), SCOPED)
        where = f"{endpoint.method} {url}: {status}"
        if status >= 500 or status == 401:
            failures.append(where)
        elif MARKER in response.text:
            failures.append(f"{where} shows west data")
        elif rule == SCOPED and status < 300 and names_fixture and endpoint.method in UNSAFE:
            failures.append(f"{where}: changed a west record")
        elif rule == SCOPED and status < 300 and names_fixture:
            failures.append(f"{where}: read a west record")
        elif rule == OWN and status == 403:
            failures.append(f"{where}: refused the caller's own data")
    assert not failures, "\n".join(failures)


def test_in_scope_user_is_let_in(app_client: TestClient, world: World) -> None:
    """city_admin holds every permission over the whole city: never 401 or 403."""
    headers = world.headers["city_admin"]
    failures = []
    for endpoint in endpoints(app_client):
        if not _protected(endpoint):
            continue
        url, _ = _url(endpoint, world.ids)
        response = _call(app_client, endpoint, url, headers)
        if response.status_code in (401, 403) or response.status_code >= 500:
            failures.append(
                f"{endpoint.method} {url}: {response.status_code} {response.text[:200]}"
            )
    assert not failures, "\n".join(failures)


def test_in_scope_user_reads_the_west_records(app_client: TestClient, world: World) -> None:
    """The fixtures are real: the same calls that the east user cannot make, work here."""
    headers = world.headers["city_admin"]
    for path in (
        f"/api/v1/incidents/{world.ids['incident_id']}",
        f"/api/v1/cases/{world.ids['case_id']}",
        f"/api/v1/dispatch/responders/{world.ids['responder_id']}",
        f"/api/v1/org/units/{world.ids['unit_id']}",
    ):
        response = app_client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.text)
    listed = app_client.get("/api/v1/incidents", headers=headers)
    assert MARKER in listed.text
