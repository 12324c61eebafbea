"""Settings read from the environment (and an optional `.env` file)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
VAR_DIR = PROJECT_ROOT / "var"
DEFAULT_SECRET_KEY = "dev-insecure-change-me"  # noqa: S105 - refused outside development and test below
ENVIRONMENTS = ("development", "test", "production")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    env: str = Field(default="development", description="development | test | production")
    database_url: str = f"sqlite:///{VAR_DIR / 'onetouch.db'}"
    base_domain: str = "localhost"
    # Development only: a public wildcard DNS that answers `haiphong.192-168-1-5.sslip.io` with 192.168.1.5,
    # so a phone on the same Wi-Fi reaches each province portal through the computer's LAN address
    # (`*.localhost` resolves only on the computer itself). Empty: province links use BASE_DOMAIN.
    lan_wildcard_dns: str = "sslip.io"
    secret_key: str = DEFAULT_SECRET_KEY
    port: int = 8000
    host: str = "127.0.0.1"
    workers: int = 1
    redis_url: str | None = None
    media_dir: Path = VAR_DIR / "media"
    # Largest accepted upload (video, PDF, image), in megabytes.
    media_max_upload_mb: int = 200
    # Largest GIFT question bank a trainer uploads, in megabytes.
    gift_max_upload_mb: int = 2

    # Request bodies (docs/limits.md), enforced while they stream in, before anything reads them
    # (app/core/bodylimit.py): anonymous requests, signed-in requests, and upload routes for someone allowed
    # to upload there (an import: its file plus this much for the form around it).
    max_body_anonymous_kb: int = 64
    max_body_kb: int = 2048
    upload_form_allowance_kb: int = 1024
    # The course folders `onetouch seed` imports into the national catalog.
    courses_dir: Path = PROJECT_ROOT / "courses"

    # Tokens
    token_ttl_minutes: int = 12 * 60
    jwt_algorithm: str = "HS256"

    # Sign-in throttling: failures allowed per window, per account and per client address.
    login_window_seconds: int = 15 * 60
    login_max_failures_per_account: int = 5
    login_max_failures_per_address: int = 30
    # Self-registration: attempts per client address (every portal together) in the same kind of window.
    register_window_seconds: int = 15 * 60
    register_max_per_address: int = 20

    # Passwords
    password_min_length: int = 8
    # One-time initial passwords of imported accounts: valid this many days, must be changed at first sign-in.
    initial_password_days: int = 30

    # Bulk imports
    import_async_threshold_rows: int = 2000  # larger files run in a background thread (API answers 202)
    import_max_upload_mb: int = 50
    import_max_rows: int = 200_000  # rows of the sheet, empty ones included
    import_max_columns: int = 50
    import_max_cell_chars: int = 2000
    import_max_parse_seconds: float = 60.0  # reading the file; past this the import is refused
    import_max_unpacked_mb: int = 200  # an XLSX workbook's parts once unzipped
    import_preview_rows: int = 1000  # per-row outcomes kept for the preview (every error is always kept)
    import_keep_hours: int = 24  # uploaded files of uncommitted imports are erased after this
    credentials_download_hours: int = 24  # the encrypted one-time passwords are erased after this

    # Quizzes: answers submitted up to this many seconds after an attempt's deadline still count (slow phones,
    # slow networks); later ones are ignored and the attempt is graded with the answers saved by then.
    quiz_grace_seconds: int = 30

    # Database pool (PostgreSQL), per worker process: workers × (pool_size + max_overflow) must stay below
    # the server's max_connections (README, "Deployment"). A sync endpoint holds one connection per thread.
    # The pool keeps every connection the concurrency limit can use busy at once: a connection opened past
    # the pool's size is closed when returned, and opening a PostgreSQL connection costs a server process.
    db_pool_size: int = 20
    db_max_overflow: int = 10
    db_pool_timeout: float = 10.0
    # Requests per worker inside the app at once (the rest queue in the event loop; see app/core/limits.py).
    # Must not exceed db_pool_size + db_max_overflow.
    max_concurrent_requests: int = 16
    # Seconds a queued request waits for a slot before it is answered 503 with Retry-After.
    request_queue_timeout: float = 30.0

    # Page views are counted in memory and written to `visit_day` this often (and at shutdown).
    visit_flush_seconds: float = 10.0
    # Where each learner was last reading (Continue), buffered per worker and written in batches.
    lesson_visit_flush_seconds: float = 2.0

    # The learning path's mechanisms (docs/performance.md measures each; `bench/http.py --ablation`):
    # answer lesson requests in front of the router, calling the same handlers as their routes;
    fast_dispatch: bool = True
    # render a lesson page's shared part once per portal, language, roles, lesson and content version;
    assemble_pages: bool = True
    page_cache_mb: int = 32  # per worker, least recently used out first
    # buffer where learners were last reading (Continue) and write it in batches, not once per page view;
    buffer_lesson_visits: bool = True
    # on PostgreSQL, run the learning path on the event loop through an asyncpg pool (else in a worker thread
    # through the ordinary pool);
    db_async: bool = True
    # prepared statements on PostgreSQL: turn off behind PgBouncer older than 1.21 in transaction mode.
    db_prepared_statements: bool = True
    # SQLite: the learning path's fixed statements on the driver's cursor, compiled once;
    driver_statements: bool = True
    # SQLite: the write-ahead log copied back in a background thread, not inside a request's commit.
    sqlite_background_checkpoints: bool = True

    log_requests: bool = True
    # The OpenAPI page at /docs (Swagger UI, served from /static); /openapi.json is always there.
    api_docs: bool = True
    # Benchmarks only: serve the bare ASGI ceiling at /__bench/hello (bench/http.py turns it on).
    bench_endpoints: bool = False
    # Seconds a worker may serve shared content (catalog, course outlines) from its cache before checking
    # again; edits invalidate at once through a version bump (Redis: on every worker and host).
    content_cache_seconds: float = 60.0
    # Seconds a worker keeps a tenant's settings before reading them again.
    tenant_cache_seconds: float = 30.0

    @field_validator("env", mode="before")
    @classmethod
    def _known_env(cls, value: object) -> str:
        """`production`, `test` or `development` (any case); anything else (`prod`, `staging`) is refused, so
        a typo can never run a public server with development settings."""
        env = str(value).strip().lower()
        if env not in ENVIRONMENTS:
            raise ValueError(f"ENV must be one of {', '.join(ENVIRONMENTS)}; got {value!r}")
        return env

    @model_validator(mode="after")
    def _refuse_default_secret_outside_development(self) -> Settings:
        if self.env not in ("development", "test") and self.secret_key == DEFAULT_SECRET_KEY:
            raise ValueError(
                f"SECRET_KEY must be set to a strong random value when ENV={self.env} "
                "(the development key is public)"
            )
        if self.env == "production" and len(self.secret_key) < 32:
            raise ValueError("SECRET_KEY must be at least 32 characters when ENV=production")
        return self

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @cached_property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        return self.env not in ("development", "test")
