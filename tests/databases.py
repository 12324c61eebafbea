"""Databases of their own for tests whose commits must be real (threads, live servers), dropped afterwards."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@contextmanager
def fresh_database() -> Iterator[str]:
    """An empty database of its own: SQLite in a temp dir, or (DATABASE_URL set) a new PostgreSQL database
    next to the test one, dropped afterwards."""
    base = os.environ.get("DATABASE_URL")
    if not base:
        with tempfile.TemporaryDirectory(prefix="onetouch-own-db-") as d:
            yield f"sqlite:///{Path(d) / 'own.db'}"
        return
    url = make_url(base)
    name = f"{url.database}_own_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
