"""Report counters: kept current on every enrolment event, so dashboards read a few stored rows.

=====================================================================================================
HOW THE COUNTERS STAY RIGHT — READ THIS BEFORE WRITING ENROLMENTS
=====================================================================================================
1. ORM writes (the normal path) are counted automatically. A session listener snapshots every new, changed
   or deleted `Enrolment` before the flush (attribute history: `started_at`, `completed_at`, `late`,
   `certified_at`, `best_score_percent`, `cohort_id`, `enrolled_at`, the counted unit and group) and, after
   the flush, adds the difference "what the enrolment contributes now − what it contributed before" to
   every counter table. Setting those attributes and flushing is all a service has to do.
2. Core `UPDATE` statements on `enrolment` bypass the ORM, so they must call `record_change(session, before,
   enrolment)` themselves (`app.progress.service.complete_lesson` and `check_completion` do: they update
   atomically so that a double click counts once, and only the request whose conditional UPDATE matched the
   row records the change).
3. BULK PATHS THAT INSERT OR UPDATE ENROLMENTS WITH CORE STATEMENTS (`insert(Enrolment)`, `INSERT … SELECT`,
   `session.execute(insert(...), rows)`) ARE NOT SEEN BY ANY LISTENER. After inserting, call
   `count_new_enrolments(session, tenant_id, enrolment_ids)`; after anything larger (a data load, a fix in
   SQL), run `rebuild(session, tenant_id)` — `onetouch reports rebuild [--tenant SLUG]`.
4. Rows deleted by the database itself (`ON DELETE CASCADE` when an account is deleted) are not seen
   either: `rebuild` corrects them.

Where an enrolment is counted: under the learner's unit and target group *when they enrolled*, stored on the
enrolment (`counted_unit_id`, `counted_group`), so every later event of that enrolment lands in the same
counter row and a row's completion rate stays ≤ 100 %. A learner who moves to another unit keeps their earlier
enrolments where they were counted until `rebuild` re-homes every enrolment to the learner's current unit
and group.

Days are Vietnam-local (UTC+7): an enrolment counts as assigned on the day it was enrolled, started on the
day of its first lesson, completed (with its late flag and best score) on the day it was completed, and
certified on the day its certificate was issued. The all-time `report_counter` averages the best score over
every enrolment that has one; `report_daily` over those completed that day.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, delete, event, func, inspect, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.core import driver
from app.core.i18n import VN_TZ
from app.progress.models import Enrolment
from app.reports.models import (
    NO_GROUP,
    NO_ID,
    ReportCounter,
    ReportDaily,
    ReportLearner,
    ReportTenant,
    ReportUnit,
)
from app.units.models import Unit

MEASURES = ("assigned", "started", "completed", "certified", "late", "score_sum", "score_count")
_WATCHED = (
    "started_at",
    "completed_at",
    "late",
    "certified_at",
    "best_score_percent",
    "cohort_id",
    "enrolled_at",
    "counted_unit_id",
    "counted_group",
    "course_id",
    "user_id",
)
_PENDING = "report_counters_pending"
_COUNTER_KEY = ("tenant_id", "course_id", "cohort_id", "unit_id", "target_group")
_DAILY_KEY = ("tenant_id", "day", "course_id", "cohort_id", "unit_id", "target_group")

Key = tuple[Any, ...]
Vector = list[float]


def local_day(value: dt.datetime) -> dt.date:
    return value.astimezone(VN_TZ).date()


@dataclasses.dataclass(frozen=True)
class EnrolmentState:
    """What an enrolment contributes to the counters: its key and its stored figures."""

    tenant_id: int
    user_id: int
    course_id: int
    cohort_id: int
    unit_id: int
    group: str
    enrolled_at: dt.datetime | None
    started_at: dt.datetime | None
    completed_at: dt.datetime | None
    late: bool
    certified_at: dt.datetime | None
    score: float | None


def state_of(e: Enrolment) -> EnrolmentState:
    return EnrolmentState(
        tenant_id=e.tenant_id,
        user_id=e.user_id,
        course_id=e.course_id,
        cohort_id=e.cohort_id or NO_ID,
        unit_id=e.counted_unit_id or NO_ID,
        group=e.counted_group or NO_GROUP,
        enrolled_at=e.enrolled_at,
        started_at=e.started_at,
        completed_at=e.completed_at,
        late=bool(e.late),
        certified_at=e.certified_at,
        score=e.best_score_percent,
    )


def _zero() -> Vector:
    return [0, 0, 0, 0, 0, 0.0, 0]


@dataclasses.dataclass
class Delta:
    """Differences to add to each counter table, merged by key."""

    counter: dict[Key, Vector] = dataclasses.field(default_factory=lambda: defaultdict(_zero))
    daily: dict[Key, Vector] = dataclasses.field(default_factory=lambda: defaultdict(_zero))
    tenant: dict[int, Vector] = dataclasses.field(default_factory=lambda: defaultdict(_zero))
    learner: dict[tuple[int, int], int] = dataclasses.field(default_factory=lambda: defaultdict(int))
    unit: dict[tuple[int, int], int] = dataclasses.field(default_factory=lambda: defaultdict(int))

    def add(self, s: EnrolmentState, sign: int) -> None:
        key = (s.tenant_id, s.course_id, s.cohort_id, s.unit_id, s.group)
        done = s.completed_at is not None
        vec = [
            1,
            int(s.started_at is not None),
            int(done),
            int(s.certified_at is not None),
            int(done and s.late),
            s.score or 0.0,
            int(s.score is not None),
        ]
        for target in (self.counter[key], self.tenant[s.tenant_id]):
            for i, v in enumerate(vec):
                target[i] += sign * v

        def daily(when: dt.datetime | None, index: int, value: float = 1) -> None:
            if when is not None:
                self.daily[(s.tenant_id, local_day(when), *key[1:])][index] += sign * value

        daily(s.enrolled_at, 0)
        daily(s.started_at, 1)
        daily(s.certified_at, 3)
        if s.completed_at is not None:
            daily(s.completed_at, 2)
            if s.late:
                daily(s.completed_at, 4)
            if s.score is not None:
                daily(s.completed_at, 5, s.score)
                daily(s.completed_at, 6)
            self.learner[(s.tenant_id, s.user_id)] += sign
            if s.unit_id:
                self.unit[(s.tenant_id, s.unit_id)] += sign

    def empty(self) -> bool:
        return not any(
            any(v) for table in (self.counter, self.daily, self.tenant) for v in table.values()
        ) and not any(self.learner.values())


# Applying a delta ------------------------------------------------------------------------------------


def _upsert_add(
    conn: Connection,
    table: Table,
    keys: Sequence[str],
    rows: list[dict[str, Any]],
    keep: Sequence[str] = (),
) -> None:
    """Add each row's figures to the row with the same key, creating it when missing (one statement).

    Columns in `keep` are only written when the row is created.
    """
    if not rows:
        return
    added = tuple(c for c in rows[0] if c not in keys and c not in keep)
    stmt = _upsert_statement(conn.dialect.name, table, tuple(keys), added)
    if driver.applies(conn):
        driver.execute_many(conn, stmt, rows)
    else:
        conn.execute(stmt, rows)


_UPSERTS: dict[tuple[str, str, tuple[str, ...], tuple[str, ...], str | None], Any] = {}


def _upsert_statement(
    dialect: str, table: Table, keys: tuple[str, ...], added: tuple[str, ...], returning: str | None = None
) -> Any:
    """The upsert for these columns, built once per process (building one costs more than running it)."""
    key = (dialect, table.name, keys, added, returning)
    stmt = _UPSERTS.get(key)
    if stmt is None:
        insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
        stmt = insert.on_conflict_do_update(
            index_elements=list(keys), set_={c: table.c[c] + insert.excluded[c] for c in added}
        )
        if returning is not None:
            stmt = stmt.returning(table.c[returning])
        _UPSERTS[key] = stmt
    return stmt


def _vector_rows(table: dict[Key, Vector], keys: Sequence[str]) -> list[dict[str, Any]]:
    rows = []
    for key, vec in sorted(table.items(), key=lambda kv: tuple(str(k) for k in kv[0])):
        if any(vec):
            rows.append({**dict(zip(keys, key, strict=True)), **dict(zip(MEASURES, vec, strict=True))})
    return rows


def _ancestors(path: str) -> list[int]:
    return [int(p) for p in path.strip("/").split("/") if p]


def apply(conn: Connection, delta: Delta) -> None:
    """Write a delta to the counter tables (every statement filters or stamps its own tenant_id)."""
    _upsert_add(conn, ReportCounter.__table__, _COUNTER_KEY, _vector_rows(delta.counter, _COUNTER_KEY))  # type: ignore[arg-type]
    _upsert_add(conn, ReportDaily.__table__, _DAILY_KEY, _vector_rows(delta.daily, _DAILY_KEY))  # type: ignore[arg-type]
    tenant_learners: dict[int, int] = defaultdict(int)
    learner_table = ReportLearner.__table__
    learner_upsert = _upsert_statement(
        conn.dialect.name,
        learner_table,  # type: ignore[arg-type]
        ("tenant_id", "user_id"),
        ("completed",),
        returning="completed",
    )
    for (tenant_id, user_id), change in sorted(delta.learner.items()):
        if not change:
            continue
        params = {"tenant_id": tenant_id, "user_id": user_id, "completed": change}
        if driver.applies(conn):
            row = driver.first(conn, learner_upsert, params)
            assert row is not None
            now = row[0]
        else:
            now = conn.execute(learner_upsert, params).scalar_one()
        before = now - change
        if before <= 0 < now:
            tenant_learners[tenant_id] += 1
        elif now <= 0 < before:
            tenant_learners[tenant_id] -= 1
    tenant_rows = []
    for tenant_id in sorted(set(delta.tenant) | set(tenant_learners)):
        vec = delta.tenant.get(tenant_id, _zero())
        if any(vec) or tenant_learners.get(tenant_id):
            tenant_rows.append(
                {
                    "tenant_id": tenant_id,
                    **dict(zip(MEASURES, vec, strict=True)),
                    "learners": tenant_learners.get(tenant_id, 0),
                }
            )
    _upsert_add(conn, ReportTenant.__table__, ("tenant_id",), tenant_rows)  # type: ignore[arg-type]
    _apply_units(conn, delta.unit)


def _apply_units(conn: Connection, units: dict[tuple[int, int], int]) -> None:
    changes = {k: v for k, v in units.items() if v}
    if not changes:
        return
    by_tenant: dict[int, dict[int, int]] = defaultdict(dict)
    for (tenant_id, unit_id), change in changes.items():
        by_tenant[tenant_id][unit_id] = change
    rows: list[dict[str, Any]] = []
    for tenant_id, direct in sorted(by_tenant.items()):
        rolled: dict[int, int] = defaultdict(int)
        paths = conn.execute(
            select(Unit.id, Unit.path).where(Unit.tenant_id == tenant_id, Unit.id.in_(list(direct)))
        ).all()
        for unit_id, path in paths:
            for ancestor in _ancestors(path) or [unit_id]:
                rolled[ancestor] += direct[unit_id]
        kinds = dict(
            conn.execute(
                select(Unit.id, Unit.kind).where(Unit.tenant_id == tenant_id, Unit.id.in_(list(rolled)))
            ).all()
        )
        rows += [
            {"tenant_id": tenant_id, "unit_id": u, "kind": kinds.get(u, ""), "completed": c}
            for u, c in sorted(rolled.items())
            if c
        ]
    _upsert_add(conn, ReportUnit.__table__, ("tenant_id", "unit_id"), rows, keep=("kind",))  # type: ignore[arg-type]


def record_change(session: Session, before: EnrolmentState | None, enrolment: Enrolment) -> None:
    """Count one enrolment's change made with a Core statement (the ORM path is counted automatically)."""
    delta = Delta()
    if before is not None:
        delta.add(before, -1)
    delta.add(state_of(enrolment), +1)
    if not delta.empty():
        apply(session.connection(), delta)


