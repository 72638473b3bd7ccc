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

    # Security (issue 11): login lockout, password policy, request limits.
    # Repeated wrong passwords lock an account for a while (0 disables).
    login_max_failures: int = 5
    login_lockout_minutes: float = 15.0
    password_min_length: int = 8
    # Requests inside the app at once per process (others wait, costing no thread):
    # at most half of the 40 worker threads, so an answer always finds one (api/gate.py).
    max_concurrent_requests: int = 20
    # PostgreSQL connections a process keeps open (0: the request gate's size plus 4), and
    # whether each is checked with a round trip before use (replaces those a database
    # restart broke without failing a request; off saves that round trip per request).
    db_pool_size: int = 0
    db_pool_pre_ping: bool = True
    # Seconds a process remembers whom a session token or API key stands for (0: ask the
    # database every request). Any change to users, keys or grants clears it at once, in
    # every process (org/principal_cache.py); the seconds bound a change made outside.
    auth_cache_seconds: float = 10.0
    # Largest request body in bytes (a full intake batch must fit).
    max_body_bytes: int = 64 * 1024 * 1024
    # Token buckets: per client IP on public and login routes, per API key on all.
    rate_limit_public_per_minute: int = 30
    rate_limit_api_key_per_minute: int = 6000
    # Extra origins allowed to send cookie-authenticated writes (comma-separated).
    trusted_origins: str = ""
    # Optional single sign-on over OpenID Connect (issue 11); off while issuer is empty.
    # Users must exist locally (grants stay local); the claim names the username.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_username_claim: str = "preferred_username"
    # Secrets the server reuses (webhook signing keys, the federation key) are sealed
    # with this Fernet key before they are stored; unset: a key file made on first use.
    secrets_key: str = ""
    secrets_key_file: str = "var/secrets.key"

    # Camera health (issue 5): a camera silent this long counts as offline.
    camera_offline_after_s: int = 300
    # Largest heartbeat batch accepted by one request.
    camera_heartbeat_max_batch: int = 50_000

    # Retention (issue 11, data protection): the purge job removes what is older.
    # Responder positions and trail points, in hours.
    retention_positions_hours: float = 24.0
    # Tip content, dialogue and images of closed tips, in days after closing.
    retention_closed_tips_days: int = 365
    # Reporter and petitioner names, phones, e-mails of closed cases, in days after closing.
    retention_closed_case_personal_days: int = 730
    # Expired or revoked login sessions, in days.
    retention_sessions_days: int = 30
    # The audit log has no setting: it is kept for ever (its hash chain is the proof).

    # Early warning at scale (issue 4). A Dask scheduler (tcp://host:8786) for the
    # scan's replications in the daily/hourly job; empty: threads of the job worker.
    dask_scheduler: str = ""
    # Early-warning schedules, a JSON list (see pingan.alerts.run_schedules), e.g.
    # [{"name":"burglary-hourly","incident_types":["burglary"],"every":"hourly"}];
    # empty: one daily run over all types.
    alerts_schedules: str = ""

    # Job leases (issue 11, fault tolerance): a running job's runner renews its lease
    # while it works; a job whose lease ran out (its process died) is run again, up to
    # job_max_attempts times in all, then marked failed.
    job_lease_seconds: float = 60.0
    job_max_attempts: int = 3
    # Events between processes (issue 11, scale-out): PostgreSQL LISTEN/NOTIFY, or
    # in-process on SQLite. Live streams also re-read the database this often as a
    # safety net (unset: 2 s on SQLite, which other processes cannot notify; 30 s on
    # PostgreSQL).
    events_safety_poll_s: float | None = None

    # Event cube snapshot (issue 3): a columnar copy of the incidents on local disk,
    # synced incrementally, so a cold cube pull does not re-read the table. Empty:
    # no snapshot, every cold pull queries the database (incidents/cube_store.py).
    cube_dir: str = "var/cube"
    # An id missing below the snapshot's highest is given up for good only when no
    # transaction that could hold it still runs, and not before this many seconds
    # (backends of other database roles hide when their transactions started).
    cube_gap_margin_s: float = 600.0


@lru_cache
def get_settings() -> Settings:
    return Settings()
