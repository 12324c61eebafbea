"""Test set-up: one database migrated by Alembic per run; each test in a transaction rolled back at the end.

SQLite by default; PostgreSQL when DATABASE_URL is set: an unreachable server fails the run, never skips.
The app's sessions join the test's connection through savepoints, so code under test may commit freely.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from app.core.db import make_engine
from app.core.migrate import upgrade
from app.core.settings import Settings
from app.main import create_app
from tests import factories

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


def _database_url(tmp_root: Path) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_root / 'test.db'}"


@pytest.fixture(scope="session")
def tmp_root() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="onetouch-test-") as d:
        yield Path(d)


@pytest.fixture(scope="session")
def settings(tmp_root: Path) -> Settings:
    return Settings(
        env="test",
        database_url=_database_url(tmp_root),
        secret_key=TEST_SECRET,
        media_dir=tmp_root / "media",
        log_requests=False,
        # The app's sessions share the test's one connection. Something that runs the app's lifespan (the
        # schemathesis ASGI client does) starts the background flushers of page views and lesson visits:
        # a flush from their thread mid-request interleaved savepoints on that connection ("savepoint does
        # not exist"). Here they never fire on their own; tests flush explicitly.
        visit_flush_seconds=24 * 3600,
        lesson_visit_flush_seconds=24 * 3600,
        _env_file=None,  # type: ignore[call-arg]
    )


def reset_database(url: str) -> None:
    """Empty the test database so Alembic builds it from nothing (refuses a name without 'test')."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and os.path.exists(parsed.database):
            os.remove(parsed.database)
        return
    if "test" not in (parsed.database or "") and "ci" not in (parsed.database or ""):
        raise RuntimeError(
            f"refusing to wipe database {parsed.database!r}: its name must contain 'test' or 'ci'"
        )
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    try:
        reset_database(settings.database_url)
        upgrade(settings.database_url)
    except Exception as exc:  # the database must be there: fail the run loudly, never skip
        raise RuntimeError(f"test database {settings.database_url} is not usable: {exc}") from exc
    eng = make_engine(settings.database_url)
    yield eng
    eng.dispose()


@pytest.fixture()
def connection(engine: Engine) -> Iterator[Connection]:
    conn = engine.connect()
    outer = conn.begin()
    try:
        yield conn
    finally:
        if outer.is_active:
            outer.rollback()
        conn.close()


@pytest.fixture()
def session_factory(connection: Connection) -> sessionmaker[Session]:
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture()
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """An unbound session on the test transaction, for factories and assertions."""
    session = session_factory()
    yield session
    session.close()


@pytest.fixture(scope="session")
def app_instance(settings: Settings, engine: Engine):  # type: ignore[no-untyped-def]
    return create_app(settings)


@pytest.fixture()
def app(app_instance, session_factory):  # type: ignore[no-untyped-def]
    from app.accounts.throttle import MemoryFailureCounter
    from app.core.cache import MemoryCache
    from app.imports.jobs import inline_runner
    from app.progress.visits import LessonVisits
    from app.tenancy.service import TenantCache

    app_instance.state.session_factory = session_factory
    app_instance.state.failure_counter = MemoryFailureCounter()
    app_instance.state.tenant_cache = TenantCache(ttl=app_instance.state.settings.tenant_cache_seconds)
    # Each test rolls its rows back, and SQLite reuses their ids: a fresh content cache per test.
    app_instance.state.cache = MemoryCache()
    # Buffered lesson visits are keyed by ids that the next test's rows reuse.
    app_instance.state.lesson_visits = LessonVisits()
    # Background imports run inline: a thread would share the test's single connection.
    app_instance.state.job_runner = inline_runner
    return app_instance


@pytest.fixture()
def world(db: Session) -> factories.World:
    """The national portal and two provinces with an admin, a trainer and a learner each."""
    return factories.make_world(db)


@pytest.fixture()
def client(app) -> factories.Browser:  # type: ignore[no-untyped-def]
    return factories.Browser(app, "haiphong")


@pytest.fixture()
def make_client(app):  # type: ignore[no-untyped-def]
    def make(slug: str = "haiphong") -> factories.Browser:
        return factories.Browser(app, slug)

    return make


__all__ = ["TestClient"]


def missing_service(reason: str) -> None:
    """A service a test needs is not here: a failure in CI (which has it), a visible skip elsewhere.

    `make test` on a laptop with only Python still runs everything else; CI never passes by skipping.
    """
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must provide it)", pytrace=False)
    pytest.skip(f"{reason}: skipped outside CI (CI fails instead)")


def require_redis(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        missing_service(f"Redis is not reachable at {url}")
