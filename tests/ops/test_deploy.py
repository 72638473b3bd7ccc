"""The production shape: API workers that run no jobs, one separate job runner, one database;
and the deploy/ files only name commands and settings that exist."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import typer.main
import yaml
from sqlalchemy import Engine, select

from pingan.cli import app
from pingan.kit import jobs
from pingan.kit.db import session_scope
from pingan.ops.retention import PURGE_KIND
from pingan.org import auth, users
from pingan.settings import Settings
from tests.citykit import TestCity, grid_centre, unit
from tests.ops.conftest import SYSTEM
from tests.ops.procs import ROOT, ServerProcess

DEPLOY = ROOT / "deploy"


def _pingan_commands() -> set[str]:
    group = typer.main.get_command(app)
    return set(group.commands)  # type: ignore[attr-defined]


def _check_command(words: list[str], where: str) -> None:
    if Path(words[0]).name == "pingan":
        assert words[1] in _pingan_commands(), f"{where}: no `pingan {words[1]}` command"
    elif Path(words[0]).name == "uvicorn":
        target = words[words.index("--factory") + 1]
        module, attr = target.split(":")
        assert module == "pingan.app" and attr == "create_app", where


def test_deploy_files_name_real_commands_and_settings() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert {"db", "migrate", "api", "worker"} <= set(compose["services"])
    assert compose["services"]["api"]["deploy"]["replicas"] >= 2
    assert compose["services"]["api"]["environment"]["PINGAN_RUN_JOBS"] == "false"
    for name, service in compose["services"].items():
        if isinstance(service.get("command"), list):
            _check_command(service["command"], f"compose service {name}")
    for unit_file in (DEPLOY / "systemd").glob("*.service"):
        text = unit_file.read_text().replace("\\\n", " ")
        for line in re.findall(r"^ExecStart=(.+)$", text, flags=re.M):
            words = line.split()
            if words[0] == "/bin/sh":  # sh -c 'exec pingan backup ...'
                words = line.split("exec ", 1)[1].strip("'").split()
            _check_command(words, unit_file.name)
    known = {f"PINGAN_{name.upper()}" for name in Settings.model_fields}
    # glibc's allocator reads these from the environment (mallopt(3)); no other outsiders.
    known |= {"MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_"}
    for line in (DEPLOY / "pingan.env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            assert line.split("=", 1)[0] in known, line


def test_api_workers_serve_and_a_separate_runner_does_the_jobs(
    db_url: str, engine: Engine, city: TestCity
) -> None:
    with session_scope(engine) as session:
        chief = users.create_user(session, username="ops", password=None, is_service=True,
                                  actor=SYSTEM)  # fmt: skip
        users.grant_role(session, user=chief, role_name="admin", unit=unit(session, "C"),
                         actor=SYSTEM)  # fmt: skip
        key, _ = auth.create_api_key(session, user=chief, name="ops", actor=SYSTEM)
    headers = {"X-API-Key": key}
    api = [ServerProcess(db_url), ServerProcess(db_url)]
    runner = None
    try:
        for server in api:
            server.launch()  # both import at once
        for server in api:
            server.wait_ready()
        lon, lat = grid_centre("W1")
        body = {"type": "fight", "occurred_at": "2026-06-01T20:00:00Z", "lon": lon, "lat": lat}
        made = httpx.post(f"{api[0].url}/api/v1/incidents", json=body, headers=headers)
        assert made.status_code == 201, made.text
        # Written through one worker, read through the other: one shared database. (The
        # commit may land just after the answer: see _stored in test_fault_tolerance.)
        where = f"{api[1].url}/api/v1/incidents/{made.json()['id']}"
        deadline = time.monotonic() + 5
        while (seen := httpx.get(where, headers=headers)).status_code == 404:
            assert time.monotonic() < deadline, "the other worker never saw the incident"
            time.sleep(0.1)
        assert seen.status_code == 200
        assert httpx.get(f"{api[1].url}/readyz").json()["status"] == "ready"
        # The API workers run no periodic work...
        time.sleep(1.5)
        with session_scope(engine) as session:
            assert session.scalar(select(jobs.Job.id)) is None
        # ...the job runner does.
        env = {**os.environ, "PINGAN_DATABASE_URL": db_url, "PINGAN_LOG_LEVEL": "WARNING"}
        runner = subprocess.Popen(
            [sys.executable, "-m", "pingan", "worker", "--poll-seconds", "0.2"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        done = None
        while time.monotonic() < deadline and done is None:
            time.sleep(0.3)
            with session_scope(engine) as session:
                done = session.scalar(
                    select(jobs.Job.id).where(
                        jobs.Job.created_by == "system:scheduler",
                        jobs.Job.status == jobs.JobStatus.SUCCEEDED,
                    )
                )
        assert done is not None, "the job runner ran no scheduled job"
        for server in api:
            job = httpx.get(f"{server.url}/api/v1/jobs/{done}", headers=headers).json()
            assert job["status"] == "succeeded"
        with session_scope(engine) as session:
            kinds = set(session.scalars(select(jobs.Job.kind)))
        assert PURGE_KIND in kinds  # the hourly purge was queued for its first period
        runner.send_signal(signal.SIGTERM)
        out, err = runner.communicate(timeout=60)
        assert runner.returncode == 0, err.decode()[-2000:]
        assert b"job worker stopped" in out
    finally:
        if runner is not None and runner.poll() is None:
            runner.kill()
        for server in api:
            server.stop()
