"""Taking a quiz through the API: every kind graded, no leaked answers, limits, time, double submission."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from app.core import db as core_db
from tests.factories import RIGHT_ANSWERS, WRONG_ANSWERS, QuizCourse, learner_client, make_quiz_course


@pytest.fixture()
def qc(world, db, settings, tmp_path) -> QuizCourse:
    return make_quiz_course(db, world, tmp_path / "courses", settings.media_dir)


@pytest.fixture()
def learner(app, qc):  # type: ignore[no-untyped-def]
    client = learner_client(app)
    r = client.api("POST", f"/api/v1/courses/{qc.slug}/enrol")
    assert r.status_code == 201, r.text
    return client


def start(client, qc: QuizCourse) -> dict:  # type: ignore[no-untyped-def]
    r = client.api("POST", f"/api/v1/quizzes/{qc.quiz_id}/attempts")
    assert r.status_code in (200, 201), r.text
    return r.json()


def submit(client, attempt_id: int, answers: dict) -> dict:  # type: ignore[no-untyped-def]
    r = client.api("POST", f"/api/v1/attempts/{attempt_id}/submit", json={"answers": answers})
    assert r.status_code == 200, r.text
    return r.json()


class Clock:
    """Moves `app.core.db.utcnow`, the clock the quiz service reads."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
        monkeypatch.setattr(core_db, "utcnow", lambda: self.now)

    def advance(self, **kwargs: float) -> None:
        self.now += dt.timedelta(**kwargs)


def test_attempt_payload_has_the_spec_shape_and_no_answers(learner, qc) -> None:
    r = learner.api("POST", f"/api/v1/quizzes/{qc.quiz_id}/attempts")
    assert r.status_code == 201
    body = r.json()
    assert {"id", "quiz_id", "deadline", "questions"} <= body.keys()
    assert body["quiz_id"] == qc.quiz_id and body["deadline"] is not None
    assert [q["id"] for q in body["questions"]] == ["q1", "q2", "q3", "q4"]
    for q in body["questions"]:
        assert set(q) == {"id", "kind", "text", "format", "points", "options", "prompts"}
        for option in q["options"]:
            assert set(option) == {"id", "text"}
    raw = json.dumps(body, ensure_ascii=False)
    assert "correct" not in raw and "GIAI-THICH-Q1" not in raw and "VNeID" not in raw
    # Reading the attempt again tells no more.
    again = json.dumps(learner.api("GET", f"/api/v1/attempts/{body['id']}").json(), ensure_ascii=False)
    assert "correct" not in again and "GIAI-THICH" not in again and "VNeID" not in again


def test_attempt_page_does_not_reveal_answers(learner, qc) -> None:
    attempt = start(learner, qc)
    page = learner.get(f"/attempts/{attempt['id']}")
    assert page.status_code == 200
    assert 'name="q-q1"' in page.text and 'name="q-q4"' in page.text
    assert "GIAI-THICH" not in page.text and "VNeID" not in page.text and "correct" not in page.text


def test_every_question_kind_is_graded_right_and_wrong(learner, qc) -> None:
    learner.api("POST", f"/api/v1/lessons/{qc.text_lesson_id}/complete")
    wrong = submit(learner, start(learner, qc)["id"], WRONG_ANSWERS)
    assert (wrong["score"], wrong["percent"], wrong["passed"], wrong["certificate_code"]) == (
        0,
        0.0,
        False,
        None,
    )
    right = submit(learner, start(learner, qc)["id"], RIGHT_ANSWERS)
    assert (right["score"], right["max_score"], right["percent"], right["passed"]) == (4, 4, 100.0, True)
    assert right["certificate_code"]


@pytest.mark.parametrize(
    ("question", "answer", "counts"),
    [
        ("q1", ["a"], True),
        ("q1", ["a", "b"], False),  # two ticks on a single-choice question
        ("q2", ["b", "a"], True),
        ("q2", ["a", "b", "c"], False),  # ticking everything earns nothing
        ("q3", ["false"], True),
        ("q3", "true", False),
        ("q4", "  vneid ", True),
        ("q4", "VNID", False),
    ],
)
def test_each_kind_counts_only_the_right_answer(learner, qc, question, answer, counts) -> None:
    result = submit(learner, start(learner, qc)["id"], {question: answer})
    assert result["score"] == (1 if counts else 0)


def test_pass_mark_is_the_quizzes_percentage(learner, qc) -> None:
    three_of_four = {**RIGHT_ANSWERS, "q4": "sai"}
    result = submit(learner, start(learner, qc)["id"], three_of_four)
    assert (result["percent"], result["passed"]) == (75.0, True)


def test_starting_again_returns_the_active_attempt(learner, qc) -> None:
    first = learner.api("POST", f"/api/v1/quizzes/{qc.quiz_id}/attempts")
    second = learner.api("POST", f"/api/v1/quizzes/{qc.quiz_id}/attempts")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert first.json()["questions"] == second.json()["questions"]


def test_attempt_limit(learner, qc) -> None:
    for _ in range(2):
        submit(learner, start(learner, qc)["id"], WRONG_ANSWERS)
    r = learner.api("POST", f"/api/v1/quizzes/{qc.quiz_id}/attempts")
    assert r.status_code == 409 and r.json()["code"] == "attempt_limit"
    assert "2" in r.json()["detail"]


