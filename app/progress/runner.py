"""Where the learning path runs: the mechanism around `app/progress/learning.py`, never a copy of its rules.

A learning request (read a lesson, complete it, submit a quiz) costs a few short statements. Where they run
decides most of its price, so `run` picks the cheapest place that is safe:

- SQLite (the embedded default): on the event loop. Its reads take microseconds, less than a hop to a worker
  thread; a write takes the database's one write lock only if it is free this instant (`sqlite_nowait`),
  else the whole call is made again in a worker thread, which may wait for it.
- PostgreSQL: on the event loop too, through an asyncpg pool (`DB_ASYNC=true`, the default): SQLAlchemy runs
  the same synchronous code over the async driver (greenlets), so a request waits for the database without
  holding a thread. `DB_ASYNC=false` runs it in a worker thread over the ordinary pool instead (the ablation).
- The test suite binds the app's sessions to one connection inside the test's transaction: the store uses it,
  with savepoints.

Every transaction declares its tenant to PostgreSQL's row-level security (`app/tenancy/rls.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from contextlib import AbstractContextManager, contextmanager, suppress
from typing import Any, TypeVar

from fastapi import Request
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.core.cache import CONTENT, Cache
from app.core.db import Busy
from app.tenancy.models import TenantContext
from app.tenancy.scoping import bind_tenant
from app.tenancy.statements import TenantConnection, transaction

T = TypeVar("T")


class ConnectionStore:
    """A `learning.Store` over one SQLAlchemy connection, for one tenant."""

    def __init__(
        self,
        connection: Connection,
        tenant: TenantContext,
        national_id: int | None,
        cache: Cache | None,
        content_version: Any,
        content_ttl: float,
        *,
        nowait: bool = False,
        parsed: MutableMapping[str, Any] | None = None,
    ) -> None:
        self.connection = connection
        self.tenant_id = tenant.id
        self.national_id = national_id
        self.readable = tuple(sorted({tenant.id} | ({national_id} if national_id is not None else set())))
        self.cache = cache
        self.content_version = content_version
        self.content_ttl = content_ttl
        self.parsed = parsed
        self._nowait = nowait

    def reading(self) -> AbstractContextManager[TenantConnection]:
        return transaction(self.connection, self.tenant_id, self.national_id)

    def writing(self) -> AbstractContextManager[TenantConnection]:
        return transaction(self.connection, self.tenant_id, self.national_id, write=True, nowait=self._nowait)

    @contextmanager
    def content_session(self) -> Iterator[Session]:
        with Session(bind=self.connection, join_transaction_mode="create_savepoint") as session:
            bind_tenant(session, self.tenant_id, national_tenant_id=self.national_id)
            yield session


class LoopConnections:
    """SQLite on the event loop: two connections kept open for the learning path (it runs there one call at a
    time, never awaiting inside, so one pair serves every request), instead of a checkout per request.

    `reader` sends no BEGIN (`sqlite_no_begin`): a read of the learning path is one statement, which SQLite's
    autocommit makes consistent on its own. `writer` takes the write lock per transaction, without waiting.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._reader: Connection | None = None
        self._writer: Connection | None = None

    def pair(self) -> tuple[Connection, Connection]:
        if (
            self._reader is None
            or self._writer is None
            or self._reader.invalidated
            or self._writer.invalidated
        ):
            self.close()
            self._reader = self.engine.connect().execution_options(sqlite_no_begin=True)
            self._writer = self.engine.connect()
        return self._reader, self._writer

    def close(self) -> None:
        for connection in (self._reader, self._writer):
            if connection is not None:
                with suppress(Exception):  # a broken connection is dropped either way
                    connection.close()
        self._reader = self._writer = None


class LoopStore(ConnectionStore):
    """`ConnectionStore` on the loop's pair: reads on the reader (no transaction), the rest on the writer."""

    def __init__(self, reader: Connection, writer: Connection, *args: Any, **kwargs: Any) -> None:
        super().__init__(writer, *args, **kwargs)
        self.reader = reader

    @contextmanager
    def reading(self) -> Iterator[TenantConnection]:  # type: ignore[override]
        try:
            yield TenantConnection(self.reader, self.tenant_id)
        finally:
            self.reader.rollback()  # ends SQLAlchemy's bookkeeping; no BEGIN was sent


async def run(
    request: Request,
    tenant: TenantContext,
    national_id: int | None,
    fn: Callable[..., T],
    *args: Any,
    **kwargs: Any,
) -> T:
    """`fn(store, *args, **kwargs)` for the request's tenant, where it costs least (the module docstring)."""
    state = request.app.state
    cache: Cache | None = state.cache
    version = cache.version(CONTENT) if cache is not None else None
    ttl = state.settings.content_cache_seconds
    parsed = state.content_objects

    def store_on(connection: Connection, *, nowait: bool = False) -> ConnectionStore:
        return ConnectionStore(
            connection, tenant, national_id, cache, version, ttl, nowait=nowait, parsed=parsed
        )

    bind = state.session_factory.kw.get("bind")
    if isinstance(bind, Connection):  # the test suite: inside its transaction
        return fn(store_on(bind), *args, **kwargs)
    async_engine = getattr(state, "async_engine", None)
    if async_engine is not None:
        async with async_engine.connect() as connection:
            return await connection.run_sync(lambda sync: fn(store_on(sync), *args, **kwargs))
    engine: Engine = bind
    loop: LoopConnections | None = getattr(state, "loop_connections", None)
    if engine.dialect.name == "sqlite" and loop is not None:
        reader, writer = loop.pair()
        try:
            store = LoopStore(
                reader, writer, tenant, national_id, cache, version, ttl, nowait=True, parsed=parsed
            )
            return fn(store, *args, **kwargs)
        except Busy:
            pass  # another writer holds the lock: wait for it in a worker thread
        except BaseException:
            loop.close()  # whatever state they were left in, the next request starts afresh
            raise

    def in_thread() -> T:
        with engine.connect() as connection:
            return fn(store_on(connection), *args, **kwargs)

    return await run_in_threadpool(in_thread)
