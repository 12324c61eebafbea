"""The hottest requests, lesson page, lesson API and lesson completion, for the common case, without the ORM.

A learner signed in to their own portal, enrolled in a published course they have started and not yet
completed, opening or completing an ordinary lesson: that is almost every request on a contest day. For it
this module costs two short statements (`app/core/rawsql.py`, scoped to the tenant by construction), the
content cache and a Jinja render, instead of a session, four ORM queries and a write per page view.

Everything else returns `None` and the route falls back to the general path (`reading.py` through the ORM
and the usual dependencies), which also produces every error answer (sign-in needed, wrong portal,
revoked token, not enrolled, draft course, password change). So the rules live in one place; this module
only recognises when they all say yes:
- the token verifies, belongs to this portal, and its version matches the active account's;
- the account is a learner only (staff take the general path) without a pending password change;
- the lesson and its course are in the content cache, readable by this portal, and the course is published;
- the enrolment exists, has started (the first lesson opened is a counted start) and is not complete;
- the lesson is not a quiz lesson (completed by passing the quiz; the page shows the quiz).
Completion also needs the course to stay incomplete after this lesson (the last one completes the course,
issues the certificate and moves the report counters: the general path does that), checked again inside
the UPDATE itself, so a concurrent completion sends this one to the general path instead of skipping it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from app.accounts.constants import LEARNER
from app.catalog import service as catalog_service
from app.catalog.service import CourseCard, CourseOutline, LessonSnapshot, OutlineLesson
from app.core.cache import CONTENT, MemoryCache, versioned_key
from app.core.db import utcnow
from app.core.rawsql import Busy, ScopedSQL, TenantCursor, dialect_of, tenant_reader, tenant_writer
from app.core.security import InvalidToken, TokenClaims, decode_access_token
from app.progress.reading import place
from app.tenancy.models import TenantContext
from app.tenancy.service import slug_from_host

T = TypeVar("T")

# The account, its enrolment in the course and the lessons it completed, in one round trip. The list of
# completed lessons is aggregated in the database: its function is the one difference between the two.
_LEARNER_STATE = """
    SELECT u.is_active, u.token_version, u.must_change_password, u.roles,
           e.id, e.cohort_id, e.started_at IS NOT NULL, e.completed_at IS NOT NULL,
           e.lessons_completed, e.lessons_total, e.percent, e.last_lesson_id,
           (SELECT {aggregate} FROM lesson_progress p WHERE p.tenant_id = :tenant AND p.enrolment_id = e.id)
    FROM user_account u
    LEFT JOIN enrolment e ON e.tenant_id = :tenant AND e.user_id = u.id AND e.course_id = :course
    WHERE u.tenant_id = :tenant AND u.id = :user
"""
_LEARNER_AND_ENROLMENT = {
    "sqlite": ScopedSQL(_LEARNER_STATE.format(aggregate="group_concat(p.lesson_id)")),
    "postgresql": ScopedSQL(_LEARNER_STATE.format(aggregate="string_agg(CAST(p.lesson_id AS TEXT), ',')")),
}
_ACCOUNT = ScopedSQL(
    """
    SELECT u.is_active, u.token_version, u.must_change_password, u.roles FROM user_account u
    WHERE u.tenant_id = :tenant AND u.id = :user
    """
)
_INSERT_PROGRESS = ScopedSQL(
    """
    INSERT INTO lesson_progress (tenant_id, enrolment_id, lesson_id, completed_at)
    VALUES (:tenant, :enrolment, :lesson, :now)
    ON CONFLICT DO NOTHING
    """
)
# Counts the lesson only while the course stays incomplete after it; 0 rows = "take the general path".
_COUNT_LESSON = ScopedSQL(
    """
    UPDATE enrolment
    SET lessons_completed = lessons_completed + 1,
        percent = (lessons_completed + 1) * 100 / lessons_total,
        last_lesson_id = :lesson
    WHERE enrolment.tenant_id = :tenant AND id = :enrolment AND completed_at IS NULL
      AND started_at IS NOT NULL AND lessons_completed + 1 < lessons_total
    RETURNING lessons_completed, lessons_total, percent
    """
)
_MOVE_ONLY = ScopedSQL(
    """
    UPDATE enrolment SET last_lesson_id = :lesson WHERE enrolment.tenant_id = :tenant AND id = :enrolment
    RETURNING lessons_completed, lessons_total, percent
    """
)


@dataclass
class Figures:
    """The enrolment as the lesson page and the progress API show it (an incomplete course)."""

    id: int
    cohort_id: int | None
    lessons_completed: int
    lessons_total: int
    percent: int
    last_lesson_id: int | None
    completed_at: None = None
    late: bool = False
    certified_at: None = None


@dataclass
class HotView:
    """What `reading.ReadingView` carries, for the templates and the API schemas."""

    lesson: LessonSnapshot
    course: CourseOutline
    enrolment: Figures
    previous: OutlineLesson | None
    next: OutlineLesson | None
    done: set[int]
    position: int
    count: int
    content_version: int = 0  # of the cached content shown (keys the rendered page, app/progress/hot_asgi.py)


@dataclass
class _Start:
    tenant: TenantContext
    claims: TokenClaims
    lesson: LessonSnapshot
    course: CourseOutline
    content_version: int


class SignedIn:
    """The page chrome's view of the signed-in learner (the general path puts the ORM `User` there)."""

    roles = (LEARNER,)

    def __init__(self, user_id: int) -> None:
        self.id = user_id


