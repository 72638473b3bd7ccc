"""Runtime configuration, read from ``PINGAN_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PINGAN_", env_file=".env", extra="ignore")

    # Embedded SQLite by default; PostgreSQL + PostGIS in production,
    # e.g. postgresql+psycopg://user@host/pingan
    database_url: str = "sqlite:///var/pingan.db"
    # The city's own zone: for display, calendars and statutory deadlines.
    city_timezone: str = "Asia/Shanghai"
    # Lifetime of a login session / bearer token.
    session_ttl_hours: float = 12.0
    # Cookie flags: set secure=true behind TLS.
    cookie_secure: bool = False
    # Structured JSON logs; unset means JSON unless stderr is a terminal.
    log_json: bool | None = None
    log_level: str = "INFO"
    # Largest batch accepted by one intake request.
    max_batch_size: int = 100_000
    # Run queued jobs (analyses, imports) in a background thread of the server.
    run_jobs: bool = True
    # Enqueue the periodic jobs (escalations, daily early warning) from that worker.
    run_schedules: bool = True
    # Demo account created by `pingan demo`.
    demo_username: str = "demo"
    demo_password: str = "pingan-demo"
    # Response plans of dispatch: a JSON file replacing the built-in ones (see
    # `pingan dispatch plans --help`); unset means the built-in plans.
    dispatch_plans_file: str | None = None
    # Hold available responders in memory for recommendations, reloaded every so many
    # seconds (0: read them from the database per request, exact to the moment).
    dispatch_index_refresh_s: float = 0.0


@lru_cache
def get_settings() -> Settings:
    return Settings()
