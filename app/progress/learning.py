"""The learning path in one place: opening a lesson, completing it, and what a graded quiz does to progress.

Who may read or complete a lesson, when a course starts and when it completes, what the learner's progress
shows and where Continue resumes are decided here and nowhere else. The lesson page and API, lesson completion
(API, form and htmx), quiz submission (`app/quizzes/submission.py`) and the ORM-facing services other code
calls (`app/progress/service.py`) all come here. What makes the path fast is how it is run — one statement
for the learner's state, content from the cache, the event loop instead of a thread, optionally in front of
the router (`app/progress/runner.py`, `dispatch.py`) — never a second copy of these rules.

Data goes through a `Store` (one connection, its read and write transactions for one tenant) with Core
statements scoped to the tenant by construction (`app/tenancy/statements.py`). Every change to an enrolment's
figures is made with a conditional UPDATE … RETURNING, so a double click or two workers count once, and the
report counters get exactly the difference it made (`app/reports/counters.py`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, MutableMapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Text, and_, bindparam, case, cast, func, insert, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.accounts.signedin import Account, check_account, check_password_current, is_staff
from app.catalog import cache_events
from app.catalog import service as catalog_service
from app.catalog.service import CourseOutline, LessonSnapshot, OutlineLesson
from app.certificates.codes import new_certificate_code
from app.certificates.models import Certificate
from app.cohorts.models import Cohort
from app.core import db as core_db  # its `utcnow` read at call time: tests move the clock
from app.core.cache import CONTENT, Cache, versioned_key
from app.core.errors import N_, Forbidden, NotFound
from app.core.i18n import VN_TZ
from app.core.security import TokenClaims
from app.core.text import nfc
from app.progress.models import Enrolment, LessonProgress
from app.quizzes.models import Quiz, QuizAttempt, QuizQuestion
from app.reports import counters
from app.tenancy.statements import TENANT, TenantConnection, scoped, table_of

# A quiz edit changes what a course requires and what its quiz lessons show: it is a content change too.
cache_events.watch(Quiz, QuizQuestion)

_USER, _ENROLMENT, _PROGRESS = table_of(User), table_of(Enrolment), table_of(LessonProgress)
_ATTEMPT, _COHORT, _CERTIFICATE = table_of(QuizAttempt), table_of(Cohort), table_of(Certificate)
# The enrolment's columns when selected beside others: `Progress.of(row, "e_")`.
ENROLMENT_COLUMNS = tuple(c.label(f"e_{c.name}") for c in _ENROLMENT.c)


# --- What the path reads ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """An enrolment's stored figures, as one row of `enrolment` holds them."""

    id: int
    tenant_id: int
    user_id: int
    course_id: int
    cohort_id: int | None
    lessons_completed: int
    lessons_total: int
    percent: int
    enrolled_at: dt.datetime
    started_at: dt.datetime | None
    completed_at: dt.datetime | None
    late: bool
    last_lesson_id: int | None
    best_score_percent: float | None
    certified_at: dt.datetime | None
    counted_unit_id: int
    counted_group: str

    @classmethod
    def of(cls, row: Any, prefix: str = "") -> Progress:
        return cls(**{name: getattr(row, prefix + name) for name in _PROGRESS_FIELDS})

    def counted(self) -> counters.EnrolmentState:
        """What this enrolment adds to the report counters."""
        return counters.EnrolmentState(
            tenant_id=self.tenant_id,
            user_id=self.user_id,
            course_id=self.course_id,
            cohort_id=self.cohort_id or counters.NO_ID,
            unit_id=self.counted_unit_id or counters.NO_ID,
            group=self.counted_group or counters.NO_GROUP,
            enrolled_at=self.enrolled_at,
            started_at=self.started_at,
            completed_at=self.completed_at,
            late=bool(self.late),
            certified_at=self.certified_at,
            score=self.best_score_percent,
        )


_PROGRESS_FIELDS = tuple(Progress.__dataclass_fields__)


@dataclass(frozen=True)
class QuizRef:
    """A course's quiz as its quiz lessons link to it and its attempts are graded."""

    id: int
    slug: str
    title: str
    pass_percent: float


