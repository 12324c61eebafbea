"""Engine, declarative base and session factory for SQLite (embedded) and PostgreSQL (production)."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import threading
import uuid
import weakref
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from app.core.errors import N_, Invalid

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use utcnow()")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: UTCDateTime}


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    max_overflow: int = 20,
    pool_timeout: float = 10.0,
    echo: bool = False,
    background_checkpoints: bool = False,
) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and SQLAlchemy-managed BEGIN (so savepoints work).

    `background_checkpoints` (SQLite, the server's engine): commits do not copy the write-ahead log back
    into the database themselves (SQLite's auto-checkpoint ran inside whichever commit crossed 1,000 pages,
    with the write lock held: a quiz submission's large row made that often); `Checkpointer` does it in a
    thread.

    PostgreSQL: `pool_pre_ping` tests a pooled connection at checkout, so after a server restart the first
    request gets a fresh connection instead of an error; `connect_timeout` and `pool_timeout` bound how long
    a request waits for an unreachable server or a busy pool before it answers 503.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=pool_timeout,
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        _configure_sqlite(engine, background_checkpoints=background_checkpoints)
    else:
        engine = create_engine(
            url,
            echo=echo,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=pool_timeout,
            pool_pre_ping=True,
            pool_recycle=1800,
            connect_args={"connect_timeout": 5},
        )
    event.listen(engine, "before_cursor_execute", _refuse_nul)
    return engine


def _refuse_nul(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    """NUL is never stored (app/core/text.py): PostgreSQL refuses it in text anyway, with an error that said
    "number out of range", and SQLite would keep it. Text parameters only; bytes (uploaded files) are data."""
    rows = parameters if executemany else (parameters,)
    for row in rows:
        values = row.values() if isinstance(row, dict) else row if isinstance(row, (list, tuple)) else (row,)
        if any(isinstance(v, str) and "\x00" in v for v in values):
            raise Invalid(N_("The request contains a character that is not allowed (NUL)."), code="nul")


def make_async_engine(
    url: str,
    *,
    pool_size: int = 10,
    max_overflow: int = 20,
    pool_timeout: float = 10.0,
    prepared_statements: bool = True,
) -> AsyncEngine:
    """The PostgreSQL engine the learning path uses on the event loop: asyncpg, its own pool.

    `prepared_statements=False` for PgBouncer older than 1.21 in transaction mode (a prepared statement lives
    on one server connection; the next transaction may get another). Pinged at checkout and recycled like
    the ordinary pool, so a database restart costs only the requests in flight.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError("the async engine is for PostgreSQL")
    connect_args: dict[str, Any] = {"timeout": 5}
    if not prepared_statements:
        # Every statement is prepared inside its transaction, under a name no other client can take.
        connect_args["statement_cache_size"] = 0
        connect_args["prepared_statement_cache_size"] = 0
        connect_args["prepared_statement_name_func"] = lambda: f"__onetouch_{uuid.uuid4().hex}__"
    return create_async_engine(
        parsed.set(drivername="postgresql+asyncpg"),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args=connect_args,
    )


def _configure_sqlite(engine: Engine, *, background_checkpoints: bool = False) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself: pysqlite's own transaction handling breaks SAVEPOINT.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if background_checkpoints:
            cur.execute("PRAGMA wal_autocheckpoint=0")
        cur.close()

    # Writers of this process queue on a Python lock before BEGIN IMMEDIATE: released, it wakes the next
    # writer at once, where SQLite's busy handler polls with sleeps of up to 100 ms (under a burst of lesson
    # completions most of the time went to those sleeps). Other processes still queue on SQLite's lock.
    writer_lock = threading.Lock()
    _WRITER_LOCKS[engine] = writer_lock

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front, so two writers queue instead of deadlocking on upgrade.
        options = conn.get_execution_options()
        if options.get("sqlite_no_begin", False):
            return  # a connection that only reads, one statement at a time: SQLite's autocommit suffices
        if not options.get("sqlite_immediate", False):
            conn.exec_driver_sql("BEGIN")
            return
        nowait = options.get("sqlite_nowait", False)
        if not (writer_lock.acquire(blocking=False) if nowait else writer_lock.acquire(timeout=30)):
            if nowait:
                raise Busy
            # SQLite's own busy_timeout: then 503, never a hang
            raise OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked"))
        conn.info[_WRITER_LOCK] = writer_lock
        try:
            if nowait:
                _begin_immediate_nowait(conn)
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release_writer(conn)
            raise

    @event.listens_for(engine, "commit")
    def _on_commit(conn: Any) -> None:
        _release_writer(conn)

    @event.listens_for(engine, "rollback")
    def _on_rollback(conn: Any) -> None:
        _release_writer(conn)

    @event.listens_for(engine.pool, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        # A connection returned without commit or rollback (invalidated, closed): never keep the lock.
        lock = record.info.pop(_WRITER_LOCK, None) if record is not None else None
        if lock is not None:
            lock.release()


class Checkpointer:
    """Copies SQLite's write-ahead log back into the database every `interval` seconds, in a daemon thread
    (PASSIVE: it never blocks a reader or a writer), for an engine made with `background_checkpoints`."""

    def __init__(self, engine: Engine, interval: float = 1.0) -> None:
        self.engine = engine
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def checkpoint(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        except Exception:  # the next round tries again; SQLite checkpoints at the last close anyway
            logging.getLogger("onetouch.db").warning("WAL checkpoint failed", exc_info=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.checkpoint()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.interval + 5)
        self.checkpoint()


class Busy(Exception):
    """`sqlite_nowait`: another writer holds the write lock this instant (a caller on the event loop, which
    must never wait for it, then goes to a worker thread and waits there)."""


def _begin_immediate_nowait(conn: Any) -> None:
    dbapi = conn.connection.dbapi_connection
    dbapi.execute("PRAGMA busy_timeout = 0")  # another process holds the lock: say so at once
    try:
        dbapi.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        raise Busy from exc
    finally:
        dbapi.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")


def _release_writer(conn: Any) -> None:
    lock = conn.info.pop(_WRITER_LOCK, None)
    if lock is not None:
        lock.release()


_WRITER_LOCK = "onetouch_writer_lock"
SQLITE_BUSY_TIMEOUT_MS = 30_000
_WRITER_LOCKS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()


def writer_lock(engine: Engine) -> threading.Lock | None:
    """The lock this process's SQLite writers queue on (None on PostgreSQL): for writes outside the ORM."""
    return _WRITER_LOCKS.get(engine)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


def write_from_here(session: Session) -> None:
    """In a `@manual_write` request: end what was read so far (nothing was written) and take the write lock
    for what follows, so slow reading (a spreadsheet, a password hash) never holds it."""
    session.commit()
    begin_write(session)


def begin_write(session: Session) -> None:
    """Start the session's transaction as a writer.

    On SQLite a transaction that reads and then writes fails with "database is locked" when another writer
    committed in between; taking the write lock first (BEGIN IMMEDIATE) makes writers queue instead.
    Must be called before the session runs its first statement. On PostgreSQL it changes nothing.
    """
    session.connection(execution_options={"sqlite_immediate": True})
