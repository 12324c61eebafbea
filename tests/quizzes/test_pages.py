"""In the browser: a learner from enrolment to a verified certificate; the quiz editor and GIFT import."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from app.quizzes.models import QuizQuestion
from app.tenancy.scoping import cross_tenant
from tests.factories import QuizCourse, import_courses, learner_client, make_quiz_course

SHIPPED = Path(__file__).resolve().parents[2] / "courses"


@pytest.fixture()
def qc(world, db, settings, tmp_path) -> QuizCourse:
    return make_quiz_course(db, world, tmp_path / "courses", settings.media_dir)


def test_a_learner_goes_from_enrolment_to_a_verified_certificate_in_the_browser(make_client, qc) -> None:
    browser = make_client("haiphong")
    assert browser.login_page("learner").status_code == 303
    assert browser.submit(f"/courses/{qc.slug}", f"/courses/{qc.slug}/enrol").status_code == 303
    lesson = browser.get(f"/lessons/{qc.text_lesson_id}")
    assert 'href="/certificates"' in lesson.text  # the "Chứng nhận" nav link
    done = browser.submit(f"/lessons/{qc.text_lesson_id}", f"/lessons/{qc.text_lesson_id}/complete")
    assert done.headers["location"] == f"/lessons/{qc.quiz_lesson_id}"
    quiz_lesson = browser.get(f"/lessons/{qc.quiz_lesson_id}")
    assert f'href="/quizzes/{qc.quiz_id}"' in quiz_lesson.text
    assert f'action="/lessons/{qc.quiz_lesson_id}/complete"' not in quiz_lesson.text  # no "mark complete"
    quiz_page = browser.get(f"/quizzes/{qc.quiz_id}")
    assert quiz_page.status_code == 200 and "Bắt đầu làm bài" in quiz_page.text
    started = browser.submit(f"/quizzes/{qc.quiz_id}", f"/quizzes/{qc.quiz_id}/start")
    attempt_url = started.headers["location"]
    form = browser.get(attempt_url)
    assert form.status_code == 200 and "GIAI-THICH" not in form.text and "VNeID" not in form.text
    # A plain form post, as a phone without JavaScript sends it.
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    answers = [("q-q1", "a"), ("q-q2", "a"), ("q-q2", "b"), ("q-q3", "false"), ("q-q4", "VNeID")]
    r = browser.post(
        attempt_url + "/submit",
        content="&".join(f"{k}={v}" for k, v in [("csrf_token", token), ("action", "submit"), *answers]),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 303 and r.headers["location"] == attempt_url
    result = browser.get(attempt_url)
    assert "Điểm: 4/4 (100%)" in result.text and "Đạt" in result.text
    assert "GIAI-THICH-Q1" in result.text  # the review, after submission
    mine = browser.get("/certificates")
    code = re.search(r"/certificates/([0-9A-Z-]{19})/pdf", mine.text).group(1)  # type: ignore[union-attr]
    assert browser.get(f"/certificates/{code}/pdf").content[:5] == b"%PDF-"
    anonymous = make_client("haiphong")
    verified = anonymous.get(f"/verify/{code}")
    assert (
        verified.status_code == 200 and "còn hiệu lực" in verified.text and "Nguyễn Văn An" in verified.text
    )


def test_saving_answers_in_the_browser_keeps_them_in_the_form(app, qc) -> None:
    browser = learner_client(app)
    browser.api("POST", f"/api/v1/courses/{qc.slug}/enrol")
    started = browser.submit(f"/quizzes/{qc.quiz_id}", f"/quizzes/{qc.quiz_id}/start")
    url = started.headers["location"]
    browser.submit(url, url + "/submit", {"action": "save", "q-q4": "Căn cước"})
    page = browser.get(url)
    assert 'value="Căn cước"' in page.text and 'name="q-q1"' in page.text  # still in progress


def test_each_attempt_draws_and_shuffles_anew(world, db, settings, tmp_path, app) -> None:
    root = tmp_path / "courses"
    shutil.copytree(SHIPPED / "cds-co-ban", root / "cds-co-ban")
    import_courses(db, world, settings.media_dir, root)
    client = learner_client(app)
    course = client.api("POST", "/api/v1/courses/cds-co-ban/enrol")
    assert course.status_code == 201
    lessons = client.api("GET", "/api/v1/courses/cds-co-ban").json()["modules"]
    quiz_id = next(x["quiz_id"] for m in lessons for x in m["lessons"] if x["kind"] == "quiz")
    draws, orders = set(), set()
    for _ in range(3):
        attempt = client.api("POST", f"/api/v1/quizzes/{quiz_id}/attempts").json()
        assert len(attempt["questions"]) == 10
        draws.add(tuple(q["id"] for q in attempt["questions"]))
        orders.add(tuple(o["id"] for q in attempt["questions"] for o in q["options"]))
        client.api("POST", f"/api/v1/attempts/{attempt['id']}/submit", json={"answers": {}})
    # 43,758 possible draws of 10 from 18: three equal draws would be a broken random draw.
    assert len(draws) > 1 and len(orders) > 1


def _trainer(make_client):  # type: ignore[no-untyped-def]
    browser = make_client("national")
    browser.login_page("trainer")
    return browser


def test_gift_upload_with_a_mistake_names_the_line_and_saves_nothing(make_client, db, qc) -> None:
    trainer = _trainer(make_client)
    page = f"/author/quizzes/{qc.quiz_id}"
    bad = "::c1:: Câu một {=Đúng ~Sai}\n\n// chú thích\n::c2:: Câu hai {~a ~b}\n"
    r = trainer.submit(page, page + "/gift", files={"file": ("bank.gift", bad.encode(), "text/plain")})
    assert r.status_code == 422
    assert "dòng 4" in r.text.lower() or "Dòng 4" in r.text
    with cross_tenant(db):
        assert {q.key for q in db.scalars(select(QuizQuestion))} == {"q1", "q2", "q3", "q4"}
    good = "::c1:: Câu một {=Đúng ~Sai}\n\n::q1:: Câu một mới {=A ~B ~C}\n"
    r = trainer.submit(page, page + "/gift", files={"file": ("bank.gift", good.encode(), "text/plain")})
    assert r.status_code == 303
    db.expire_all()
    with cross_tenant(db):
        rows = {q.key: q for q in db.scalars(select(QuizQuestion))}
    assert set(rows) == {"q1", "q2", "q3", "q4", "c1"} and rows["q1"].text == "Câu một mới"
    assert "Đã nhập 2 câu hỏi" in trainer.get(r.headers["location"]).text


def test_trainer_edits_settings_and_questions_in_the_browser(make_client, db, qc) -> None:
    trainer = _trainer(make_client)
    page = f"/author/quizzes/{qc.quiz_id}"
    assert trainer.get(page).status_code == 200
    settings_form = {
        "title": "Kiểm tra mới",
        "pass_percent": "80",
        "time_limit_minutes": "",
        "max_attempts": "5",
    }
    assert trainer.submit(page, page + "/settings", {**settings_form, "show_review": "1"}).status_code == 303
    new = page + "/questions/new"
    form = {"id": "q5", "kind": "multiple", "text": "Chọn các mạng xã hội", "points": "2"}
    form |= {
        "option-1": "Zalo",
        "correct-1": "1",
        "option-2": "Facebook",
        "correct-2": "1",
        "option-3": "Excel",
    }
    assert trainer.submit(new, new, form).status_code == 303
    # Invalid: a single-choice question without a right option; nothing saved, the message says why.
    bad = {k: v for k, v in form.items() if not k.startswith("correct-")} | {"id": "q6", "kind": "single"}
    r = trainer.submit(new, new, bad)
    assert r.status_code == 422 and "q6" in r.text
    db.expire_all()
    with cross_tenant(db):
        from app.quizzes.models import Quiz

        quiz = db.get(Quiz, qc.quiz_id)
        rows = {q.key: q for q in db.scalars(select(QuizQuestion))}
    assert quiz is not None and (
        quiz.title,
        quiz.pass_percent,
        quiz.max_attempts,
        quiz.time_limit_minutes,
    ) == (
        "Kiểm tra mới",
        80.0,
        5,
        None,
    )
    assert not quiz.shuffle_options and quiz.show_review and quiz.content_hash == ""
    assert set(rows) == {"q1", "q2", "q3", "q4", "q5"}
    assert [(o["text"], o["correct"]) for o in rows["q5"].options] == [
        ("Zalo", True),
        ("Facebook", True),
        ("Excel", False),
    ]
    edit = f"{page}/questions/{rows['q5'].id}"
    assert "Facebook" in trainer.get(edit).text
    assert trainer.submit(edit, edit, {**form, "text": "Chọn mạng xã hội"}).status_code == 303
    assert trainer.submit(page, edit + "/delete").status_code == 303
    db.expire_all()
    with cross_tenant(db):
        assert {q.key for q in db.scalars(select(QuizQuestion))} == {"q1", "q2", "q3", "q4"}


def test_a_province_cannot_edit_a_national_quiz(make_client, qc) -> None:
    trainer = make_client("haiphong")
    trainer.login_page("trainer")
    assert trainer.get(f"/author/quizzes/{qc.quiz_id}").status_code == 403
    learner = make_client("haiphong")
    learner.login_page("learner")
    assert learner.get(f"/author/quizzes/{qc.quiz_id}").status_code == 403
