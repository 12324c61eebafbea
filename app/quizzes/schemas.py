"""API shapes for quizzes and attempts (SPEC §9: attempt, submit body, submit result)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

MAX_ANSWERS = 2000

# An answer: the chosen option ids, the typed text of a short-answer or numerical question, or, for a matching
# question, the chosen option id per prompt id ({"1": "b", "2": "a"}).
Answer = list[str] | str | dict[str, str]


class OptionRead(BaseModel):
    id: str
    text: str


class PromptRead(BaseModel):
    id: str
    text: str


class QuestionRead(BaseModel):
    """A question as a learner sees it before submitting: nothing tells a right option from a wrong one."""

    id: str
    kind: str
    text: str
    # How `text`, the options' and the prompts' texts are written: "markdown" or "html" (show it sanitised).
    format: str = "markdown"
    points: int = 1
    options: list[OptionRead]
    # A matching question's prompts: answer with {prompt id: option id}.
    prompts: list[PromptRead] = []


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
    score: float | None = None
    max_score: int | None = None
    percent: float | None = None
    passed: bool | None = None


class AnswersBody(BaseModel):
    # One answer per question, and far fewer questions than this in any attempt (a short answer is then cut to
    # its limit, an option list to the options there are, by service.clean_answers).
    answers: dict[str, Answer] = Field(default_factory=dict, max_length=MAX_ANSWERS)


class SubmitResult(BaseModel):
    score: float
    max_score: int
    percent: float
    passed: bool
    certificate_code: str | None


class ReviewQuestion(BaseModel):
    id: str
    kind: str
    text: str
    format: str = "markdown"
    # Each option with "correct", and its "weight" (percent) and "feedback" when it has them.
    options: list[dict[str, object]]
    accepted_answers: list[str]
    # Every answer the server compared with (short, numerical: "text", "weight", "feedback", "tolerance";
    # matching: the prompts with the "option" that answers each).
    answers: list[dict[str, object]] = []
    explanation: str
    answer: Answer | None
    correct: bool
    # The share of the question's points earned (partial credit: between 0 and 1; negative: a penalty).
    fraction: float = 0.0
    # The feedback the learner's answer earned (the chosen options', or the matching answer's).
    feedback: list[str] = []


class AttemptReview(BaseModel):
    id: int
    quiz_id: int
    score: float
    max_score: int
    percent: float
    passed: bool
    questions: list[ReviewQuestion]