# The ORM listener -----------------------------------------------------------------------------------


def _old_value(obj: Enrolment, name: str) -> Any:
    attr = inspect(obj).attrs[name]
    history = attr.history
    if not history.has_changes():
        return attr.value
    if history.deleted:
        return history.deleted[0]
    if history.unchanged:
        return history.unchanged[0]
    # Set without having been loaded: read what the database holds before this flush.
    loaded = attr.load_history()
    return loaded.deleted[0] if loaded.deleted else None


def _old_state(obj: Enrolment) -> EnrolmentState:
    old = {name: _old_value(obj, name) for name in _WATCHED}
    return EnrolmentState(
        tenant_id=obj.tenant_id,
        user_id=old["user_id"],
        course_id=old["course_id"],
        cohort_id=old["cohort_id"] or NO_ID,
        unit_id=old["counted_unit_id"] or NO_ID,
        group=old["counted_group"] or NO_GROUP,
        enrolled_at=old["enrolled_at"],
        started_at=old["started_at"],
        completed_at=old["completed_at"],
        late=bool(old["late"]),
        certified_at=old["certified_at"],
        score=old["best_score_percent"],
    )


def _watched_changed(obj: Enrolment) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in _WATCHED)


@event.listens_for(Session, "before_flush")
def _snapshot(session: Session, _ctx: Any, _instances: Any) -> None:
    pending: list[tuple[Enrolment, EnrolmentState | None, bool]] = []
    for obj in session.new:
        if isinstance(obj, Enrolment):
            _home(session, obj)
            pending.append((obj, None, False))
    for obj in session.dirty:
        if isinstance(obj, Enrolment) and _watched_changed(obj):
            pending.append((obj, _old_state(obj), False))
    for obj in session.deleted:
        if isinstance(obj, Enrolment):
            pending.append((obj, _old_state(obj), True))
    session.info[_PENDING] = pending