@dataclass(frozen=True)
class CoursePlan:
    """A course as the learning path needs it: its outline, its quizzes by slug and the quizzes to pass.

    The same for every learner of every portal, so kept in the content cache like the outline (a quiz edit
    bumps the content version too). Visibility is checked against the reader's portal on every use.
    """

    outline: CourseOutline
    quizzes: dict[str, QuizRef]
    required_quiz_ids: frozenset[int]

    @classmethod
    def of(cls, outline: CourseOutline, quizzes: list[QuizRef]) -> CoursePlan:
        """The quizzes to pass: those `completion.quizzes` names and those of required quiz lessons. A slug
        with no quiz behind it (a placeholder lesson of a course still being written) is not required."""
        by_slug = {q.slug: q for q in quizzes}
        slugs = set(outline.completion_quizzes)
        slugs |= {x.quiz_slug for x in outline.lessons if x.kind == "quiz" and x.required and x.quiz_slug}
        return cls(outline, by_slug, frozenset(by_slug[s].id for s in slugs if s in by_slug))

    def quiz_by_id(self, quiz_id: int) -> QuizRef | None:
        return next((q for q in self.quizzes.values() if q.id == quiz_id), None)

    def quiz(self, lesson: OutlineLesson | LessonSnapshot) -> QuizRef | None:
        """The quiz a quiz lesson opens, if it names one that exists (else the lesson is a placeholder)."""
        return self.quizzes.get(lesson.quiz_slug or "") if lesson.kind == "quiz" else None

    def dump(self) -> dict[str, Any]:
        return {
            "outline": self.outline.dump(),
            "quizzes": [q.__dict__ for q in self.quizzes.values()],
            "required_quiz_ids": sorted(self.required_quiz_ids),
        }

    @classmethod
    def load(cls, data: dict[str, Any]) -> CoursePlan:
        quizzes = {q["slug"]: QuizRef(**q) for q in data["quizzes"]}
        return cls(CourseOutline.load(data["outline"]), quizzes, frozenset(data["required_quiz_ids"]))


@dataclass(frozen=True)
class LessonView:
    """A lesson as its reader sees it: what the lesson page, its progress box and the lesson API show."""

    account: Account
    lesson: LessonSnapshot
    course: CourseOutline
    enrolment: Progress | None
    done: frozenset[int]
    previous: OutlineLesson | None
    next: OutlineLesson | None
    position: int
    count: int
    quiz: QuizRef | None
    content_version: Any = None  # of the cached content shown: keys page assembly (app/progress/pages.py)


# --- The store: one connection's transactions for one tenant -----------------------------------------------


class Store(Protocol):
    """Where the learning path reads and writes, for one tenant (`app/progress/runner.py` makes them)."""

    tenant_id: int
    readable: tuple[int, ...]  # whose content this portal reads: its own and the national portal's
    cache: Cache | None
    content_version: Any  # the cache's content version for this request (None: do not cache)
    content_ttl: float
    # Objects made from cached content, per versioned key (a bounded cache of the worker's), or None.
    parsed: MutableMapping[str, Any] | None

    def reading(self) -> AbstractContextManager[TenantConnection]:
        """A transaction that only reads."""
        ...

    def writing(self) -> AbstractContextManager[TenantConnection]:
        """A write transaction (on SQLite it holds the database's one write lock: keep it short)."""
        ...

    def content_session(self) -> AbstractContextManager[Session]:
        """An ORM session for the tenant, to load content the cache does not hold yet."""
        ...


def lesson(store: Store, lesson_id: int) -> LessonSnapshot:
    """The lesson (cached), if this portal may read it."""

    def load() -> dict[str, Any] | None:
        with store.content_session() as session:
            found = catalog_service.load_lesson_snapshot(session, lesson_id)
            return found.dump() if found is not None else None

    found = _content(store, catalog_service.lesson_key(lesson_id), load, LessonSnapshot.load)
    if found is None or found.tenant_id not in store.readable:
        raise NotFound(N_("Lesson not found."), code="lesson_not_found")
    return found  # type: ignore[no-any-return]


