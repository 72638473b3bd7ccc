"""FastAPI assembly: routers, middleware, error rendering, health and the console."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine, text

from pingan import __version__, schedules
from pingan.alerts import federation_views  # issue 4
from pingan.alerts import views as alerts_views
from pingan.api import audit as audit_views
from pingan.api import docs, observability, problems
from pingan.api import jobs as jobs_views
from pingan.api import security as security_middleware
from pingan.cameras import health_views as camera_health_views
from pingan.cameras import views as cameras_views
from pingan.cases import views as cases_views
from pingan.dispatch import command_views, map_views
from pingan.dispatch import views as dispatch_views
from pingan.governance import (  # issue 8: mediation, assessments, compounds, outreach
    assessments_views,
    compounds_views,
    mediation_views,
    outreach_views,
    petitions_views,  # issue 8: petitions, tips
    tips_views,
)
from pingan.incidents import views as incidents_views
from pingan.incidents.analysis import views as analysis_views
from pingan.kit import jobs, migrate
from pingan.kit.db import engine_for, session_factory
from pingan.ogc import export_views
from pingan.ogc import views as ogc_views
from pingan.open311 import views as open311_views
from pingan.ops import views as ops_views
from pingan.org import auth_oidc_views, principal_cache, workforce_views
from pingan.org import views as org_views
from pingan.places import views as places_views
from pingan.reports import views as reports_views  # issue 9
from pingan.settings import Settings, get_settings

STATIC_DIR = Path(__file__).parent / "static"
# The grid workers' phone app (PWA), built from web/worker/.
WORKER_DIR = Path(__file__).parent / "static_worker"


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or engine_for(settings.database_url)
    assert settings is not None and engine is not None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Long work runs in a background worker, never inside a request.
        worker = None
        if settings.run_jobs:
            schedules.install(engine)
            worker = jobs.Worker(engine, scheduling=settings.run_schedules)
            worker.start()
        app.state.job_worker = worker
        cache = principal_cache.start(engine, settings.auth_cache_seconds)
        app.state.principal_cache = cache
        yield
        if cache is not None:
            cache.close()
        if worker is not None:
            worker.stop()

    app = FastAPI(
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        title="Pingan API",
        version=__version__,
        description=(
            "Public-safety operations and community governance for a city. "
            "Log in with **Authorize** (username and password) or send `X-API-Key`."
        ),
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = session_factory(engine)

    problems.install(app)
    docs.install(app)
    security_middleware.install(app, settings)  # inside observability: refusals are logged
    observability.install(app)
    for router in (
        org_views.auth_router,
        auth_oidc_views.router,  # issue 11: optional single sign-on
        org_views.org_router,
        org_views.users_router,
        workforce_views.router,
        incidents_views.router,
        analysis_views.router,
        places_views.router,
        audit_views.router,
        jobs_views.router,
        dispatch_views.router,
        command_views.router,
        command_views.public_router,
        map_views.router,
        cases_views.router,
        alerts_views.router,
        federation_views.router,  # issue 4: signed feeds between jurisdictions
        camera_health_views.router,
        cameras_views.router,
        open311_views.router,
        petitions_views.router,
        petitions_views.public_router,
        tips_views.router,
        tips_views.public_router,
        mediation_views.router,
        assessments_views.router,
        compounds_views.router,
        outreach_views.router,
        ogc_views.router,
        export_views.router,
        ops_views.router,
        reports_views.kpi_router,
        reports_views.router,
    ):
        app.include_router(router)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    def readyz(request: Request) -> Any:
        """The database answers and its schema is current."""
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            revision = migrate.current_revision(
                str(engine.url.render_as_string(hide_password=False))
            )
        except Exception as exc:  # any failure means not ready
            return JSONResponse(
                {"status": "unavailable", "detail": str(exc)[:200]}, status_code=503
            )
        if revision is None:
            return JSONResponse(
                {"status": "unavailable", "detail": "schema not created"}, status_code=503
            )
        return {"status": "ready", "schema": revision}

    if (STATIC_DIR / "index.html").exists():
        app.mount("/console", StaticFiles(directory=STATIC_DIR, html=True), name="console")
    if (WORKER_DIR / "index.html").exists():
        app.mount("/worker", StaticFiles(directory=WORKER_DIR, html=True), name="worker")

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        target = "/console/" if (STATIC_DIR / "index.html").exists() else "/docs"
        return RedirectResponse(target)

    return app