def _who(request: Request, token: str | None) -> tuple[TenantContext, int | None, TokenClaims] | None:
    """The portal (from the tenant cache) and the token's claims, if it verifies and is that portal's."""
    if not token:
        return None
    state = request.app.state
    settings = state.settings
    slug = slug_from_host(request.headers.get("host"), settings.base_domain)
    found = None if slug is None else state.tenant_cache.peek(slug)
    if found is None:
        return None
    tenant, national_id = found
    try:
        claims = decode_access_token(token, secret=settings.secret_key, algorithm=settings.jwt_algorithm)
    except InvalidToken:
        return None
    if claims.tenant_id != tenant.id:
        return None
    return tenant, national_id, claims


def _start(request: Request, token: str | None, lesson_id: int) -> _Start | None:
    """Everything decided without the database: portal, token, cached lesson and outline."""
    who = _who(request, token)
    if who is None:
        return None
    return _content(request, *who, lesson_id)


def _content(
    request: Request, tenant: TenantContext, national_id: int | None, claims: TokenClaims, lesson_id: int
) -> _Start | None:
    cache = request.app.state.cache
    version = cache.version(CONTENT)
    if version is None:
        return None
    lesson = _loaded(cache, version, catalog_service.lesson_key(lesson_id), LessonSnapshot.load)
    if lesson is None:
        return None
    course = _loaded(cache, version, catalog_service.outline_key(lesson.course_id), CourseOutline.load)
    if course is None:
        return None
    readable = {tenant.id, national_id}
    if lesson.tenant_id not in readable or course.tenant_id not in readable:
        return None
    if not course.is_published or lesson.kind == "quiz":
        return None
    return _Start(tenant, claims, lesson, course, version)


# Snapshots made from the cache's values, per content version: the same value is not re-parsed per request.
_LOADED: dict[tuple[int, str], tuple[Any, Any]] = {}
_LOADED_MAX = 4096


def _loaded(cache: Any, version: int, key: str, load: Callable[[dict[str, Any]], T]) -> T | None:
    """The snapshot of the content cache's value for `key` (never loaded from the database here)."""
    raw = cache.get(versioned_key(CONTENT, version, key))
    if raw is None:
        return None
    memo = _LOADED.get((version, key))
    if memo is not None and memo[0] is raw:  # the very value the cache holds now
        return memo[1]  # type: ignore[no-any-return]
    value = load(raw)
    if len(_LOADED) >= _LOADED_MAX:
        _LOADED.clear()
    _LOADED[(version, key)] = (raw, value)
    return value


def _figures(sql: TenantCursor, start: _Start) -> tuple[Figures, set[int]] | None:
    stmt = _LEARNER_AND_ENROLMENT[sql.dialect]
    found = sql.rows(stmt, course=start.course.id, user=start.claims.user_id)
    if not found:
        return None
    row = found[0]
    enrolment_id, cohort_id, started, completed = row[4:8]
    if not _learner(row[:4], start.claims) or enrolment_id is None or not started or completed:
        return None
    lessons_completed, lessons_total, percent, last_lesson_id, done = row[8:]
    if lessons_total != start.course.required_lessons or lessons_total <= 0:
        return None  # the course changed since: the general path re-bases the figures
    figures = Figures(enrolment_id, cohort_id, lessons_completed, lessons_total, percent, last_lesson_id)
    return figures, {int(x) for x in done.split(",")} if done else set()


def _view(start: _Start, figures: Figures, done: set[int]) -> HotView:
    return HotView(
        start.lesson,
        start.course,
        figures,
        done=done,
        content_version=start.content_version,
        **place(start.course, start.lesson.id),
    )


def _learner(account: tuple[Any, ...], claims: TokenClaims) -> bool:
    """The account (is_active, token_version, must_change_password, roles) is an active learner, nothing more,
    whose token is current (a password change, sign-out or role change revokes earlier tokens)."""
    is_active, version, must_change, roles = account
    if not is_active or version != claims.version or must_change:
        return False
    if isinstance(roles, str):
        roles = json.loads(roles)
    return list(roles) == [LEARNER]


def _remember(request: Request, start: _Start) -> None:
    _remember_learner(request, start.tenant, start.claims)


def _remember_learner(request: Request, tenant: TenantContext, claims: TokenClaims) -> None:
    request.state.tenant = tenant
    request.state.user = SignedIn(claims.user_id)
    request.state.user_roles = (LEARNER,)
    request.state.csrf_binding = f"auth:{claims.jti}"


