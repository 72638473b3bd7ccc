"""The realistic mix as a Locust user: who calls what, how often, authenticated as they are.

A city operations centre's traffic on an ordinary busy hour, by share of
requests (the weights below are the shares, they sum to 100):

* the console (officers logged in, session cookie): case inbox pages and case
  details, the alert list, heat-map tiles and camera tiles of the map, and case
  work: filing a grid event and moving cases along their workflow (accept,
  dispatch, start, feedback, verify, evaluate);
* integrations (each with its own API key): the 110 call centre's incident
  intake in small batches, responders' positions through a dispatch gateway,
  and camera owners' video systems sending heartbeat batches;
* the public: Open311 service requests filed by a city app (its api_key in the
  form, as GeoReport v2 has it) and its request list.

Each seat takes the kinds in a fixed, evenly spread order (``deck``), so the
shares hold exactly over a run and every kind is exercised within one round.
Every request is checked: a status other than the one the route answers on
success is an error, and so is any row a batch route rejects.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
import time
import uuid
from collections import deque
from typing import Any
from urllib.parse import urlencode

from benchmarks.load.city import Plan
from benchmarks.load.weights import (
    CASE_PATH,
    HEARTBEATS_PER_BATCH,
    INCIDENTS_PER_BATCH,
    POSITIONS_PER_BATCH,
    WEIGHTS,
    deck,
)
from locust import FastHttpUser

_counter = itertools.count()


DECK = deck(WEIGHTS)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")


class MixClient(FastHttpUser):
    """One simulated client seat: a logged-in officer plus the integration it stands for."""

    abstract = True  # the driver makes a concrete subclass with the plan and the rate
    plan: Plan
    users: int = 1

    def on_start(self) -> None:
        self.n = next(_counter)
        self.rng = random.Random(self.n)
        plan = self.plan
        token = plan.console_tokens[self.n % len(plan.console_tokens)]
        self.console = {"Cookie": f"pingan_session={token}"}
        # The console's fetch() writes carry the page's origin (the CSRF check wants it).
        self.console_write = {**self.console, "Origin": plan.base_url}
        self.gateway = {"X-API-Key": plan.gateway_keys[self.n % len(plan.gateway_keys)]}
        self.owners = sorted(plan.owner_cameras)
        # Each seat reports its own slice of responders, so fixes of one responder stay in order.
        mine = plan.responders[self.n % self.users :: self.users] or plan.responders
        self.responders = itertools.cycle(mine)
        self.camera_cursor = {
            code: self.rng.randrange(len(ids)) for code, ids in plan.owner_cameras.items()
        }
        self.my_cases: deque[tuple[int, int]] = deque()  # (case id, next step)
        self.known_cases = list(plan.case_ids)
        # Seats start at different places of the round, so together they cover it at once.
        self.position = self.n * len(DECK) // self.users

    def step(self) -> None:
        """The next request of this seat's round."""
        kind = DECK[self.position % len(DECK)]
        self.position += 1
        getattr(self, kind)()

    # -- helpers -------------------------------------------------------------------
    def _point(self) -> tuple[float, float]:
        # Where a stored incident lies: surely inside a grid (a jitter can step over the
        # city's edge, and a report outside every grid is rightly refused).
        lon, lat = self.rng.choice(self.plan.points)
        return lon, lat

    def _check(self, response: Any, expect: int, rejected_key: str | None = None) -> None:
        if response.status_code != expect:
            text = (response.text or "")[:200]
            response.failure(f"HTTP {response.status_code} (expected {expect}): {text}")
            return
        if rejected_key is not None:
            rejected = response.json().get(rejected_key) or []
            if rejected:
                response.failure(f"{len(rejected)} rows rejected, first: {rejected[0]}")
                return
        response.success()

    # -- console -------------------------------------------------------------------
    def case_list(self) -> None:
        params = self.rng.choice(["inbox=all", "inbox=all&open=true", "inbox=overdue"])
        with self.client.get(
            f"/api/v1/cases?limit=50&{params}",
            headers=self.console,
            name="case_list",
            catch_response=True,
        ) as r:
            self._check(r, 200)

    def case_read(self) -> None:
        case_id = self.rng.choice(self.known_cases)
        with self.client.get(
            f"/api/v1/cases/{case_id}", headers=self.console, name="case_read", catch_response=True
        ) as r:
            self._check(r, 200)

    def case_create(self) -> None:
        lon, lat = self._point()
        body = {
            "category": self.rng.choice(self.plan.case_categories),
            "title": "Street light out (load test)",
            "description": "reported during the load test",
            "lon": lon,
            "lat": lat,
            "idempotency_key": uuid.uuid4().hex,
        }
        with self.client.post(
            "/api/v1/cases",
            json=body,
            headers=self.console_write,
            name="case_create",
            catch_response=True,
        ) as r:
            self._check(r, 201)
            if r.status_code == 201:
                case_id = int(r.json()["id"])
                self.my_cases.append((case_id, 0))
                self.known_cases.append(case_id)

    def case_transition(self) -> None:
        if not self.my_cases:
            self.case_create()  # the first transition of a seat needs a case of its own
        if not self.my_cases:
            return
        case_id, step = self.my_cases.popleft()
        name, fields = CASE_PATH[step]
        with self.client.post(
            f"/api/v1/cases/{case_id}/transitions",
            json={"transition": name, "fields": fields},
            headers=self.console_write,
            name="case_transition",
            catch_response=True,
        ) as r:
            self._check(r, 200)
        if step + 1 < len(CASE_PATH):
            self.my_cases.append((case_id, step + 1))

    def alert_list(self) -> None:
        with self.client.get(
            "/api/v1/alerts?limit=50", headers=self.console, name="alert_list", catch_response=True
        ) as r:
            self._check(r, 200)

    def heat_tile(self) -> None:
        z, x, y = self.rng.choice(self.plan.tiles)
        url = f"/api/v1/analysis/heat/tiles/{z}/{x}/{y}.png?since={self.plan.heat_since}"
        with self.client.get(url, headers=self.console, name="heat_tile", catch_response=True) as r:
            self._check(r, 200)

    def camera_tile(self) -> None:
        z, x, y = self.rng.choice(self.plan.tiles)
        with self.client.get(
            f"/api/v1/cameras/tiles/cameras/{z}/{x}/{y}.png",
            headers=self.console,
            name="camera_tile",
            catch_response=True,
        ) as r:
            self._check(r, 200)

    # -- integrations --------------------------------------------------------------
    def incident_batch(self) -> None:
        rows = []
        for _ in range(INCIDENTS_PER_BATCH):
            lon, lat = self._point()
            rows.append(
                {
                    "type": self.rng.choice(self.plan.incident_types),
                    "occurred_at": _now(),
                    "lon": lon,
                    "lat": lat,
                    "source": "call",
                    "external_id": f"load-{uuid.uuid4().hex}",
                }
            )
        with self.client.post(
            "/api/v1/incidents/batch",
            json=rows,
            headers=self.gateway,
            name="incident_batch",
            catch_response=True,
        ) as r:
            self._check(r, 200, "rejected")

    def positions(self) -> None:
        ids = [next(self.responders) for _ in range(POSITIONS_PER_BATCH)]
        points = [self._point() for _ in ids]
        body = {
            "responder_id": ids,
            "lon": [p[0] for p in points],
            "lat": [p[1] for p in points],
            "at": [_now()] * len(ids),
        }
        with self.client.post(
            "/api/v1/dispatch/positions",
            json=body,
            headers=self.gateway,
            name="positions",
            catch_response=True,
        ) as r:
            self._check(r, 200, "rejected")

    def heartbeats(self) -> None:
        code = self.rng.choice(self.owners)
        ids = self.plan.owner_cameras[code]
        start = self.camera_cursor[code]
        self.camera_cursor[code] = (start + HEARTBEATS_PER_BATCH) % len(ids)
        chunk = [ids[(start + k) % len(ids)] for k in range(min(HEARTBEATS_PER_BATCH, len(ids)))]
        at = _now()
        body = "\n".join(
            json.dumps(
                {
                    "camera_id": c,
                    "at": at,
                    "online": self.rng.random() > 0.01,
                    "fps": 25.0,
                    "bitrate_kbps": 4000.0,
                }
            )
            for c in chunk
        )
        headers = {"X-API-Key": self.plan.owner_keys[code], "Content-Type": "application/x-ndjson"}
        with self.client.post(
            "/api/v1/cameras/health/heartbeats",
            data=body,
            headers=headers,
            name="heartbeats",
            catch_response=True,
        ) as r:
            self._check(r, 200, "rejected")

    # -- the public ----------------------------------------------------------------
    def open311_list(self) -> None:
        with self.client.get(
            "/open311/v2/requests.json", name="open311_list", catch_response=True
        ) as r:
            self._check(r, 200)

    def open311_post(self) -> None:
        lon, lat = self._point()
        form = {
            "api_key": self.plan.open311_key,
            "service_code": self.rng.choice(self.plan.open311_codes),
            "lat": f"{lat:.6f}",
            "long": f"{lon:.6f}",
            "description": "Pothole in the cycle lane (load test)",
        }
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        with self.client.post(
            "/open311/v2/requests.json",
            data=urlencode(form),
            headers=headers,
            name="open311_post",
            catch_response=True,
        ) as r:
            self._check(r, 201)


