"""Quiz pages: the quiz page, the attempt form (works without JavaScript), the result; the editor."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Form, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from app.accounts.deps import PageStaff, PageUser
from app.accounts.models import User
from app.catalog import service as catalog_service
from app.core.bodylimit import accepts_upload
from app.core.db import begin_write
from app.core.deps import AppSettings, DbSession, manual_write
from app.core.errors import N_, DomainError, Invalid
from app.core.numbers import MAX_INT64, parse_int
from app.core.web import error_text, html_router, redirect_to, render
from app.progress import service as progress_service
from app.quizzes import presenters, service
from app.quizzes.constants import EDITOR_KINDS, MAX_OPTIONS, QUESTION_KINDS
from app.quizzes.grading import prompts_of
from app.quizzes.models import Quiz, QuizAttempt, QuizQuestion
from app.tenancy.deps import CurrentTenant

router = html_router()

EDITOR_OPTION_ROWS = 6


def _grace(settings: Any) -> dt.timedelta:
    return dt.timedelta(seconds=settings.quiz_grace_seconds)


# --- learner ------------------------------------------------------------------------------------------------


@router.get("/quizzes/{quiz_id}", name="quizzes:detail")
def quiz_page(
    request: Request,
    quiz_id: int,
    session: DbSession,
    tenant: CurrentTenant,
    user: PageUser,
    settings: AppSettings,
) -> Response:
    quiz = service.get_quiz(session, quiz_id)
    course = catalog_service.get_course_by_id(session, quiz.course_id)
    active = service.active_attempt(session, user, quiz)
    if active is not None:
        service.refresh_if_expired(session, active, grace=_grace(settings))
    attempts = service.list_attempts(session, user, quiz)
    active = next((a for a in attempts if a.is_active), None)
    used = len(attempts)
    context = {
        "quiz": quiz,
        "course": course,
        "attempts": attempts,
        "active": active,
        "passed": any(a.passed for a in attempts),
        "per_attempt": service.definition_of(quiz).questions_per_attempt if quiz.questions else 0,
        "left": None if quiz.max_attempts is None else max(0, quiz.max_attempts - used),
        "enrolled": progress_service.get_enrolment(session, user.id, course.id) is not None,
        "can_edit": catalog_service.is_staff(user) and quiz.tenant_id == tenant.id,
    }
    return render(request, "quizzes/quiz.html", context)


@router.post("/quizzes/{quiz_id}/start", name="quizzes:start")
def start(
    request: Request,
    quiz_id: int,
    session: DbSession,
    tenant: CurrentTenant,
    user: PageUser,
    settings: AppSettings,
) -> Response:
    quiz = service.get_quiz(session, quiz_id)
    attempt, _ = service.start_attempt(session, user, quiz, grace=_grace(settings))
    return redirect_to(request, "quizzes:attempt", attempt_id=attempt.id)


def _attempt_context(session: Any, user: User, attempt: QuizAttempt) -> dict[str, Any]:
    quiz = service.get_quiz(session, attempt.quiz_id)
    context: dict[str, Any] = {"attempt": attempt, "quiz": quiz}
    if attempt.is_active:
        context["questions"] = [presenters.attempt_question(q) for q in service.attempt_questions(attempt)]
        context["saved"] = attempt.answers or {}
    else:
        result = service.attempt_result(session, attempt)
        context["result"] = result
        context["review"] = (
            [presenters.review_question(item) for item in service.review(attempt)]
            if quiz.show_review
            else None
        )
        attempts = service.list_attempts(session, user, quiz)
        context["can_retry"] = not any(a.passed for a in attempts) and (
            quiz.max_attempts is None or len(attempts) < quiz.max_attempts
        )
    return context


@router.get("/attempts/{attempt_id}", name="quizzes:attempt")
def attempt_page(
    request: Request,
    attempt_id: int,
    session: DbSession,
    tenant: CurrentTenant,
    user: PageUser,
    settings: AppSettings,
) -> Response:
    attempt = service.get_attempt(session, user, attempt_id)
    service.refresh_if_expired(session, attempt, grace=_grace(settings))
    template = "quizzes/attempt.html" if attempt.is_active else "quizzes/result.html"
    return render(request, template, _attempt_context(session, user, attempt))


def answers_from_form(attempt: QuizAttempt, form: FormData) -> dict[str, Any]:
    """Form fields `q-<question id>` (radio, checkboxes or a text box; `q-<question id>-<prompt id>` for a
    matching question's lists) → the API's answers mapping."""
    answers: dict[str, Any] = {}
    for q in service.attempt_questions(attempt):
        if q.kind == "matching":
            chosen = {str(i): form.get(f"q-{q.id}-{i}") for i in range(1, len(prompts_of(q)) + 1)}
            matched = {key: value for key, value in chosen.items() if isinstance(value, str) and value}
            if matched:
                answers[q.id] = matched
            continue
        values = [v for v in form.getlist(f"q-{q.id}") if isinstance(v, str)]
        if not values:
            continue
        answers[q.id] = values[0] if q.kind in ("short", "numerical") else values
    return answers


@router.post("/attempts/{attempt_id}/submit", name="quizzes:submit")
@manual_write  # grading only reads: the write lock is taken after it; saving takes it first
async def submit(
    request: Request,
    attempt_id: int,
    session: DbSession,
    tenant: CurrentTenant,
    user: PageUser,
    settings: AppSettings,
) -> Response:
    form = await request.form()

    def work() -> None:
        attempt = service.get_attempt(session, user, attempt_id)
        raw = answers_from_form(attempt, form) if attempt.is_active else {}
        if form.get("action") == "save" and attempt.is_active:
            session.commit()
            begin_write(session)
            session.refresh(attempt)  # as it is now, under the write lock
            service.save_answers(session, attempt, raw, grace=_grace(settings))
        else:
            service.submit_attempt(session, attempt, raw, grace=_grace(settings), write_after_grading=True)

    await run_in_threadpool(work)
    return redirect_to(request, "quizzes:attempt", attempt_id=attempt_id)


# --- trainer ------------------------------------------------------------------------------------------------


@router.get("/author/courses/{slug}/quizzes", name="quizzes:author_list")
def author_quizzes(
    request: Request, slug: str, session: DbSession, tenant: CurrentTenant, user: PageStaff
) -> Response:
    course = catalog_service.get_course_for_edit(session, user, slug)
    return render(
        request,
        "quizzes/author_list.html",
        {"course": course, "quizzes": service.course_quizzes(session, course.id)},
    )


@router.post("/author/courses/{slug}/quizzes", name="quizzes:author_create")
def author_create(
    request: Request,
    slug: str,
    session: DbSession,
    tenant: CurrentTenant,
    user: PageStaff,
    title: Annotated[str, Form(max_length=300)] = "",
    quiz_slug: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    course = catalog_service.get_course_for_edit(session, user, slug)
    try:
        quiz = service.create_quiz(session, course, title=title, slug=quiz_slug or None)
    except DomainError as exc:
        context = {
            "course": course,
            "quizzes": service.course_quizzes(session, course.id),
            "error": error_text(request, exc),
        }
        return render(request, "quizzes/author_list.html", context, status_code=exc.status_code)
    return redirect_to(request, "quizzes:author", quiz_id=quiz.id)


def _editor(request: Request, session: Any, quiz: Quiz, *, status_code: int = 200, **extra: Any) -> Response:
    course = catalog_service.get_course_by_id(session, quiz.course_id)
    context = {"quiz": quiz, "course": course, "kinds": QUESTION_KINDS, **extra}
    return render(request, "quizzes/author_quiz.html", context, status_code=status_code)


@router.get("/author/quizzes/{quiz_id}", name="quizzes:author")
def author_quiz(
    request: Request, quiz_id: int, session: DbSession, tenant: CurrentTenant, user: PageStaff
) -> Response:
    quiz = service.get_quiz_for_edit(session, user, quiz_id)
    notice = N_("Saved.") if request.query_params.get("saved") else None
    imported = request.query_params.get("imported")
    return _editor(request, session, quiz, notice=notice, imported=imported)


def _int_or_none(value: str) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    number = parse_int(value, minimum=0, maximum=MAX_INT64)
    if number is None:
        raise Invalid(N_("Limits are whole numbers of at least 1, or empty."), code="quiz_number")
    return number


@router.post("/author/quizzes/{quiz_id}/settings", name="quizzes:author_settings")
def author_settings(
    request: Request,
    quiz_id: int,
    session: DbSession,
    tenant: CurrentTenant,
    user: PageStaff,
    title: Annotated[str, Form(max_length=300)] = "",
    pass_percent: Annotated[str, Form(max_length=10)] = "70",  # noqa: S107 - a percentage, not a secret
    time_limit_minutes: Annotated[str, Form(max_length=10)] = "",
    max_attempts: Annotated[str, Form(max_length=10)] = "",
    draw: Annotated[str, Form(max_length=10)] = "",
    shuffle_options: Annotated[str, Form(max_length=5)] = "",
    show_review: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    quiz = service.get_quiz_for_edit(session, user, quiz_id)
    try:
        try:
            percent = float(pass_percent.replace(",", "."))
        except ValueError:
            raise Invalid(
                N_("The pass mark is a percentage from 0 to 100."), code="quiz_pass_percent"
            ) from None
        service.update_settings(
            session,
            quiz,
            title=title,
            pass_percent=percent,
            time_limit_minutes=_int_or_none(time_limit_minutes),
            max_attempts=_int_or_none(max_attempts),
            draw=_int_or_none(draw),
            shuffle_options=bool(shuffle_options),
            show_review=bool(show_review),
        )
    except DomainError as exc:
        return _editor(request, session, quiz, status_code=exc.status_code, error=error_text(request, exc))
    return redirect_to(request, "quizzes:author", quiz_id=quiz.id, query={"saved": 1})


@router.post("/author/quizzes/{quiz_id}/gift", name="quizzes:author_gift")
@accepts_upload("gift_max_upload_mb", catalog_service.STAFF_ROLES)
def author_gift(
    request: Request,
    quiz_id: int,
    session: DbSession,
    tenant: CurrentTenant,
    user: PageStaff,
    settings: AppSettings,
    file: UploadFile,
) -> Response:
    """Upload a GIFT bank: every question is added (or replaces the one with its id), or none is."""
    quiz = service.get_quiz_for_edit(session, user, quiz_id)
    limit = settings.gift_max_upload_mb * 1024 * 1024
    data = file.file.read(limit + 1)
    try:
        if len(data) > limit:
            raise Invalid(
                N_("The GIFT file is too large (at most {n} MB)."),
                code="gift_size",
                n=settings.gift_max_upload_mb,
            )
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise Invalid(
                N_("The file {file} is not UTF-8 text."), code="quiz_encoding", file=file.filename or "GIFT"
            ) from None
        count = service.import_gift(session, quiz, text)
    except DomainError as exc:
        return _editor(
            request, session, quiz, status_code=exc.status_code, gift_error=error_text(request, exc)
        )
    return redirect_to(request, "quizzes:author", quiz_id=quiz.id, query={"imported": count})


@router.get("/author/quizzes/{quiz_id}/gift", name="quizzes:author_gift_export")
def author_gift_export(
    request: Request, quiz_id: int, session: DbSession, tenant: CurrentTenant, user: PageStaff
) -> Response:
    """The bank as a GIFT file, for trainers who move it to Moodle (and for a backup)."""
    quiz = service.get_quiz_for_edit(session, user, quiz_id)
    return Response(
        service.export_gift_text(quiz).encode(),
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{quiz.slug}.gift.txt"'},
    )


def _question_page(
    request: Request,
    session: Any,
    quiz: Quiz,
    row: QuizQuestion | None,
    values: dict[str, Any],
    *,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    question = service.question_from_row(row) if row is not None else None
    readonly = question is not None and not service.editable_in_browser(question)
    context = {
        "quiz": quiz,
        "row": row,
        "v": values,
        "kinds": EDITOR_KINDS,
        "readonly": readonly,
        "preview": presenters.attempt_question(question) if readonly and question else None,
        "option_rows": max(EDITOR_OPTION_ROWS, len(values.get("options", []))),
        "error": error,
    }
    return render(request, "quizzes/author_question.html", context, status_code=status_code)


def _values_of(row: QuizQuestion | None, quiz: Quiz) -> dict[str, Any]:
    if row is None:
        return {
            "id": service.next_question_id(quiz),
            "kind": "single",
            "text": "",
            "options": [],
            "answer_true": True,
            "answers": "",
            "explanation": "",
            "points": 1,
        }
    q = service.question_from_row(row)
    return {
        "id": q.id,
        "kind": q.kind,
        "text": q.text,
        "options": [(o.text, o.correct) for o in q.options] if q.kind in ("single", "multiple") else [],
        "answer_true": "true" in q.correct_option_ids,
        "answers": "\n".join(a.text for a in q.answers),
        "explanation": q.explanation,
        "points": q.points,
    }


def _values_from_form(form: FormData) -> dict[str, Any]:
    def text(name: str, limit: int = 10_000) -> str:
        value = form.get(name)
        return value[:limit] if isinstance(value, str) else ""

    options = []
    for i in range(1, MAX_OPTIONS + 1):
        if f"option-{i}" not in form:
            break
        options.append((text(f"option-{i}", 1000), bool(form.get(f"correct-{i}"))))
    points = text("points", 4)
    return {
        "id": text("id", 64),
        "kind": text("kind", 16),
        "text": text("text"),
        "options": options,
        "answer_true": text("answer") != "false",
        "answers": text("answers", 5000),
        "explanation": text("explanation"),
        "points": parse_int(points) or 0,
    }


@router.get("/author/quizzes/{quiz_id}/questions/new", name="quizzes:question_new")
def question_new(
    request: Request, quiz_id: int, session: DbSession, tenant: CurrentTenant, user: PageStaff
) -> Response:
    quiz = service.get_quiz_for_edit(session, user, quiz_id)
    return _question_page(request, session, quiz, None, _values_of(None, quiz))


@router.get("/author/quizzes/{quiz_id}/questions/{question_id}", name="quizzes:question_edit")
def question_edit(
    request: Request,
    quiz_id: int,
    question_id: int,
    session: DbSession,
    tenant: CurrentTenant,
    user: PageStaff,
) -> Response:
    quiz = service.get_quiz_for_edit(session, user, quiz_id)
    row = service.get_question(quiz, question_id)
    return _question_page(request, session, quiz, row, _values_of(row, quiz))


async def _save_question(
    request: Request, session: Any, user: User, quiz_id: int, question_id: int | None
) -> Response:
    form = await request.form()
    values = _values_from_form(form)

    def work() -> Response:
        quiz = service.get_quiz_for_edit(session, user, quiz_id)
        row = service.get_question(quiz, question_id) if question_id is not None else None
        try:
            if row is not None and not service.editable_in_browser(service.question_from_row(row)):
                raise Invalid(
                    N_(
                        "This question is written in a GIFT or quiz file: change it there and import it"
                        " again."
                    ),
                    code="question_not_editable",
                )
            question = service.build_question(
                question_id=values["id"],
                kind=values["kind"],
                text=values["text"],
                options=values["options"],
                answer_true=values["answer_true"],
                answers=values["answers"].splitlines(),
                explanation=values["explanation"],
                points=values["points"],
            )
            service.save_question(session, quiz, row, question)
        except DomainError as exc:
            return _question_page(
                request,
                session,
                quiz,
                row,
                values,
                status_code=exc.status_code,
                error=error_text(request, exc),
            )
        return redirect_to(request, "quizzes:author", quiz_id=quiz.id, query={"saved": 1})

    return await run_in_threadpool(work)


@router.post("/author/quizzes/{quiz_id}/questions/new", name="quizzes:question_create")
async def question_create(
    request: Request, quiz_id: int, session: DbSession, tenant: CurrentTenant, user: PageStaff
) -> Response:
    return await _save_question(request, session, user, quiz_id, None)


@router.post("/author/quizzes/{quiz_id}/questions/{question_id}", name="quizzes:question_update")
async def question_update(
    request: Request,
    quiz_id: int,
    question_id: int,
    session: DbSession,
    tenant: CurrentTenant,
    user: PageStaff,
) -> Response:
    return await _save_question(request, session, user, quiz_id, question_id)


@router.post("/author/quizzes/{quiz_id}/questions/{question_id}/delete", name="quizzes:question_delete")
def question_delete(
    request: Request,
    quiz_id: int,
    question_id: int,
    session: DbSession,
    tenant: CurrentTenant,
    user: PageStaff,
) -> Response:
    quiz = service.get_quiz_for_edit(session, user, quiz_id)
    row = service.get_question(quiz, question_id)
    try:
        service.delete_question(session, quiz, row)
    except DomainError as exc:
        return _editor(request, session, quiz, status_code=exc.status_code, error=error_text(request, exc))
    return redirect_to(request, "quizzes:author", quiz_id=quiz.id, query={"saved": 1})