def course_plan(store: Store, course_id: int) -> CoursePlan:
    """The course's outline, quizzes and quizzes to pass (cached), if this portal may read it."""

    def load() -> dict[str, Any] | None:
        from app.quizzes import service as quizzes_service

        with store.content_session() as session:
            outline = catalog_service.load_course_outline(session, course_id)
            if outline is None:
                return None
            quizzes = [
                QuizRef(q.id, q.slug, q.title, q.pass_percent)
                for q in quizzes_service.course_quizzes(session, course_id)
            ]
        return CoursePlan.of(outline, quizzes).dump()

    found = _content(store, plan_key(course_id), load, CoursePlan.load)
    if found is None or found.outline.tenant_id not in store.readable:
        raise NotFound(N_("Course not found."), code="course_not_found")
    return found  # type: ignore[no-any-return]


def plan_key(course_id: int) -> str:
    return f"plan:{course_id}"


def _content(
    store: Store, key: str, load: Callable[[], dict[str, Any] | None], parse: Callable[[dict[str, Any]], Any]
) -> Any:
    """The content at `key` for this request's content version: the parsed object this worker made from it
    (`store.parsed`), else the cache's value, else loaded from the database (and cached)."""
    cache, version, parsed = store.cache, store.content_version, store.parsed
    full = None if cache is None or version is None else versioned_key(CONTENT, version, key)
    if full is not None and parsed is not None:
        found = parsed.get(full)
        if found is not None:
            return found
    value = cache.get(full) if cache is not None and full is not None else None
    if value is None:
        value = load()
        if value is None:
            return None
        if cache is not None and full is not None:
            cache.set(full, value, store.content_ttl)
    found = parse(value)
    if full is not None and parsed is not None:
        parsed[full] = found
    return found


# --- Statements -------------------------------------------------------------------------------------------

# What a request needs of the signed-in account: read with what the request is about.
ACCOUNT_COLUMNS = (
    _USER.c.id,
    _USER.c.roles,
    _USER.c.is_active,
    _USER.c.token_version,
    _USER.c.must_change_password,
)


def _learner_state(aggregate: Any) -> Any:
    """The account, its enrolment in the course and the lessons it completed: one round trip per request.
    The completed lessons come aggregated into one string, with the dialect's own aggregate."""
    done = (
        select(aggregate)
        .where(_PROGRESS.c.tenant_id == TENANT, _PROGRESS.c.enrolment_id == _ENROLMENT.c.id)
        .scalar_subquery()
    )
    return (
        select(*ACCOUNT_COLUMNS, *ENROLMENT_COLUMNS, done.label("done"))
        .select_from(
            _USER.outerjoin(
                _ENROLMENT,
                and_(
                    _ENROLMENT.c.tenant_id == TENANT,
                    _ENROLMENT.c.user_id == _USER.c.id,
                    _ENROLMENT.c.course_id == bindparam("course"),
                ),
            )
        )
        .where(_USER.c.tenant_id == TENANT, _USER.c.id == bindparam("user"))
    )


_SEPARATOR: Any = literal_column("','")
_LEARNER_STATE = scoped(
    {
        "sqlite": _learner_state(func.group_concat(_PROGRESS.c.lesson_id, _SEPARATOR)),
        "postgresql": _learner_state(func.string_agg(cast(_PROGRESS.c.lesson_id, Text), _SEPARATOR)),
    }
)
_ENROLMENT_ROW = scoped(
    select(*_ENROLMENT.c).where(_ENROLMENT.c.tenant_id == TENANT, _ENROLMENT.c.id == bindparam("enrolment"))
)
_DONE_LESSONS = scoped(
    select(_PROGRESS.c.lesson_id).where(
        _PROGRESS.c.tenant_id == TENANT, _PROGRESS.c.enrolment_id == bindparam("enrolment")
    )
)


def _enrolment_update(*conditions: Any) -> Any:
    return update(_ENROLMENT).where(
        _ENROLMENT.c.tenant_id == TENANT, _ENROLMENT.c.id == bindparam("enrolment"), *conditions
    )


def _returning(stmt: Any) -> Any:
    return scoped(stmt.returning(*_ENROLMENT.c))


def _progress_insert(dialect_insert: Any) -> Any:
    return (
        dialect_insert(_PROGRESS)
        .values(
            tenant_id=TENANT,
            enrolment_id=bindparam("enrolment"),
            lesson_id=bindparam("lesson"),
            completed_at=bindparam("now"),
        )
        .on_conflict_do_nothing()
        .returning(_PROGRESS.c.id)
    )