def _home(session: Session, enrolment: Enrolment) -> None:
    """File a new enrolment under its learner's current unit and group, unless the caller chose already."""
    if enrolment.counted_unit_id is not None and enrolment.counted_group is not None:
        return
    row = (
        session.connection()
        .execute(select(User.unit_id, User.target_group).where(User.id == enrolment.user_id))
        .first()
    )
    unit_id, group = (row[0], row[1]) if row else (None, None)
    if enrolment.counted_unit_id is None:
        enrolment.counted_unit_id = unit_id or NO_ID
    if enrolment.counted_group is None:
        enrolment.counted_group = group or NO_GROUP


@event.listens_for(Session, "after_flush")
def _count(session: Session, _ctx: Any) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    delta = Delta()
    for obj, before, deleted in pending:
        if before is not None:
            delta.add(before, -1)
        if not deleted:
            delta.add(state_of(obj), +1)
    if not delta.empty():
        apply(session.connection(), delta)


# Bulk paths ------------------------------------------------------------------------------------------

_STATE_COLUMNS = (
    Enrolment.tenant_id,
    Enrolment.user_id,
    Enrolment.course_id,
    Enrolment.cohort_id,
    Enrolment.counted_unit_id,
    Enrolment.counted_group,
    Enrolment.enrolled_at,
    Enrolment.started_at,
    Enrolment.completed_at,
    Enrolment.late,
    Enrolment.certified_at,
    Enrolment.best_score_percent,
)


