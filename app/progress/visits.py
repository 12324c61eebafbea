"""Where each learner was last reading: kept in memory and written in batches, never one write per page view.

Opening a lesson moves the enrolment's "last lesson" (what Continue resumes from). Writing that on every
page view made each lesson page a write transaction: on SQLite every view queued for the one write lock,
behind imports and completions. Instead the lesson read path (`app/progress/learning.py`) notes the move here,
and `LessonVisits.flush` writes the latest lesson per enrolment every `LESSON_VISIT_FLUSH_SECONDS` in one
transaction (and once more when the app stops), through the same background flusher as page-view counts.

Only moves within a started course are buffered: the first lesson opened starts the course, a counted
change for the reports, and is written at once (`learning.open_lesson`). A crash loses at most the
last interval's moves: Continue then resumes from an earlier lesson, nothing else. The worker that served a
view answers Continue from its buffer at once (`pending`); another worker sees the move after the flush.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Connection, Engine, bindparam, update
from sqlalchemy.orm import Session, sessionmaker

from app.progress.models import Enrolment
from app.tenancy.statements import TENANT, scoped, table_of, transaction

log = logging.getLogger("onetouch.visits")

_ENROLMENT = table_of(Enrolment)
_MOVE = scoped(
    update(_ENROLMENT)
    .where(_ENROLMENT.c.tenant_id == TENANT, _ENROLMENT.c.id == bindparam("enrolment"))
    .values(last_lesson_id=bindparam("lesson"))
)


class LessonVisits:
    """Thread-safe: the latest lesson opened per (tenant, enrolment), until flushed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._moves: dict[tuple[int, int], int] = {}

    def record(self, tenant_id: int, enrolment_id: int, lesson_id: int) -> None:
        with self._lock:
            self._moves[(tenant_id, enrolment_id)] = lesson_id

    def pending(self, tenant_id: int, enrolment_id: int) -> int | None:
        """The lesson this worker last saw the learner open, if not yet written."""
        return self._moves.get((tenant_id, enrolment_id))

    def forget(self, tenant_id: int, enrolment_id: int) -> None:
        """A newer visit was written directly (a completion moves the last lesson too)."""
        with self._lock:
            self._moves.pop((tenant_id, enrolment_id), None)

    def flush(self, session_factory: sessionmaker[Session]) -> int:
        """Write every pending move (a transaction per tenant); on failure they stay for the next flush."""
        with self._lock:
            moves, self._moves = self._moves, {}
        if not moves:
            return 0
        try:
            by_tenant: dict[int, list[dict[str, int]]] = {}
            for (tenant_id, enrolment_id), lesson_id in moves.items():
                by_tenant.setdefault(tenant_id, []).append({"enrolment": enrolment_id, "lesson": lesson_id})
            bind = session_factory.kw["bind"]
            for tenant_id, rows in sorted(by_tenant.items()):
                _write(bind, tenant_id, rows)
        except Exception:
            with self._lock:
                for key, lesson_id in moves.items():
                    self._moves.setdefault(key, lesson_id)  # a newer move recorded meanwhile wins
            raise
        return len(moves)


def _write(bind: Engine | Connection, tenant_id: int, rows: list[dict[str, int]]) -> None:
    if isinstance(bind, Connection):  # the test suite's connection
        with transaction(bind, tenant_id, write=True) as db:
            db.run_many(_MOVE, rows)
        return
    with bind.connect() as connection, transaction(connection, tenant_id, write=True) as db:
        db.run_many(_MOVE, rows)


def apply_pending(
    visits: LessonVisits | None, tenant_id: int, enrolment_id: int, last: int | None
) -> int | None:
    """The last lesson as this worker knows it: a buffered move, else what the database says."""
    if visits is None:
        return last
    pending = visits.pending(tenant_id, enrolment_id)
    return pending if pending is not None else last
