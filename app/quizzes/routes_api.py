"""Quiz API: read a quiz, start an attempt, autosave answers, submit, review."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request, Response

from app.accounts.deps import ApiUser
from app.catalog import service as catalog_service
from app.core.deps import AppSettings, DbSession
from app.core.errors import N_, Forbidden
from app.quizzes import handlers, service
from app.quizzes.grading import answer_data, option_data, public_question
from app.quizzes.models import QuizAttempt
from app.quizzes.schemas import (
    AnswersBody,
    AttemptRead,
    AttemptReview,
    QuestionRead,
    QuizRead,
    ReviewQuestion,
    SubmitResult,
)

router = APIRouter(prefix="/api/v1", tags=["quizzes"])


def grace(settings: AppSettings) -> dt.timedelta:
    return dt.timedelta(seconds=settings.quiz_grace_seconds)


def attempt_read(attempt: QuizAttempt) -> AttemptRead:
    return AttemptRead(
        id=attempt.id,
        quiz_id=attempt.quiz_id,
        number=attempt.number,
        status=attempt.status,
        started_at=attempt.started_at,
        deadline=attempt.deadline,
        submitted_at=attempt.submitted_at,
        questions=[QuestionRead(**public_question(q)) for q in service.attempt_questions(attempt)],
        answers=attempt.answers or {},
        score=attempt.score,
        max_score=attempt.max_score,
        percent=attempt.percent,
        passed=attempt.passed,
    )


@router.get("/quizzes/{quiz_id}", response_model=QuizRead, name="api:quiz")
def get_quiz(quiz_id: int, session: DbSession, user: ApiUser) -> QuizRead:
    quiz = service.get_quiz(session, quiz_id)
    course = catalog_service.get_course_by_id(session, quiz.course_id)
    attempts = service.list_attempts(session, user, quiz)
    return QuizRead(
        id=quiz.id,
        slug=quiz.slug,
        title=quiz.title,
        course_slug=course.slug,
        pass_percent=quiz.pass_percent,
        time_limit_minutes=quiz.time_limit_minutes,
        max_attempts=quiz.max_attempts,
        questions_per_attempt=service.definition_of(quiz).questions_per_attempt if quiz.questions else 0,
        attempts_used=len(attempts),
        passed=any(a.passed for a in attempts),
    )


@router.post("/quizzes/{quiz_id}/attempts", response_model=AttemptRead, name="api:attempt_start")
def start_attempt(
    quiz_id: int, session: DbSession, user: ApiUser, settings: AppSettings, response: Response
) -> AttemptRead:
    """Start an attempt (201), or get the active one back (200). The questions carry no answers."""
    quiz = service.get_quiz(session, quiz_id)
    attempt, created = service.start_attempt(session, user, quiz, grace=grace(settings))
    response.status_code = 201 if created else 200
    return attempt_read(attempt)


@router.get("/attempts/{attempt_id}", response_model=AttemptRead, name="api:attempt")
def get_attempt(attempt_id: int, session: DbSession, user: ApiUser, settings: AppSettings) -> AttemptRead:
    attempt = service.get_attempt(session, user, attempt_id)
    service.refresh_if_expired(session, attempt, grace=grace(settings))
    return attempt_read(attempt)


@router.put("/attempts/{attempt_id}/answers", response_model=AttemptRead, name="api:attempt_save")
def save_answers(
    attempt_id: int, body: AnswersBody, session: DbSession, user: ApiUser, settings: AppSettings
) -> AttemptRead:
    """Autosave: store answers of an active attempt; a late attempt is graded with what was saved."""
    attempt = service.get_attempt(session, user, attempt_id)
    service.save_answers(session, attempt, body.answers, grace=grace(settings))
    return attempt_read(attempt)


@router.post("/attempts/{attempt_id}/submit", response_model=SubmitResult, name="api:attempt_submit")
async def submit(request: Request, attempt_id: int, body: AnswersBody) -> Response:
    """Grade the attempt (once: submitting again returns the same result)."""
    return await handlers.submit_api(request, attempt_id, body.answers)


@router.get("/attempts/{attempt_id}/review", response_model=AttemptReview, name="api:attempt_review")
def get_review(attempt_id: int, session: DbSession, user: ApiUser, settings: AppSettings) -> AttemptReview:
    """The right answers and explanations, after submission, when the quiz shows its review."""
    attempt = service.get_attempt(session, user, attempt_id)
    service.refresh_if_expired(session, attempt, grace=grace(settings))
    quiz = service.get_quiz(session, attempt.quiz_id)
    if not quiz.show_review:
        raise Forbidden(N_("This quiz does not show its answers."), code="review_hidden")
    items = service.review(attempt)
    return AttemptReview(
        id=attempt.id,
        quiz_id=attempt.quiz_id,
        score=attempt.score or 0,
        max_score=attempt.max_score or 0,
        percent=attempt.percent or 0.0,
        passed=bool(attempt.passed),
        questions=[
            ReviewQuestion(
                id=item.question.id,
                kind=item.question.kind,
                text=item.question.text,
                format=item.question.format,
                options=[option_data(o) for o in item.question.options],
                accepted_answers=list(item.question.accepted),
                answers=[answer_data(a) for a in item.question.answers],
                explanation=item.question.explanation,
                answer=item.answer,
                correct=item.correct,
                fraction=round(item.fraction, 4),
                feedback=item.feedback,
            )
            for item in items
        ],
    )