def poisson_pacing(per_user: float) -> Any:
    """A wait_time for Locust: each seat starts requests as a Poisson process of ``per_user``/s.

    Locust's ``constant_throughput`` paces every seat with the same period, so
    seats spawned in step fire in step: 100 seats at 1,000 requests/s sent
    bursts of 50 at once, and the bursts, not the server, set the latency. City
    traffic is many independent callers: exponential gaps between a seat's
    starts, so all seats together arrive as one Poisson stream of the rate
    asked. A seat that falls behind (its answer came after its next start)
    sends at once, and never makes up more than that.
    """

    def wait_time(user: Any) -> float:
        now = time.monotonic()
        due = getattr(user, "_next_start", now)
        due = max(due + user.rng.expovariate(per_user), now)
        user._next_start = due
        return due - now

    return wait_time


def client_class(plan: Plan, *, users: int, rate: float) -> type[MixClient]:
    """A concrete user class: this run's plan, the weighted tasks, ``rate`` requests/s in all."""
    per_user = rate / users
    return type(
        "Client",
        (MixClient,),
        {
            "abstract": False,
            "host": plan.base_url,
            "plan": plan,
            "users": users,
            "tasks": [MixClient.step],
            "wait_time": poisson_pacing(per_user),
            # One keep-alive connection per seat, as a browser tab or a gateway holds.
            "concurrency": 1,
            "network_timeout": 30.0,
            "connection_timeout": 30.0,
        },
    )
