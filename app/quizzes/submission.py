"""Grading an attempt, once: the one implementation of quiz submission and of an attempt that ran out of time.

Submission is the write that bursts before every deadline, so it costs what lesson completion costs: one read
(the account, the attempt, its enrolment and certificate, in one statement), grading in memory (microseconds),
then one short write transaction — the claim (`UPDATE … WHERE submitted_at IS NULL`: only one request grades),
the best score, the quiz's lessons, the course's completion and certificate (`app/progress/learning.py`) and
the report counters. The API route runs it where it costs least (`app/progress/runner.py`); the ORM service
(`service.submit_attempt`, `finish_expired`) runs the same functions inside the caller's transaction.

Time limits (server side): answers submitted until the deadline plus the grace period count, dated at most at
the deadline; later, the attempt is graded as of the deadline with the answers autosaved before it
(`TIMED_OUT`). A second or concurrent submission gets the stored result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, select, update

from app.certificates.models import Certificate
from app.core import db as core_db  # its `utcnow` read at call time: tests move the clock
from app.core.errors import N_, NotFound
from app.core.security import TokenClaims
from app.progress import learning
from app.progress.learning import ACCOUNT_COLUMNS, ENROLMENT_COLUMNS, CoursePlan, Progress, Store
from app.progress.models import Enrolment
from app.quizzes.bank import Question
from app.quizzes.grading import GradeResult, clean_answers, grade, question_from_json
from app.quizzes.models import SUBMITTED, TIMED_OUT, QuizAttempt
from app.tenancy.statements import TENANT, TenantConnection, scoped, table_of

_USER_ID = ACCOUNT_COLUMNS[0]
_ATTEMPT, _ENROLMENT, _CERTIFICATE = table_of(QuizAttempt), table_of(Enrolment), table_of(Certificate)


@dataclass(frozen=True)
class AttemptRow:
    """An attempt as stored."""

    id: int
    user_id: int
    enrolment_id: int
    quiz_id: int
    questions: list[dict[str, Any]]
    answers: dict[str, Any]
    status: str
    deadline: dt.datetime | None
    submitted_at: dt.datetime | None
    score: float | None
    max_score: int | None
    percent: float | None
    passed: bool | None

    @property
    def is_active(self) -> bool:
        return self.submitted_at is None

    @classmethod
    def of(cls, row: Any, prefix: str = "") -> AttemptRow:
        return cls(**{name: getattr(row, prefix + name) for name in _ATTEMPT_FIELDS})


_ATTEMPT_FIELDS = tuple(AttemptRow.__dataclass_fields__)


@dataclass
class AttemptResult:
    score: float
    max_score: int
    percent: float
    passed: bool
    certificate_code: str | None


@dataclass(frozen=True)
class Finish:
    """How an active attempt ends: the answers graded, its status, when it counts as submitted, the grade."""

    answers: dict[str, Any]
    status: str
    submitted_at: dt.datetime
    result: GradeResult


_CERTIFICATE_CODE = (
    select(_CERTIFICATE.c.code)
    .where(_CERTIFICATE.c.tenant_id == TENANT, _CERTIFICATE.c.enrolment_id == _ENROLMENT.c.id)
    .scalar_subquery()
)
_SUBMISSION_STATE = scoped(
    select(
        *ACCOUNT_COLUMNS,
        *(c.label(f"a_{c.name}") for c in _ATTEMPT.c if c.name in _ATTEMPT_FIELDS),
        *ENROLMENT_COLUMNS,
        _CERTIFICATE_CODE.label("certificate_code"),
    )
    .select_from(
        ACCOUNT_COLUMNS[0]
        .table.outerjoin(
            _ATTEMPT,
            and_(
                _ATTEMPT.c.tenant_id == TENANT,
                _ATTEMPT.c.id == bindparam("attempt"),
                _ATTEMPT.c.user_id == _USER_ID,
            ),
        )
        .outerjoin(
            _ENROLMENT, and_(_ENROLMENT.c.tenant_id == TENANT, _ENROLMENT.c.id == _ATTEMPT.c.enrolment_id)
        )
    )
    .where(ACCOUNT_COLUMNS[0].table.c.tenant_id == TENANT, bindparam("user") == _USER_ID)
)
# Only the request whose UPDATE matches the still-active row grades the attempt.
_CLAIM = scoped(
    update(_ATTEMPT)
    .where(
        _ATTEMPT.c.tenant_id == TENANT,
        _ATTEMPT.c.id == bindparam("attempt"),
        _ATTEMPT.c.submitted_at.is_(None),
    )
    .values(
        answers=bindparam("answers", type_=_ATTEMPT.c.answers.type),
        status=bindparam("status"),
        submitted_at=bindparam("submitted_at", type_=_ATTEMPT.c.submitted_at.type),
        score=bindparam("score"),
        max_score=bindparam("max_score"),
        percent=bindparam("percent"),
        passed=bindparam("passed"),
    )
    .returning(_ATTEMPT.c.id)
)
_ATTEMPT_ROW = scoped(
    select(*_ATTEMPT.c).where(_ATTEMPT.c.tenant_id == TENANT, _ATTEMPT.c.id == bindparam("attempt"))
)
_CODE_OF = scoped(
    select(_CERTIFICATE.c.code).where(
        _CERTIFICATE.c.tenant_id == TENANT, _CERTIFICATE.c.enrolment_id == bindparam("enrolment")
    )
)


def late(deadline: dt.datetime | None, now: dt.datetime, grace: dt.timedelta) -> bool:
    return deadline is not None and now > deadline + grace


def questions_of(attempt: AttemptRow) -> list[Question]:
    return [question_from_json(q) for q in attempt.questions]


def how_it_ends(
    attempt: AttemptRow,
    raw: Mapping[str, Any] | None,
    pass_percent: float,
    now: dt.datetime,
    grace: dt.timedelta,
) -> Finish:
    """Grade an active attempt as the time rules say (in memory: nothing is written here)."""
    questions = questions_of(attempt)
    if late(attempt.deadline, now, grace):
        assert attempt.deadline is not None
        answers, status, submitted_at = dict(attempt.answers or {}), TIMED_OUT, attempt.deadline
    else:
        answers, status = clean_answers(questions, raw), SUBMITTED
        submitted_at = min(now, attempt.deadline) if attempt.deadline else now
    return Finish(answers, status, submitted_at, grade(questions, answers, pass_percent=pass_percent))


def record(
    db: TenantConnection,
    attempt: AttemptRow,
    finish: Finish,
    enrolment: Progress,
    plan: CoursePlan,
    now: dt.datetime,
) -> bool:
    """Claim the attempt and apply its grade (best score, the quiz's lessons, the course); True when this call
    graded it (the loser of a race gets False and changes nothing). Inside the caller's write transaction."""
    result = finish.result
    claimed = db.first(
        _CLAIM,
        attempt=attempt.id,
        answers=finish.answers,
        status=finish.status,
        submitted_at=finish.submitted_at,
        score=result.score,
        max_score=result.max_score,
        percent=result.percent,
        passed=result.passed,
    )
    if claimed is None:
        return False
    learning.record_quiz_result(db, enrolment, attempt.quiz_id, result.percent, result.passed, plan, now)
    return True


def _quiz_plan(store: Store, enrolment: Progress, quiz_id: int) -> tuple[CoursePlan, float]:
    plan = learning.course_plan(store, enrolment.course_id)
    quiz = plan.quiz_by_id(quiz_id)
    if quiz is None:
        raise NotFound(N_("Quiz not found."), code="quiz_not_found")
    return plan, quiz.pass_percent


def submit(
    store: Store,
    claims: TokenClaims,
    attempt_id: int,
    raw: Mapping[str, Any] | None,
    *,
    grace: dt.timedelta,
    now: dt.datetime | None = None,
) -> AttemptResult:
    """Submit the signed-in learner's attempt: graded once; submitting again answers the stored result."""
    now = now or core_db.utcnow()
    with store.reading() as db:
        row = db.first(_SUBMISSION_STATE, user=claims.user_id, attempt=attempt_id)
    learning.signed_in(row, claims)
    assert row is not None
    if row.a_id is None or row.e_id is None:
        raise NotFound(N_("Attempt not found."), code="attempt_not_found")
    attempt, enrolment = AttemptRow.of(row, "a_"), Progress.of(row, "e_")
    if not attempt.is_active:
        return _stored(attempt, row.certificate_code)
    plan, pass_percent = _quiz_plan(store, enrolment, attempt.quiz_id)
    finish = how_it_ends(attempt, raw, pass_percent, now, grace)
    with store.writing() as db:
        graded = record(db, attempt, finish, enrolment, plan, now)
        if not graded:  # another request graded it first: its result stands
            attempt = AttemptRow.of(db.first(_ATTEMPT_ROW, attempt=attempt.id))
        code = (
            db.scalar(_CODE_OF, enrolment=enrolment.id)
            if (graded and finish.result.passed)
            else row.certificate_code
        )
    if not graded:
        return _stored(attempt, code)
    result = finish.result
    return AttemptResult(result.score, result.max_score, result.percent, result.passed, code)


def _stored(attempt: AttemptRow, code: str | None) -> AttemptResult:
    return AttemptResult(
        score=attempt.score or 0,
        max_score=attempt.max_score or 0,
        percent=attempt.percent or 0.0,
        passed=bool(attempt.passed),
        certificate_code=code,
    )


def finish_in(
    db: TenantConnection,
    store: Store,
    attempt: AttemptRow,
    raw: Mapping[str, Any] | None,
    *,
    grace: dt.timedelta,
    now: dt.datetime,
) -> bool:
    """Grade an active attempt inside the caller's write transaction (the ORM service's entry)."""
    enrolment = learning.enrolment_row(db, attempt.enrolment_id)
    if enrolment is None:
        raise NotFound(N_("Attempt not found."), code="attempt_not_found")
    plan, pass_percent = _quiz_plan(store, enrolment, attempt.quiz_id)
    return record(db, attempt, how_it_ends(attempt, raw, pass_percent, now, grace), enrolment, plan, now)