# The unique (tenant, enrolment, lesson) row decides whether this request counts the lesson.
_INSERT_PROGRESS = scoped(
    {"sqlite": _progress_insert(sqlite_insert), "postgresql": _progress_insert(pg_insert)}
)
_NEXT = _ENROLMENT.c.lessons_completed + 1
_COUNT_LESSON = _returning(
    _enrolment_update().values(
        lessons_completed=_NEXT,
        percent=case(
            (_ENROLMENT.c.completed_at.is_not(None), 100),
            (_ENROLMENT.c.lessons_total <= 0, 0),
            (_ENROLMENT.c.lessons_total <= _NEXT, 100),
            else_=_NEXT * 100 // _ENROLMENT.c.lessons_total,
        ),
        last_lesson_id=bindparam("lesson"),
    )
)
_MOVE = _returning(_enrolment_update().values(last_lesson_id=bindparam("lesson")))
# Exactly one request starts a course (a counted event for the reports), whatever the concurrency.
_START = _returning(_enrolment_update(_ENROLMENT.c.started_at.is_(None)).values(started_at=bindparam("now")))
_REBASE = _returning(
    _enrolment_update().values(
        lessons_total=bindparam("total"),
        lessons_completed=bindparam("completed"),
        percent=bindparam("percent"),
    )
)
_COMPLETE = _returning(
    _enrolment_update(_ENROLMENT.c.completed_at.is_(None)).values(
        completed_at=bindparam("now"), late=bindparam("late"), percent=100
    )
)
_CERTIFIED = _returning(
    _enrolment_update(_ENROLMENT.c.certified_at.is_(None)).values(certified_at=bindparam("now"))
)
_BEST_SCORE = _returning(
    _enrolment_update(
        (_ENROLMENT.c.best_score_percent.is_(None)) | (_ENROLMENT.c.best_score_percent < bindparam("score"))
    ).values(best_score_percent=bindparam("score"))
)
_PASSED_QUIZZES = scoped(
    select(_ATTEMPT.c.quiz_id)
    .where(
        _ATTEMPT.c.tenant_id == TENANT,
        _ATTEMPT.c.enrolment_id == bindparam("enrolment"),
        _ATTEMPT.c.passed.is_(True),
    )
    .distinct()
)
_COHORT_CLOSES = scoped(
    select(_COHORT.c.closes_on).where(_COHORT.c.tenant_id == TENANT, _COHORT.c.id == bindparam("cohort"))
)
_LEARNER_NAME = scoped(
    select(_USER.c.full_name, _USER.c.username).where(
        _USER.c.tenant_id == TENANT, _USER.c.id == bindparam("user")
    )
)
_CERTIFICATE_OF = scoped(
    select(_CERTIFICATE.c.code).where(
        _CERTIFICATE.c.tenant_id == TENANT, _CERTIFICATE.c.enrolment_id == bindparam("enrolment")
    )
)
_ISSUE = scoped(
    insert(_CERTIFICATE).values(
        tenant_id=TENANT,
        code=bindparam("code"),
        user_id=bindparam("user"),
        course_id=bindparam("course"),
        enrolment_id=bindparam("enrolment"),
        learner_name=bindparam("learner_name"),
        course_title=bindparam("course_title"),
        issued_at=bindparam("now"),
    )
)


# --- Reading ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LearnerState:
    account: Account
    enrolment: Progress | None
    done: frozenset[int]


def learner_state(db: TenantConnection, claims: TokenClaims, course_id: int) -> LearnerState:
    """The signed-in account (checked against the token), its enrolment in the course, the lessons it did."""
    row = db.first(_LEARNER_STATE, user=claims.user_id, course=course_id)
    account = signed_in(row, claims)
    assert row is not None
    enrolment = Progress.of(row, "e_") if row.e_id is not None else None
    done = frozenset(int(x) for x in row.done.split(",")) if row.done else frozenset()
    return LearnerState(account, enrolment, done)