def _row_state(row: Any) -> EnrolmentState:
    return EnrolmentState(
        tenant_id=row[0],
        user_id=row[1],
        course_id=row[2],
        cohort_id=row[3] or NO_ID,
        unit_id=row[4] or NO_ID,
        group=row[5] or NO_GROUP,
        enrolled_at=row[6],
        started_at=row[7],
        completed_at=row[8],
        late=bool(row[9]),
        certified_at=row[10],
        score=row[11],
    )


def count_new_enrolments(session: Session, tenant_id: int, enrolment_ids: Iterable[int]) -> int:
    """Count enrolments inserted with Core statements: home them to their learners' units, then add them."""
    ids = sorted(set(enrolment_ids))
    conn = session.connection()
    delta = Delta()
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        conn.execute(_rehome_statement(tenant_id).where(Enrolment.id.in_(chunk)))
        for row in conn.execute(
            select(*_STATE_COLUMNS).where(Enrolment.tenant_id == tenant_id, Enrolment.id.in_(chunk))
        ):
            delta.add(_row_state(row), +1)
    apply(conn, delta)
    return len(ids)


def _rehome_statement(tenant_id: int) -> Any:
    user = User.__table__
    unit_of = (
        select(user.c.unit_id).where(user.c.id == Enrolment.user_id).scalar_subquery()  # type: ignore[attr-defined]
    )
    group_of = (
        select(user.c.target_group).where(user.c.id == Enrolment.user_id).scalar_subquery()  # type: ignore[attr-defined]
    )
    return (
        update(Enrolment.__table__)  # type: ignore[arg-type]
        .where(Enrolment.tenant_id == tenant_id)
        .values(
            counted_unit_id=func.coalesce(unit_of, NO_ID), counted_group=func.coalesce(group_of, NO_GROUP)
        )
    )


