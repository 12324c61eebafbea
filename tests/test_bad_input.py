"""Input that gave a 500 in the security review (issue 14, item 8), each answered now as bad input.

The whole class is closed by tests/test_no_server_errors.py; these pin the reproduced cases.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.numbers import MAX_ID, parse_int
from app.quizzes.models import Quiz
from app.tenancy import service as tenants
from app.tenancy.scoping import cross_tenant
from tests import factories
from tests.factories import Browser

SUPERSCRIPTS = "²" * 19  # str.isdigit() says yes, int() says no


@pytest.mark.parametrize(
    "value,expected",
    [
        ("0", 0),
        ("42", 42),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),
        ("²", None),
        ("١٢", None),  # Arabic-Indic digits: int() takes them, we do not
        (" 12", None),
        ("+12", None),
        ("1_000", None),
        ("12.0", None),
        ("-1", None),
        ("", None),
        ("9" * 5000, None),  # past int()'s digit limit
        (True, None),
    ],
)
def test_the_integer_parser_takes_ascii_digits_in_range_only(value: object, expected: int | None) -> None:
    assert parse_int(value) == expected


def test_negative_numbers_only_where_the_range_allows_them() -> None:
    assert parse_int("-5", minimum=-10, maximum=10) == -5
    assert parse_int("-5") is None


@pytest.mark.parametrize(
    "url",
    [f"/courses/{SUPERSCRIPTS}", f"/verify/{SUPERSCRIPTS}", f"/api/v1/users/{SUPERSCRIPTS}"],
)
def test_non_ascii_digits_in_a_path_are_not_a_server_error(world, make_client, url: str) -> None:
    r = make_client("haiphong").get(url)
    assert 400 <= r.status_code < 500, (url, r.status_code, r.text[:200])


def test_non_ascii_digits_in_an_id_are_refused_as_a_bad_number(world, make_client) -> None:
    admin = make_client("haiphong")
    admin.login_api("admin")
    r = admin.api("GET", f"/api/v1/users/{SUPERSCRIPTS}")
    assert r.status_code == 422 and r.json()["code"] == "not_a_number"
    assert r.headers["content-type"].startswith("application/problem+json")


def test_register_refuses_a_unit_id_that_is_not_a_number(world, db: Session, make_client) -> None:
    tenants.update_tenant(db, "haiphong", self_registration=True)
    db.commit()
    form = {"full_name": "Trần Bình", "contact": "0987000111", "password": "matkhau123"}
    form |= {"confirm_password": "matkhau123", "unit_id": "²²"}
    r = make_client("haiphong").submit("/register", data=form)
    assert r.status_code == 422 and "Hãy chọn xã, phường" in r.text


@pytest.fixture()
def lesson_id(world: factories.World, db: Session) -> int:
    course = factories.make_course(
        db, world.haiphong, "bai-tap", "Bài tập", lessons=("Bài 1",), published=False
    )
    return factories.lesson_ids(db, world.haiphong, course.id)[0]


def _trainer(make_client: Callable[..., Browser], slug: str = "haiphong") -> Browser:
    browser = make_client(slug)
    browser.login_page("trainer")
    return browser


@pytest.mark.parametrize("duration", ["²", "١٢", "99999"])
def test_lesson_editor_refuses_a_duration_that_is_not_a_number(make_client, lesson_id: int, duration) -> None:
    page = f"/author/lessons/{lesson_id}"
    form = {"title": "Bài mới", "kind": "text", "body_md": "x", "duration_minutes": duration}
    r = _trainer(make_client).submit(page, page, form)
    assert r.status_code == 422, r.text[:300]


def test_a_refused_upload_saves_nothing_of_the_lesson(make_client, db: Session, lesson_id: int) -> None:
    """Found in review: the title change was committed although the upload was refused."""
    from app.catalog.models import Lesson

    trainer = _trainer(make_client)
    page = f"/author/lessons/{lesson_id}"
    # A text lesson takes no file: the save is refused as a whole.
    form = {"title": "Tiêu đề mới", "kind": "text", "body_md": "Nội dung mới"}
    r = trainer.submit(page, page, form, files={"upload": ("x.pdf", b"%PDF-1.4 x", "application/pdf")})
    assert r.status_code == 422 and "Tiêu đề mới" not in r.text
    db.expire_all()
    with cross_tenant(db):
        lesson = db.get(Lesson, lesson_id)
        assert lesson is not None and (lesson.title, lesson.body_md) == ("Bài 1", "Nội dung **Bài 1**.")


@pytest.fixture()
def quiz_id(world, db: Session, settings, tmp_path: Path) -> int:
    return factories.make_quiz_course(db, world, tmp_path / "courses", settings.media_dir).quiz_id


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("time_limit_minutes", "²", "số nguyên"),
        ("max_attempts", "١٢", "số nguyên"),
        ("draw", "²²²", "số nguyên"),
        ("time_limit_minutes", "9999999999", "1440"),
        ("max_attempts", "1000", "100"),
    ],
)
def test_quiz_settings_are_whole_numbers_in_range(
    make_client, db, quiz_id: int, field, value, message
) -> None:
    """Found in review: `²` was a 500, and `time_limit_minutes=9999999999` was saved, then every learner got
    a 422 on starting the quiz."""
    trainer = _trainer(make_client, "national")
    page = f"/author/quizzes/{quiz_id}"
    form = {"title": "Kiểm tra", "pass_percent": "70", field: value}
    r = trainer.submit(page, page + "/settings", form)
    assert r.status_code == 422 and message in r.text, r.text[:300]
    db.expire_all()
    with cross_tenant(db):
        quiz = db.get(Quiz, quiz_id)
        assert quiz is not None and (quiz.time_limit_minutes, quiz.max_attempts) == (10, 2)


def test_a_gift_question_with_more_options_than_letters_is_refused_by_line(make_client, quiz_id) -> None:
    trainer = _trainer(make_client, "national")
    page = f"/author/quizzes/{quiz_id}"
    options = " ".join(f"~Lựa chọn {i}" for i in range(29))
    gift = f"::c1:: Câu hỏi nhiều lựa chọn {{={'Đúng'} {options}}}\n"
    r = trainer.submit(page, page + "/gift", files={"file": ("bank.gift", gift.encode(), "text/plain")})
    assert r.status_code == 422 and "26" in r.text and "c1" in r.text, r.text[:300]


@pytest.mark.parametrize("key", ["direct:abc", "direct:²", "abc", "²²", "1_0"])
def test_a_report_key_that_is_not_a_number_is_refused(world, make_client, key: str) -> None:
    admin = make_client("haiphong")
    admin.login_page("admin")
    r = admin.get("/reports/learners", params={"group_by": "unit", "key": key})
    assert r.status_code == 422, (key, r.status_code)


def test_enrolling_with_a_cohort_id_that_is_not_a_number_is_not_a_server_error(
    world, db, make_client
) -> None:
    course = factories.make_course(db, world.haiphong, "mo", "Khóa mở", lessons=("Bài 1",))
    learner = make_client("haiphong")
    learner.login_page("learner")
    r = learner.submit(f"/courses/{course.slug}", f"/courses/{course.slug}/enrol", {"cohort_id": "²²"})
    assert r.status_code == 303
    with cross_tenant(db):
        from app.progress.models import Enrolment

        assert db.scalars(select(Enrolment.cohort_id)).all() == [None]