def signed_in(row: Any, claims: TokenClaims) -> Account:
    """The account of a row that selected `ACCOUNT_COLUMNS` (None: no such account), held to the sign-in
    rules (`app/accounts/signedin.py`)."""
    account = None
    if row is not None:
        account = Account(
            row.id, tuple(row.roles or ()), row.is_active, row.token_version, row.must_change_password
        )
    check_account(account, claims)
    assert account is not None
    check_password_current(account)
    return account


def _readable_course(plan: CoursePlan, account: Account, tenant_id: int) -> None:
    """A draft is shown to its own portal's staff only: to anyone else it does not exist."""
    course = plan.outline
    if not course.is_published and not (is_staff(account) and course.tenant_id == tenant_id):
        raise NotFound(N_("Lesson not found."), code="lesson_not_found")


def _enrolled(state: LearnerState) -> Progress | None:
    if state.enrolment is None and not is_staff(state.account):
        raise Forbidden(N_("Enrol in the course to open its lessons."), code="not_enrolled")
    return state.enrolment


def _place(
    course: CourseOutline, lesson_id: int
) -> tuple[OutlineLesson | None, OutlineLesson | None, int, int]:
    """The lessons before and after this one, its number and how many there are."""
    lessons = course.lessons
    index = next(i for i, x in enumerate(lessons) if x.id == lesson_id)
    previous = lessons[index - 1] if index > 0 else None
    following = lessons[index + 1] if index + 1 < len(lessons) else None
    return previous, following, index + 1, len(lessons)


def _view(
    store: Store,
    state: LearnerState,
    snapshot: LessonSnapshot,
    plan: CoursePlan,
    enrolment: Progress | None,
    done: frozenset[int],
) -> LessonView:
    content_version = store.content_version
    previous, following, position, count = _place(plan.outline, snapshot.id)
    return LessonView(
        account=state.account,
        lesson=snapshot,
        course=plan.outline,
        enrolment=enrolment,
        done=done,
        previous=previous,
        next=following,
        position=position,
        count=count,
        quiz=plan.quiz(snapshot),
        content_version=content_version,
    )


class VisitBuffer(Protocol):
    """Where Continue resumes from, written in batches (`app/progress/visits.py`); optional."""

    def record(self, tenant_id: int, enrolment_id: int, lesson_id: int) -> None: ...

    def forget(self, tenant_id: int, enrolment_id: int) -> None: ...


def open_lesson(
    store: Store,
    claims: TokenClaims,
    lesson_id: int,
    *,
    visits: VisitBuffer | None = None,
    now: dt.datetime | None = None,
) -> LessonView:
    """A lesson as its reader may see it: enrolled learners, or staff; never another portal's or a draft.

    Opening a lesson moves where Continue resumes; the first lesson opened starts the course (a counted event,
    written at once). With a `visits` buffer the other moves are written in batches.
    """
    snapshot = lesson(store, lesson_id)
    plan = course_plan(store, snapshot.course_id)
    with store.reading() as db:
        state = learner_state(db, claims, plan.outline.id)
    _readable_course(plan, state.account, store.tenant_id)
    enrolment = _enrolled(state)
    if enrolment is None:
        return _view(store, state, snapshot, plan, None, state.done)
    if enrolment.lessons_total != plan.outline.required_lessons or enrolment.started_at is None:
        with store.writing() as db:
            enrolment = _rebase(db, enrolment, plan, state.done)
            enrolment = _start(db, enrolment, now or core_db.utcnow())
            enrolment = _progress(db.first(_MOVE, enrolment=enrolment.id, lesson=snapshot.id)) or enrolment
        if visits is not None:
            visits.forget(store.tenant_id, enrolment.id)
    elif enrolment.last_lesson_id != snapshot.id:
        if visits is not None:
            visits.record(store.tenant_id, enrolment.id, snapshot.id)
        else:
            with store.writing() as db:
                enrolment = (
                    _progress(db.first(_MOVE, enrolment=enrolment.id, lesson=snapshot.id)) or enrolment
                )
    return _view(store, state, snapshot, plan, enrolment, state.done)


def _progress(row: Any) -> Progress | None:
    return Progress.of(row) if row is not None else None