# Rebuild ---------------------------------------------------------------------------------------------


def _day_sql(conn: Connection, column: str) -> str:
    if conn.dialect.name == "postgresql":
        return f"CAST(({column} AT TIME ZONE 'Asia/Ho_Chi_Minh') AS DATE)"
    return f"date({column}, '+7 hours')"


_COUNTER_SQL = """
INSERT INTO report_counter (tenant_id, course_id, cohort_id, unit_id, target_group,
    assigned, started, completed, certified, late, score_sum, score_count)
SELECT e.tenant_id, e.course_id, COALESCE(e.cohort_id, 0), e.counted_unit_id, e.counted_group,
    COUNT(*),
    SUM(CASE WHEN e.started_at IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.completed_at IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.certified_at IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.completed_at IS NOT NULL AND e.late THEN 1 ELSE 0 END),
    COALESCE(SUM(e.best_score_percent), 0),
    COUNT(e.best_score_percent)
FROM enrolment e
WHERE e.tenant_id = :tenant_id
GROUP BY e.tenant_id, e.course_id, COALESCE(e.cohort_id, 0), e.counted_unit_id, e.counted_group
"""

_DAILY_SQL = """
INSERT INTO report_daily (tenant_id, day, course_id, cohort_id, unit_id, target_group,
    assigned, started, completed, certified, late, score_sum, score_count)
SELECT tenant_id, day, course_id, cohort_id, unit_id, target_group,
    SUM(a), SUM(s), SUM(c), SUM(ce), SUM(l), SUM(ss), SUM(sc)
FROM (
    SELECT e.tenant_id, {enrolled} AS day, e.course_id, COALESCE(e.cohort_id, 0) AS cohort_id,
        e.counted_unit_id AS unit_id, e.counted_group AS target_group,
        1 AS a, 0 AS s, 0 AS c, 0 AS ce, 0 AS l, 0.0 AS ss, 0 AS sc
    FROM enrolment e WHERE e.tenant_id = :tenant_id
    UNION ALL
    SELECT e.tenant_id, {started}, e.course_id, COALESCE(e.cohort_id, 0), e.counted_unit_id,
        e.counted_group, 0, 1, 0, 0, 0, 0.0, 0
    FROM enrolment e WHERE e.tenant_id = :tenant_id AND e.started_at IS NOT NULL
    UNION ALL
    SELECT e.tenant_id, {completed}, e.course_id, COALESCE(e.cohort_id, 0), e.counted_unit_id,
        e.counted_group, 0, 0, 1, 0, CASE WHEN e.late THEN 1 ELSE 0 END,
        COALESCE(e.best_score_percent, 0.0), CASE WHEN e.best_score_percent IS NULL THEN 0 ELSE 1 END
    FROM enrolment e WHERE e.tenant_id = :tenant_id AND e.completed_at IS NOT NULL
    UNION ALL
    SELECT e.tenant_id, {certified}, e.course_id, COALESCE(e.cohort_id, 0), e.counted_unit_id,
        e.counted_group, 0, 0, 0, 1, 0, 0.0, 0
    FROM enrolment e WHERE e.tenant_id = :tenant_id AND e.certified_at IS NOT NULL
) x
GROUP BY tenant_id, day, course_id, cohort_id, unit_id, target_group
"""