def _state(request: Request, token: str | None, lesson_id: int) -> tuple[_Start, Figures, set[int]] | None:
    """The learner's state for the lesson, when the hot path applies: one read."""
    start = _start(request, token, lesson_id)
    if start is None:
        return None
    with tenant_reader(request.app.state.session_factory, start.tenant.id) as sql:
        found = _figures(sql, start)
    if found is None:
        return None
    return start, *found


def read(request: Request, token: str | None, lesson_id: int) -> HotView | None:
    """The lesson for reading, or None for the general path. Blocking: see `run`."""
    found = _state(request, token, lesson_id)
    if found is None:
        return None
    start, figures, done = found
    if figures.last_lesson_id != start.lesson.id:
        request.app.state.lesson_visits.record(start.tenant.id, figures.id, start.lesson.id)
    _remember(request, start)
    return _view(start, figures, done)


def complete(request: Request, token: str | None, lesson_id: int, *, nowait: bool = False) -> HotView | None:
    """Complete the lesson, or None for the general path (nothing written then). Blocking: see `run`.

    `nowait=True`: raise `Busy` rather than wait for SQLite's write lock.
    """
    found = _state(request, token, lesson_id)
    if found is None:
        return None
    start, figures, done = found
    state = request.app.state
    lesson_id = start.lesson.id
    if (
        lesson_id not in done
        and start.lesson.required
        and figures.lessons_completed + 1 >= figures.lessons_total
    ):
        return None  # this lesson may complete the course
    try:
        with tenant_writer(state.session_factory, start.tenant.id, nowait=nowait) as sql:
            row = _write_completion(sql, figures.id, lesson_id, start.lesson.required)
    except _GeneralPath:
        return None  # rolled back: nothing of this request was written
    state.lesson_visits.forget(start.tenant.id, figures.id)
    figures.lessons_completed, figures.lessons_total, figures.percent = row
    figures.last_lesson_id = lesson_id
    _remember(request, start)
    return _view(start, figures, done | {lesson_id})


@dataclass
class HotCatalog:
    """The portal's published catalog for a signed-in learner (`catalog_service.catalog_cards`)."""

    cards: list[CourseCard]
    content_version: int


def catalog(request: Request, token: str | None, _unused: int = 0) -> HotCatalog | None:
    """The catalog from the content cache for a learner, or None for the general path. Blocking: see `run`."""
    who = _who(request, token)
    if who is None:
        return None
    tenant, national_id, claims = who
    cache = request.app.state.cache
    version = cache.version(CONTENT)
    if version is None:
        return None
    rows = cache.get(versioned_key(CONTENT, version, catalog_service.catalog_key(tenant.id)))
    if rows is None:
        return None
    with tenant_reader(request.app.state.session_factory, tenant.id) as sql:
        account = sql.rows(_ACCOUNT, user=claims.user_id)
    if not account or not _learner(account[0], claims):
        return None
    _remember_learner(request, tenant, claims)
    return HotCatalog(catalog_service.cards_from(rows, {tenant.id, national_id}), version)


async def run(request: Request, fn: Callable[..., T], token: str | None, lesson_id: int = 0) -> T:
    """Call `read`, `catalog` or `complete` where it costs least.

    With SQLite and the in-process cache, on the event loop: two indexed lookups in the page cache take
    microseconds, less than a hop to a worker thread, and a completion's three statements take the write
    lock only if it is free this instant (`nowait`; else the completion waits for it in a worker thread).
    Serialising SQLite's writes on the loop keeps the lock's holder from competing with a dozen threads
    for the GIL. Anything that may wait on the network (PostgreSQL, Redis) runs in a worker thread.
    """
    state = request.app.state
    if isinstance(state.cache, MemoryCache) and dialect_of(state.session_factory) == "sqlite":
        if fn is not complete:
            return fn(request, token, lesson_id)
        try:
            return fn(request, token, lesson_id, nowait=True)
        except Busy:
            pass
    return await run_in_threadpool(fn, request, token, lesson_id)


class _GeneralPath(Exception):
    """Roll the write back: the general path must decide."""


def _write_completion(
    sql: TenantCursor, enrolment_id: int, lesson_id: int, required: bool
) -> tuple[int, int, int]:
    """Insert the progress row and count it (once: the unique row decides); the figures after it.

    Raises `_GeneralPath` when counting it might complete the course after all (a concurrent completion).
    """
    inserted = sql.run(_INSERT_PROGRESS, enrolment=enrolment_id, lesson=lesson_id, now=_now(sql))
    if inserted == 1 and required:
        figures = sql.rows(_COUNT_LESSON, enrolment=enrolment_id, lesson=lesson_id)
        if len(figures) != 1:
            raise _GeneralPath
    else:
        figures = sql.rows(_MOVE_ONLY, enrolment=enrolment_id, lesson=lesson_id)
    completed, total, percent = figures[0]
    return int(completed), int(total), int(percent)


def _now(sql: TenantCursor) -> Any:
    now = utcnow()
    # SQLite keeps datetimes as text, the way the ORM column type writes them (naive UTC, microseconds).
    return now.strftime("%Y-%m-%d %H:%M:%S.%f") if sql.dialect == "sqlite" else now
