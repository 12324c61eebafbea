"""Alembic is the only source of the schema: models and migrations agree, and migrations go down and up."""

from __future__ import annotations

import os
import uuid

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

import app.models  # noqa: F401
from app.core.db import Base
from app.core.migrate import downgrade, upgrade


def test_models_match_migrations(engine: Engine) -> None:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], diff


def test_downgrade_and_upgrade_round_trip(settings, tmp_root) -> None:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        scratch = f"sqlite:///{tmp_root / 'migrations.db'}"
        left_after_downgrade, diff_after_upgrade = _round_trip(scratch)
        os.remove(tmp_root / "migrations.db")
        assert left_after_downgrade <= {"alembic_version"}
        assert diff_after_upgrade == []
        return
    name = f"{url.database}_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        left_after_downgrade, diff_after_upgrade = _round_trip(
            url.set(database=name).render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    assert left_after_downgrade <= {"alembic_version"}
    assert diff_after_upgrade == []


def _round_trip(url: str) -> tuple[set[str], list]:  # type: ignore[type-arg]
    """Upgrade, downgrade to nothing, upgrade again: (tables left after the downgrade, final model diff)."""
    upgrade(url)
    downgrade(url, "base")
    eng = create_engine(url)
    with eng.connect() as conn:
        tables = conn.dialect.get_table_names(conn)
    eng.dispose()
    upgrade(url)
    eng = create_engine(url)
    with eng.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    eng.dispose()
    return set(tables), diff