_LEARNER_SQL = """
INSERT INTO report_learner (tenant_id, user_id, completed)
SELECT e.tenant_id, e.user_id, COUNT(*) FROM enrolment e
WHERE e.tenant_id = :tenant_id AND e.completed_at IS NOT NULL
GROUP BY e.tenant_id, e.user_id
"""

_TENANT_SQL = """
INSERT INTO report_tenant (tenant_id, assigned, started, completed, certified, late, score_sum, score_count,
    learners)
SELECT :tenant_id, COALESCE(SUM(assigned), 0), COALESCE(SUM(started), 0), COALESCE(SUM(completed), 0),
    COALESCE(SUM(certified), 0), COALESCE(SUM(late), 0), COALESCE(SUM(score_sum), 0),
    COALESCE(SUM(score_count), 0),
    (SELECT COUNT(*) FROM report_learner WHERE tenant_id = :tenant_id AND completed > 0)
FROM report_counter WHERE tenant_id = :tenant_id
"""

_DERIVED = (ReportCounter, ReportDaily, ReportLearner, ReportTenant, ReportUnit)


def rebuild(session: Session, tenant_id: int, *, rehome: bool = True) -> None:
    """Recompute every counter of one tenant from its enrolments, set-based (a few statements).

    With `rehome`, enrolments are first re-filed under their learners' current unit and target group.
    """
    session.flush()
    conn = session.connection()
    if rehome:
        conn.execute(_rehome_statement(tenant_id))
    for model in _DERIVED:
        table: Any = model.__table__
        conn.execute(delete(table).where(table.c.tenant_id == tenant_id))
    params = {"tenant_id": tenant_id}
    conn.execute(text(_COUNTER_SQL), params)
    conn.execute(
        text(
            _DAILY_SQL.format(
                enrolled=_day_sql(conn, "e.enrolled_at"),
                started=_day_sql(conn, "e.started_at"),
                completed=_day_sql(conn, "e.completed_at"),
                certified=_day_sql(conn, "e.certified_at"),
            )
        ),
        params,
    )
    conn.execute(text(_LEARNER_SQL), params)
    conn.execute(text(_TENANT_SQL), params)
    # Coverage: completions per unit, rolled up to every ancestor through the materialised path.
    direct = conn.execute(
        text(
            "SELECT c.unit_id, u.path, SUM(c.completed) FROM report_counter c "
            "JOIN unit u ON u.id = c.unit_id AND u.tenant_id = c.tenant_id "
            "WHERE c.tenant_id = :tenant_id AND c.completed > 0 GROUP BY c.unit_id, u.path"
        ),
        params,
    ).all()
    rolled: dict[int, int] = defaultdict(int)
    for unit_id, path, completed in direct:
        for ancestor in _ancestors(path) or [unit_id]:
            rolled[ancestor] += int(completed)
    if rolled:
        kinds = dict(
            conn.execute(
                select(Unit.id, Unit.kind).where(Unit.tenant_id == tenant_id, Unit.id.in_(list(rolled)))
            ).all()
        )
        conn.execute(
            ReportUnit.__table__.insert(),  # type: ignore[attr-defined]
            [
                {"tenant_id": tenant_id, "unit_id": u, "kind": kinds.get(u, ""), "completed": c}
                for u, c in sorted(rolled.items())
            ],
        )
    session.expire_all()


__all__ = [
    "Delta",
    "EnrolmentState",
    "apply",
    "count_new_enrolments",
    "local_day",
    "rebuild",
    "record_change",
    "state_of",
]
