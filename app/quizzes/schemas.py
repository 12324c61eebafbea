"""API shapes for quizzes and attempts (SPEC §9: attempt, submit body, submit result)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

MAX_ANSWERS = 2000

# An answer: the chosen option ids, or the typed text of a short-answer question.
Answer = list[str] | str


class OptionRead(BaseModel):
    id: str
    text: str


class QuestionRead(BaseModel):
    """A question as a learner sees it before submitting: nothing tells a right option from a wrong one."""

    id: str
    kind: str
    text: str
    points: int = 1
    options: list[OptionRead]


class QuizRead(BaseModel):
    id: int
    slug: str
    title: str
    course_slug: str
    pass_percent: float
    time_limit_minutes: int | None
    max_attempts: int | None
    questions_per_attempt: int
    attempts_used: int
    passed: bool


class AttemptRead(BaseModel):
    id: int
    quiz_id: int
    number: int
    status: str
    started_at: dt.datetime
    deadline: dt.datetime | None
    submitted_at: dt.datetime | None = None
    questions: list[QuestionRead]
    # Answers saved so far (autosave), so a reloaded page can fill the form in again.
    answers: dict[str, Answer] = {}
    score: int | None = None
    max_score: int | None = None
    percent: float | None = None
    passed: bool | None = None


class AnswersBody(BaseModel):
    # One answer per question, and far fewer questions than this in any attempt (a short answer is then cut to
    # its limit, an option list to the options there are, by service.clean_answers).
    answers: dict[str, Answer] = Field(default_factory=dict, max_length=MAX_ANSWERS)


class SubmitResult(BaseModel):
    score: int
    max_score: int
    percent: float
    passed: bool
    certificate_code: str | None


class ReviewQuestion(BaseModel):
    id: str
    kind: str
    text: str
    options: list[dict[str, object]]
    accepted_answers: list[str]
    explanation: str
    answer: Answer | None
    correct: bool


class AttemptReview(BaseModel):
    id: int
    quiz_id: int
    score: int
    max_score: int
    percent: float
    passed: bool
    questions: list[ReviewQuestion]