def test_submitting_twice_grades_once(learner, qc) -> None:
    learner.api("POST", f"/api/v1/lessons/{qc.text_lesson_id}/complete")
    attempt = start(learner, qc)
    first = submit(learner, attempt["id"], RIGHT_ANSWERS)
    second = submit(learner, attempt["id"], WRONG_ANSWERS)
    assert first == second and first["passed"]
    certificates = learner.api("GET", "/api/v1/me/certificates").json()
    assert certificates["total"] == 1


def test_answers_within_the_grace_period_count(learner, qc, monkeypatch) -> None:
    clock = Clock(monkeypatch)
    attempt = start(learner, qc)
    clock.advance(minutes=10, seconds=20)  # 20 s after the deadline, within the 30 s grace
    result = submit(learner, attempt["id"], RIGHT_ANSWERS)
    assert result["passed"] and result["score"] == 4


def test_a_late_submission_is_graded_with_the_answers_saved_before_the_deadline(
    learner, qc, monkeypatch
) -> None:
    clock = Clock(monkeypatch)
    attempt = start(learner, qc)
    clock.advance(minutes=5)
    saved = learner.api("PUT", f"/api/v1/attempts/{attempt['id']}/answers", json={"answers": {"q1": ["a"]}})
    assert saved.status_code == 200 and saved.json()["answers"] == {"q1": ["a"]}
    clock.advance(minutes=6)  # a minute after the deadline
    late_save = learner.api(
        "PUT", f"/api/v1/attempts/{attempt['id']}/answers", json={"answers": RIGHT_ANSWERS}
    )
    assert late_save.status_code == 409
    result = submit(learner, attempt["id"], RIGHT_ANSWERS)
    assert (result["score"], result["passed"]) == (1, False)
    detail = learner.api("GET", f"/api/v1/attempts/{attempt['id']}").json()
    assert detail["status"] == "timed_out"
    assert detail["submitted_at"].startswith("2026-03-02T08:10:00")


def test_an_abandoned_attempt_is_graded_when_the_learner_comes_back(learner, qc, monkeypatch) -> None:
    clock = Clock(monkeypatch)
    first = start(learner, qc)
    learner.api("PUT", f"/api/v1/attempts/{first['id']}/answers", json={"answers": RIGHT_ANSWERS})
    clock.advance(hours=2)
    second = start(learner, qc)
    assert second["id"] != first["id"]
    old = learner.api("GET", f"/api/v1/attempts/{first['id']}").json()
    assert (old["status"], old["score"], old["passed"]) == ("timed_out", 4, True)


def test_review_after_submission_only(learner, qc) -> None:
    attempt = start(learner, qc)
    assert learner.api("GET", f"/api/v1/attempts/{attempt['id']}/review").status_code == 403
    submit(learner, attempt["id"], {**RIGHT_ANSWERS, "q4": "sai"})
    review = learner.api("GET", f"/api/v1/attempts/{attempt['id']}/review").json()
    by_id = {q["id"]: q for q in review["questions"]}
    assert by_id["q1"]["correct"] and not by_id["q4"]["correct"]
    assert by_id["q4"]["accepted_answers"] == ["VNeID"]
    assert "GIAI-THICH-Q1" in by_id["q1"]["explanation"]


def test_another_learner_cannot_read_or_submit_an_attempt(app, world, db, learner, qc) -> None:
    from tests.factories import make_user

    make_user(db, world.haiphong, "learner2")
    db.commit()
    attempt = start(learner, qc)
    other = learner_client(app, username="learner2")
    other.api("POST", f"/api/v1/courses/{qc.slug}/enrol")
    assert other.api("GET", f"/api/v1/attempts/{attempt['id']}").status_code == 404
    assert (
        other.api("POST", f"/api/v1/attempts/{attempt['id']}/submit", json={"answers": {}}).status_code == 404
    )
    assert other.get(f"/attempts/{attempt['id']}").status_code == 404
    # Nor from another province, even the same username.
    foreign = learner_client(app, "quangninh")
    assert foreign.api("GET", f"/api/v1/attempts/{attempt['id']}").status_code == 404


def test_a_learner_must_be_enrolled_to_start(app, qc) -> None:
    client = learner_client(app)
    r = client.api("POST", f"/api/v1/quizzes/{qc.quiz_id}/attempts")
    assert r.status_code == 403 and r.json()["code"] == "not_enrolled"


def test_national_quiz_works_on_every_province(app, qc) -> None:
    for slug in ("haiphong", "quangninh"):
        client = learner_client(app, slug)
        client.api("POST", f"/api/v1/courses/{qc.slug}/enrol")
        assert submit(client, start(client, qc)["id"], RIGHT_ANSWERS)["passed"]


def test_course_api_links_quiz_lessons_to_their_quiz(learner, qc) -> None:
    course = learner.api("GET", f"/api/v1/courses/{qc.slug}").json()
    lessons = [x for m in course["modules"] for x in m["lessons"]]
    assert [x["quiz_id"] for x in lessons] == [None, qc.quiz_id]
    assert learner.api("GET", f"/api/v1/lessons/{qc.quiz_lesson_id}").json()["quiz_id"] == qc.quiz_id
