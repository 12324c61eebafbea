"""Twenty simultaneous submissions of one attempt grade it once and issue one certificate (real commits)."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from app.accounts import service as accounts
from app.catalog import service as catalog
from app.catalog.files import import_folder
from app.catalog.storage import DiskStorage
from app.certificates.models import Certificate
from app.core.db import begin_write, make_engine, make_session_factory
from app.core.migrate import upgrade
from app.progress import service as progress
from app.quizzes import service as quizzes
from app.quizzes.models import Quiz, QuizAttempt
from app.tenancy import service as tenants
from app.tenancy.models import NATIONAL_SLUG
from app.tenancy.scoping import bind_tenant, unbind_tenant
from tests.factories import RIGHT_ANSWERS, write_quiz_course
from tests.progress.test_concurrency import committed_db  # noqa: F401 - the fixture

THREADS = 20


def test_concurrent_submissions_grade_once(committed_db, tmp_path) -> None:  # noqa: F811
    upgrade(committed_db)
    engine = make_engine(committed_db)
    factory = make_session_factory(engine)
    folder = write_quiz_course(tmp_path / "courses")
    with factory() as s:
        national = tenants.create_tenant(s, slug=NATIONAL_SLUG, display_name="Quốc gia")
        province = tenants.create_tenant(s, slug="haiphong", display_name="Hải Phòng")
        national_id, province_id = national.id, province.id
        s.commit()
        bind_tenant(s, national_id, national_tenant_id=national_id)
        import_folder(s, folder, DiskStorage(tmp_path / "media"), max_bytes=1024 * 1024)
        s.commit()
        course_id = catalog.get_course(s, folder.name).id
        s.expunge_all()
        unbind_tenant(s)
        bind_tenant(s, province_id, national_tenant_id=national_id)
        user = accounts.create_user(s, username="hv", full_name="Phạm Thị Dung", password=None)
        course = catalog.get_course_by_id(s, course_id)
        enrolment, _ = progress.enrol(s, user, course)
        progress.complete_lesson(s, enrolment, catalog.course_lessons(course)[0])
        quiz = quizzes.get_quiz(s, s.scalars(select(Quiz.id)).one())
        attempt, _ = quizzes.start_attempt(s, user, quiz)
        s.commit()
        attempt_id, user_id = attempt.id, user.id

    barrier = threading.Barrier(THREADS)
    results: list[tuple[int, bool, str | None]] = []
    errors: list[BaseException] = []

    def submit() -> None:
        try:
            with factory() as s:
                barrier.wait(timeout=10)
                begin_write(s)  # what the app does for every POST
                bind_tenant(s, province_id, national_tenant_id=national_id)
                user = accounts.get_user(s, user_id)
                found = quizzes.get_attempt(s, user, attempt_id)
                result = quizzes.submit_attempt(s, found, RIGHT_ANSWERS)
                s.commit()
                results.append((result.score, result.passed, result.certificate_code))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert len(results) == THREADS
    assert len(set(results)) == 1 and results[0][:2] == (4, True) and results[0][2]
    with factory() as s:
        bind_tenant(s, province_id, national_tenant_id=national_id)
        assert s.scalar(select(func.count()).select_from(Certificate)) == 1
        attempt = s.get(QuizAttempt, attempt_id)
        assert attempt is not None and attempt.status == "submitted" and attempt.score == 4
        enrolment = progress.get_enrolment(s, user_id, course_id)
        assert enrolment is not None and enrolment.completed_at is not None
        assert enrolment.certified_at is not None and enrolment.lessons_completed == 2
    engine.dispose()


def test_concurrent_starts_open_one_attempt(committed_db, tmp_path) -> None:  # noqa: F811
    upgrade(committed_db)
    engine = make_engine(committed_db)
    factory = make_session_factory(engine)
    folder = write_quiz_course(tmp_path / "courses")
    with factory() as s:
        national = tenants.create_tenant(s, slug=NATIONAL_SLUG, display_name="Quốc gia")
        national_id = national.id
        s.commit()
        bind_tenant(s, national_id, national_tenant_id=national_id)
        import_folder(s, folder, DiskStorage(tmp_path / "media"), max_bytes=1024 * 1024)
        user = accounts.create_user(s, username="hv", full_name="Học viên", password=None)
        progress.enrol(s, user, catalog.get_course(s, folder.name))
        s.commit()
        user_id, quiz_id = user.id, s.scalars(select(Quiz.id)).one()

    barrier = threading.Barrier(8)
    ids: list[int] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            with factory() as s:
                barrier.wait(timeout=10)
                begin_write(s)
                bind_tenant(s, national_id, national_tenant_id=national_id)
                attempt, _ = quizzes.start_attempt(
                    s, accounts.get_user(s, user_id), quizzes.get_quiz(s, quiz_id)
                )
                s.commit()
                ids.append(attempt.id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len(ids) == 8 and len(set(ids)) == 1
    engine.dispose()
