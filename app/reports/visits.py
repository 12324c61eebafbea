"""Visits: page views counted in memory and written to `visit_day` in batches, never one write per request.

`VisitCounter.hit` is a dict increment under a lock. A background thread (`VisitFlusher`) moves the counts to
the database every `VISIT_FLUSH_SECONDS` with one atomic upsert (`count = count + :n`), and once more when
the app shuts down. Several workers each keep their own counter; the upsert adds, so nothing is lost or
counted twice. A crash loses at most the last interval's views.

Counted: successful (2xx) HTML page GETs of a portal. Not counted: static files, the API, htmx partials,
redirects and errors.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.i18n import VN_TZ
from app.reports.models import VisitDay
from app.tenancy.models import Tenant
from app.tenancy.scoping import cross_tenant

log = logging.getLogger("onetouch.visits")


def today() -> dt.date:
    return dt.datetime.now(VN_TZ).date()


class VisitCounter:
    """Thread-safe in-process counts per (tenant, day)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[int, dt.date], int] = defaultdict(int)

    def hit(self, tenant_id: int, day: dt.date | None = None) -> None:
        key = (tenant_id, day or today())
        with self._lock:
            self._counts[key] += 1

    def pending(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def _drain(self) -> dict[tuple[int, dt.date], int]:
        with self._lock:
            counts, self._counts = self._counts, defaultdict(int)
        return counts

    def _restore(self, counts: dict[tuple[int, dt.date], int]) -> None:
        with self._lock:
            for key, n in counts.items():
                self._counts[key] += n

    def flush(self, session_factory: Callable[[], Session]) -> int:
        """Add the counts to `visit_day` in one statement; on failure they stay here for the next flush."""
        counts = self._drain()
        if not counts:
            return 0
        try:
            # One statement for every portal's counts: cross-tenant work, declared so (row-level security).
            with session_factory() as session, cross_tenant(session):
                conn = session.connection()
                # A portal removed since the views were counted has nowhere to keep them: drop its counts
                # rather than fail the whole batch on its foreign key forever.
                wanted = sorted({t for t, _ in counts})
                known = set(conn.execute(select(Tenant.id).where(Tenant.id.in_(wanted))).scalars())
                rows: list[dict[str, Any]] = [
                    {"tenant_id": t, "day": d, "count": n}
                    for (t, d), n in sorted(counts.items())
                    if t in known
                ]
                if not rows:
                    return 0
                table: Any = VisitDay.__table__
                stmt: Any = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)
                stmt = stmt.on_conflict_do_update(
                    index_elements=["tenant_id", "day"], set_={"count": table.c.count + stmt.excluded.count}
                )
                conn.execute(stmt, rows)
                session.commit()
        except Exception:
            self._restore(counts)
            raise
        return sum(int(r["count"]) for r in rows)


class Flushable(Protocol):
    def flush(self, session_factory: Any) -> int: ...


class VisitFlusher:
    """Flushes a counter every `interval` seconds in a daemon thread; `stop()` flushes one last time.

    Also flushes the lesson-visit buffer (`app/progress/visits.py`), which has the same `flush`.
    """

    def __init__(self, counter: Flushable, session_factory: Callable[[], Any], interval: float):
        self.counter = counter
        self.session_factory = session_factory  # read at each flush: tests and reloads may replace it
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="visit-flusher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _flush(self) -> None:
        try:
            self.counter.flush(self.session_factory())
        except Exception:  # the database may be briefly away: keep the counts and try again later
            log.exception("visit flush failed")

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._flush()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.interval + 5)
        self._flush()


def _is_page(scope: Scope) -> bool:
    path: str = scope["path"]
    if scope["method"] != "GET" or path.startswith(("/static/", "/api/", "/docs", "/openapi")):
        return False
    headers = dict(scope.get("headers") or [])
    return headers.get(b"hx-request") != b"true"


class VisitMiddleware:
    """Counts successful HTML page views of the portal the request resolved to (pure ASGI, no DB write)."""

    def __init__(self, app: ASGIApp, counter: VisitCounter) -> None:
        self.app = app
        self.counter = counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_page(scope):
            await self.app(scope, receive, send)
            return
        counted = False

        async def send_wrapper(message: Message) -> None:
            nonlocal counted
            if message["type"] == "http.response.start" and not counted:
                headers = dict(message.get("headers") or [])
                html = headers.get(b"content-type", b"").startswith(b"text/html")
                tenant = (scope.get("state") or {}).get("tenant")
                if 200 <= message["status"] < 300 and html and tenant is not None:
                    self.counter.hit(tenant.id)
                    counted = True
            await send(message)

        await self.app(scope, receive, send_wrapper)
