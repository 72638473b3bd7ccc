"""Alert webhooks against a real HTTP receiver on 127.0.0.1 that fails at first."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from pingan.alerts import webhooks
from pingan.alerts.models import AlertStatus
from pingan.alerts.service import Signal, record_signal, transition
from pingan.alerts.webhooks_models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from pingan.cli import app
from pingan.kit.db import session_scope, utcnow
from pingan.org.principal import Principal
from tests.api.conftest import client, login, people  # noqa: F401  (fixtures)
from tests.citykit import TestCity

SYSTEM = Principal.system("test")
SECRET = "a-test-secret-of-enough-length"
FAST = webhooks.DeliveryPolicy(base_delay_s=0.0, max_attempts=5, timeout_s=5.0)


@dataclass
class Receiver:
    fail_first: int = 0
    calls: list[tuple[dict[str, str], bytes, int]] = field(default_factory=list)
    url: str = ""

    def ok(self) -> list[tuple[dict[str, str], bytes, int]]:
        return [c for c in self.calls if c[2] == 200]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            code = 500 if len(state.calls) < state.fail_first else 200
            state.calls.append(({k.lower(): v for k, v in self.headers.items()}, body, code))
            self.send_response(code)
            self.end_headers()
            self.wfile.write(b"ok" if code == 200 else b"boom")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def _subscribe(engine: Engine, city: TestCity, url: str, **kw: object) -> int:
    with session_scope(engine) as session:
        data = webhooks.SubscriptionIn(
            name="ops",
            url=url,
            org_unit_id=city.id("C"),
            secret=SECRET,
            **kw,  # type: ignore[arg-type]
        )
        return webhooks.create_subscription(session, data, actor=SYSTEM).id


def _alert(engine: Engine, city: TestCity, grid: str = "W2", method: str = "ears.c3") -> int:
    day = dt.date(2026, 3, 20)
    signal = Signal(
        method=method, org_unit_id=city.id(grid), grid_ids=(city.id(grid),),
        window_start=day, window_end=day, statistic=4.0, observed=9, expected=2.0,
    )  # fmt: skip
    with session_scope(engine) as session:
        alert, _ = record_signal(session, signal=signal, actor=SYSTEM)
        return alert.id


def _deliveries(engine: Engine) -> list[WebhookDelivery]:
    with session_scope(engine) as session:
        found = list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))
        session.expunge_all()
        return found


def test_delivered_once_after_retries_and_signature_verifies(
    engine: Engine, city: TestCity, receiver: Receiver
) -> None:
    receiver.fail_first = 2
    _subscribe(engine, city, receiver.url)
    alert_id = _alert(engine, city)
    [queued] = _deliveries(engine)
    assert queued.event == "alert.created" and queued.status == DeliveryStatus.PENDING

    reports = [webhooks.deliver_due(engine, policy=FAST) for _ in range(5)]
    assert [r.delivered for r in reports] == [0, 0, 1, 0, 0]
    assert [r.retrying for r in reports] == [1, 1, 0, 0, 0]
    assert len(receiver.calls) == 3 and len(receiver.ok()) == 1

    headers, body, _ = receiver.ok()[0]
    assert webhooks.verify_signature(
        SECRET, headers["x-pingan-timestamp"], body, headers["x-pingan-signature"]
    )
    assert not webhooks.verify_signature(
        "another-secret-entirely", headers["x-pingan-timestamp"], body,
        headers["x-pingan-signature"],
    )  # fmt: skip
    assert not webhooks.verify_signature(
        SECRET, headers["x-pingan-timestamp"], body + b" ", headers["x-pingan-signature"]
    )
    # A replayed old message is refused even with a good signature.
    assert not webhooks.verify_signature(
        SECRET, headers["x-pingan-timestamp"], body, headers["x-pingan-signature"],
        now=int(headers["x-pingan-timestamp"]) + 3600,
    )  # fmt: skip
    sent = json.loads(body)
    assert sent["event"] == "alert.created" and sent["alert"]["id"] == alert_id
    assert headers["x-pingan-delivery"] == str(queued.id)

    [done] = _deliveries(engine)
    assert done.status == DeliveryStatus.DELIVERED and done.attempts == 3
    with session_scope(engine) as session:
        codes = session.scalars(
            select(WebhookAttempt.status_code).order_by(WebhookAttempt.attempt)
        ).all()
    assert list(codes) == [500, 500, 200]


def test_every_change_is_queued_in_its_own_transaction(
    engine: Engine, city: TestCity, receiver: Receiver
) -> None:
    _subscribe(engine, city, receiver.url, events=("alert.created", "alert.acknowledged"))
    alert_id = _alert(engine, city)
    _alert(engine, city)  # merges: alert.merged is not subscribed
    with session_scope(engine) as session:
        transition(session, alert_id=alert_id, to=AlertStatus.ACKNOWLEDGED, actor=SYSTEM)
    # A change that rolls back leaves no delivery behind.
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        transition(session, alert_id=alert_id, to=AlertStatus.RESOLVED, actor=SYSTEM)
        raise RuntimeError("crash before commit")
    assert [d.event for d in _deliveries(engine)] == ["alert.created", "alert.acknowledged"]


def test_subscription_filters_by_org_unit_and_method(
    engine: Engine, city: TestCity, receiver: Receiver
) -> None:
    with session_scope(engine) as session:
        data = webhooks.SubscriptionIn(
            name="west scans", url=receiver.url, org_unit_id=city.id("DW"),
            methods=("scan.space_time_permutation",), secret=SECRET,
        )  # fmt: skip
        webhooks.create_subscription(session, data, actor=SYSTEM)
    _alert(engine, city, "W2", method="ears.c3")  # wrong method
    _alert(engine, city, "E1", method="scan.space_time_permutation")  # outside DW
    wanted = _alert(engine, city, "W1", method="scan.space_time_permutation")
    assert [d.alert_id for d in _deliveries(engine)] == [wanted]


def test_restart_neither_loses_nor_duplicates(
    engine: Engine, city: TestCity, receiver: Receiver
) -> None:
    _subscribe(engine, city, receiver.url)
    _alert(engine, city)
    [queued] = _deliveries(engine)
    now = utcnow()
    # Worker A claims the delivery and dies before sending it.
    assert webhooks.claim(engine, queued.id, worker="A", now=now, lease_s=60)
    # Racing workers cannot take it while A's lease holds.
    assert not webhooks.claim(engine, queued.id, worker="B", now=now, lease_s=60)
    assert webhooks.deliver_due(engine, policy=FAST, worker="B").claimed == 0
    assert receiver.calls == []
    # After the restart the lease has run out: a new worker takes over and delivers once.
    later = now + dt.timedelta(seconds=61)
    report = webhooks.deliver_due(engine, policy=FAST, worker="B", now=later)
    assert report.delivered == 1
    for worker in ("C", "D"):
        assert webhooks.deliver_due(engine, policy=FAST, worker=worker, now=later).claimed == 0
    assert len(receiver.calls) == 1
    [done] = _deliveries(engine)
    assert done.status == DeliveryStatus.DELIVERED and done.claimed_by is None


def test_dead_letter_after_max_attempts_then_requeue(
    engine: Engine, city: TestCity, receiver: Receiver
) -> None:
    receiver.fail_first = 10**6
    _subscribe(engine, city, receiver.url)
    _alert(engine, city)
    policy = webhooks.DeliveryPolicy(base_delay_s=0.0, max_attempts=3)
    reports = [webhooks.deliver_due(engine, policy=policy) for _ in range(4)]
    assert [r.dead for r in reports] == [0, 0, 1, 0]
    [dead] = _deliveries(engine)
    assert dead.status == DeliveryStatus.DEAD and dead.attempts == 3
    assert dead.last_error is not None and "500" in dead.last_error
    with session_scope(engine) as session:
        webhooks.requeue(session, dead.id, actor=SYSTEM)
    receiver.fail_first = 0
    assert webhooks.deliver_due(engine, policy=policy).delivered == 1


def test_backoff_doubles_and_is_capped() -> None:
    policy = webhooks.DeliveryPolicy(base_delay_s=30.0)
    assert [webhooks.backoff(policy, a) for a in (1, 2, 3)] == [30.0, 60.0, 120.0]
    assert webhooks.backoff(policy, 30) == webhooks.MAX_DELAY_S


def test_webhook_api(
    engine: Engine,
    city: TestCity,
    client: TestClient,  # noqa: F811
    people: dict[str, int],  # noqa: F811
    receiver: Receiver,
) -> None:
    chief = login(client, "chief")
    body = {"name": "ops", "url": receiver.url, "org_unit_id": city.id("C")}
    created = client.post("/api/v1/alerts/webhooks", json=body, headers=chief)
    assert created.status_code == 201, created.text
    assert len(created.json()["secret"]) >= 16
    listed = client.get("/api/v1/alerts/webhooks", headers=chief).json()
    assert [w["id"] for w in listed] == [created.json()["id"]] and "secret" not in listed[0]

    officer = login(client, "west_officer")
    denied = client.post("/api/v1/alerts/webhooks", json=body, headers=officer)
    assert denied.status_code == 403
    bad = client.post("/api/v1/alerts/webhooks", json={**body, "url": "ftp://x"}, headers=chief)
    assert bad.status_code == 422 and bad.headers["content-type"].startswith(
        "application/problem+json"
    )
    bad_event = client.post(
        "/api/v1/alerts/webhooks", json={**body, "events": ["alert.exploded"]}, headers=chief
    )
    assert bad_event.status_code == 422 and "alert.exploded" in bad_event.text

    receiver.fail_first = 10**6
    _alert(engine, city)
    policy = webhooks.DeliveryPolicy(base_delay_s=0.0, max_attempts=2)
    for _ in range(2):
        webhooks.deliver_due(engine, policy=policy)
    dead = client.get("/api/v1/alerts/webhooks/deliveries?status=dead", headers=chief).json()
    assert len(dead) == 1 and [a["status_code"] for a in dead[0]["history"]] == [500, 500]
    again = client.post(
        f"/api/v1/alerts/webhooks/deliveries/{dead[0]['id']}/requeue", headers=chief
    )
    assert again.status_code == 200 and again.json()["status"] == "pending"
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1


def test_webhook_cli(engine: Engine, city: TestCity, receiver: Receiver) -> None:
    runner = CliRunner()
    added = runner.invoke(
        app,
        ["alerts", "webhooks", "add", "ops", receiver.url, "--org-unit", str(city.id("C"))],
    )
    assert added.exit_code == 0, added.output
    assert "secret (shown once)" in added.output
    _alert(engine, city)
    sent = runner.invoke(app, ["alerts", "webhooks", "deliver"])
    assert sent.exit_code == 0 and "1 delivered" in sent.output, sent.output
    assert len(receiver.ok()) == 1
    listed = runner.invoke(app, ["alerts", "webhooks", "deliveries", "--status", "delivered"])
    assert listed.exit_code == 0 and "alert.created" in listed.output
    bad = runner.invoke(app, ["alerts", "webhooks", "add", "x", "ftp://nowhere", "--org-unit", "1"])
    assert bad.exit_code != 0


def test_racing_workers_send_each_delivery_once(
    engine: Engine, city: TestCity, receiver: Receiver
) -> None:
    _subscribe(engine, city, receiver.url)
    day = dt.date(2026, 3, 1)
    with session_scope(engine) as session:
        for i in range(12):  # twelve separate alerts (windows apart, so no merging)
            start = day + dt.timedelta(days=3 * i)
            signal = Signal(
                method="ears.c3", org_unit_id=city.id("W1"), grid_ids=(), window_start=start,
                window_end=start, statistic=3.0, observed=5, expected=1.0,
            )  # fmt: skip
            record_signal(session, signal=signal, actor=SYSTEM)
    reports: list[webhooks.DeliveryReport] = []

    def work(name: str) -> None:
        reports.append(webhooks.deliver_due(engine, policy=FAST, worker=name))

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sent = [headers["x-pingan-delivery"] for headers, _, _ in receiver.calls]
    assert len(sent) == 12 and len(set(sent)) == 12
    assert sum(r.delivered for r in reports) == 12
    assert all(d.status == DeliveryStatus.DELIVERED for d in _deliveries(engine))


def test_delivery_runs_as_a_scheduled_job(
    engine: Engine, city: TestCity, receiver: Receiver
) -> None:
    from pingan import schedules
    from pingan.kit import jobs

    schedules.install()
    assert jobs._schedules[webhooks.KIND].every_seconds == 15
    _subscribe(engine, city, receiver.url)
    _alert(engine, city)
    with session_scope(engine) as session:
        job = jobs.submit(session, kind=webhooks.KIND, params={}, created_by="test")
    assert jobs.run_pending(engine) >= 1
    with session_scope(engine) as session:
        done = jobs.get(session, job.id)
        assert done.status == jobs.JobStatus.SUCCEEDED, done.error
        assert done.result_dict() == {"claimed": 1, "delivered": 1, "retrying": 0, "dead": 0}
    assert len(receiver.ok()) == 1


def test_a_failing_receiver_gets_one_try_per_pass(
    engine: Engine, city: TestCity, receiver: Receiver
) -> None:
    receiver.fail_first = 10**6
    _subscribe(engine, city, receiver.url)
    _alert(engine, city, "W1")
    _alert(engine, city, "W2")
    first = webhooks.deliver_due(engine, policy=FAST)
    assert (first.claimed, first.retrying) == (1, 1) and len(receiver.calls) == 1
    receiver.fail_first = 0
    second = webhooks.deliver_due(engine, policy=FAST)
    assert second.delivered == 2 and len(receiver.ok()) == 2


def test_signing_secret_is_sealed_in_the_database(
    engine: Engine, city: TestCity, receiver: Receiver
) -> None:
    """A copy of the database holds no usable signing key: the column holds a Fernet
    token that only this installation's key opens, and deliveries still verify."""
    from sqlalchemy import text

    from pingan.kit import sealed

    webhook_id = _subscribe(engine, city, receiver.url)
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT secret FROM alert_webhooks WHERE id = :id"), {"id": webhook_id}
        ).scalar_one()
    assert SECRET not in stored and stored.startswith(sealed.PREFIX)
    assert sealed.unseal(stored) == SECRET
    # A row written before sealing existed is read as it is.
    assert sealed.unseal(SECRET) == SECRET

    _alert(engine, city)
    assert webhooks.deliver_due(engine, policy=FAST).delivered == 1
    headers, body, _ = receiver.ok()[0]
    assert webhooks.verify_signature(
        SECRET, headers["x-pingan-timestamp"], body, headers["x-pingan-signature"]
    )