def _rebase(db: TenantConnection, enrolment: Progress, plan: CoursePlan, done: frozenset[int]) -> Progress:
    """The course's required lessons changed since the enrolment's figures were counted: count again."""
    total = plan.outline.required_lessons
    if enrolment.lessons_total == total:
        return enrolment
    required = {x.id for x in plan.outline.lessons if x.required}
    completed = len(done & required)
    percent = 100 if enrolment.completed_at else percent_of(completed, total)
    return (
        _progress(
            db.first(_REBASE, enrolment=enrolment.id, total=total, completed=completed, percent=percent)
        )
        or enrolment
    )


def _start(db: TenantConnection, enrolment: Progress, now: dt.datetime) -> Progress:
    if enrolment.started_at is not None:
        return enrolment
    started = _progress(db.first(_START, enrolment=enrolment.id, now=now))
    if started is None:  # another request started it first and counted it
        return _progress(db.first(_ENROLMENT_ROW, enrolment=enrolment.id)) or enrolment
    _count_change(db, enrolment, started)
    return started


def percent_of(done: int, total: int) -> int:
    return min(100, done * 100 // total) if total > 0 else 0


# --- Completing ---------------------------------------------------------------------------------------------


def complete_lesson(
    store: Store,
    claims: TokenClaims,
    lesson_id: int,
    *,
    visits: VisitBuffer | None = None,
    now: dt.datetime | None = None,
) -> LessonView:
    """Mark a lesson complete for its enrolled learner (idempotent: a second time changes nothing).

    A quiz lesson whose quiz exists is completed by passing the quiz, not by hand. The last required lesson
    completes the course (and issues its certificate) in the same transaction.
    """
    snapshot = lesson(store, lesson_id)
    plan = course_plan(store, snapshot.course_id)
    with store.reading() as db:
        state = learner_state(db, claims, plan.outline.id)
    _readable_course(plan, state.account, store.tenant_id)
    if state.enrolment is None:
        raise Forbidden(N_("Enrol in the course to open its lessons."), code="not_enrolled")
    if plan.quiz(snapshot) is not None:
        raise Forbidden(N_("Pass the quiz to complete this lesson."), code="quiz_required")
    with store.writing() as db:
        enrolment = _rebase(db, state.enrolment, plan, state.done)
        enrolment, _ = record_completion(db, enrolment, snapshot, plan, now or core_db.utcnow())
    if visits is not None:
        visits.forget(store.tenant_id, enrolment.id)
    return _view(store, state, snapshot, plan, enrolment, state.done | {snapshot.id})


def record_completion(
    db: TenantConnection,
    enrolment: Progress,
    lesson_: LessonSnapshot | OutlineLesson,
    plan: CoursePlan,
    now: dt.datetime,
) -> tuple[Progress, bool]:
    """Count a completed lesson once, start the course if it was not, and complete the course if this was
    what it still needed. Inside the caller's write transaction. Returns the figures after it and whether this
    call counted the lesson (False: it was already complete)."""
    if lesson_.id not in {x.id for x in plan.outline.lessons}:
        raise NotFound(N_("Lesson not found."), code="lesson_not_found")
    # A row comes back only when this call inserted it (the unique row decides, whatever the concurrency).
    counted = db.first(_INSERT_PROGRESS, enrolment=enrolment.id, lesson=lesson_.id, now=now) is not None
    enrolment = _start(db, enrolment, now)
    statement = _COUNT_LESSON if counted and lesson_.required else _MOVE
    enrolment = _progress(db.first(statement, enrolment=enrolment.id, lesson=lesson_.id)) or enrolment
    return complete_course_if_done(db, enrolment, plan, now), counted


def complete_course_if_done(
    db: TenantConnection, enrolment: Progress, plan: CoursePlan, now: dt.datetime
) -> Progress:
    """Complete the course when every required lesson is complete and every required quiz passed.

    The one place that decides completion. Once per enrolment (a conditional UPDATE), late if after the
    cohort closed; issues the certificate when the course gives one.
    """
    if enrolment.completed_at is not None or enrolment.lessons_completed < enrolment.lessons_total:
        return enrolment
    required = plan.required_quiz_ids
    if enrolment.lessons_total <= 0 and not required:
        return enrolment
    if required and not required <= {r.quiz_id for r in db.rows(_PASSED_QUIZZES, enrolment=enrolment.id)}:
        return enrolment
    completed = _progress(
        db.first(_COMPLETE, enrolment=enrolment.id, now=now, late=_late(db, enrolment, now))
    )
    if completed is None:  # completed concurrently: that request counted it
        return _progress(db.first(_ENROLMENT_ROW, enrolment=enrolment.id)) or enrolment
    if plan.outline.certificate:
        completed = issue_certificate(db, completed, plan.outline, now)
    _count_change(db, enrolment, completed)
    return completed


def _late(db: TenantConnection, enrolment: Progress, now: dt.datetime) -> bool:
    if enrolment.cohort_id is None:
        return False
    closes_on = db.scalar(_COHORT_CLOSES, cohort=enrolment.cohort_id)
    return bool(closes_on and local_today(now) > closes_on)


def local_today(now: dt.datetime | None = None) -> dt.date:
    return (now or core_db.utcnow()).astimezone(VN_TZ).date()


_CODE_TRIES = 5


def issue_certificate(
    db: TenantConnection, enrolment: Progress, course: CourseOutline, now: dt.datetime
) -> Progress:
    """The enrolment's certificate, issued now (once), with the learner's name and the course's title as
    they are today; sets `certified_at`."""
    if db.scalar(_CERTIFICATE_OF, enrolment=enrolment.id) is not None:
        return enrolment
    who = db.first(_LEARNER_NAME, user=enrolment.user_id)
    name = nfc((who.full_name or who.username) if who is not None else "")
    for _ in range(_CODE_TRIES):
        try:
            with db.connection.begin_nested():
                db.run(
                    _ISSUE,
                    code=new_certificate_code(),
                    user=enrolment.user_id,
                    course=course.id,
                    enrolment=enrolment.id,
                    learner_name=name,
                    course_title=course.title,
                    now=now,
                )
        except IntegrityError:
            if db.scalar(_CERTIFICATE_OF, enrolment=enrolment.id) is not None:
                return enrolment  # issued concurrently
            continue  # the vanishing chance of a code collision: draw another
        return _progress(db.first(_CERTIFIED, enrolment=enrolment.id, now=now)) or enrolment
    raise RuntimeError("could not draw a free certificate code")


def record_quiz_result(
    db: TenantConnection,
    enrolment: Progress,
    quiz_id: int,
    percent: float,
    passed: bool,
    plan: CoursePlan,
    now: dt.datetime,
) -> Progress:
    """A graded attempt: keep the best score of a required quiz; a pass completes the quiz's lessons and maybe
    the course. Inside the caller's write transaction (the one that claimed the attempt)."""
    if quiz_id in plan.required_quiz_ids:
        better = _progress(db.first(_BEST_SCORE, enrolment=enrolment.id, score=percent))
        if better is not None:
            _count_change(db, enrolment, better)
            enrolment = better
    if not passed:
        return enrolment
    for x in plan.outline.lessons:
        quiz = plan.quiz(x)
        if quiz is not None and quiz.id == quiz_id:
            enrolment, _ = record_completion(db, enrolment, x, plan, now)
    return complete_course_if_done(db, enrolment, plan, now)


def _count_change(db: TenantConnection, before: Progress, after: Progress) -> None:
    """Move the report counters by what this change did to the enrolment (they are not ORM-tracked here)."""
    delta = counters.Delta()
    delta.add(before.counted(), -1)
    delta.add(after.counted(), +1)
    if not delta.empty():
        counters.apply(db.connection, delta)


def done_lessons(db: TenantConnection, enrolment_id: int) -> frozenset[int]:
    return frozenset(r.lesson_id for r in db.rows(_DONE_LESSONS, enrolment=enrolment_id))


def enrolment_row(db: TenantConnection, enrolment_id: int) -> Progress | None:
    return _progress(db.first(_ENROLMENT_ROW, enrolment=enrolment_id))


__all__ = [
    "CoursePlan",
    "LearnerState",
    "LessonView",
    "Progress",
    "Store",
    "complete_course_if_done",
    "complete_lesson",
    "course_plan",
    "lesson",
    "open_lesson",
    "record_completion",
    "record_quiz_result",
]
