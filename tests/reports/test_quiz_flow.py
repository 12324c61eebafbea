"""The report counts what a real learner journey makes: lessons, a failed and a passed test, a certificate."""

from __future__ import annotations

import pytest

from tests.certificates.test_certificates import enrol, pass_quiz
from tests.factories import RIGHT_ANSWERS, WRONG_ANSWERS, QuizCourse, learner_client, make_quiz_course


@pytest.fixture()
def qc(world, db, settings, tmp_path) -> QuizCourse:  # type: ignore[no-untyped-def]
    return make_quiz_course(db, world, tmp_path / "courses", settings.media_dir)


def summary(make_client) -> dict:  # type: ignore[no-untyped-def,type-arg]
    admin = make_client("haiphong")
    admin.login_api("admin")
    body = admin.api("GET", "/api/v1/reports/summary?group_by=course").json()
    return body["totals"]


def test_report_follows_the_learner_from_enrolment_to_certificate(
    app, world, make_client, qc: QuizCourse
) -> None:
    client = learner_client(app)
    enrol(client, qc)
    totals = summary(make_client)
    assert (totals["assigned"], totals["started"], totals["completed"], totals["certified"]) == (1, 0, 0, 0)
    client.api("POST", f"/api/v1/lessons/{qc.text_lesson_id}/complete")
    assert summary(make_client)["started"] == 1
    pass_quiz(client, qc, WRONG_ANSWERS)
    totals = summary(make_client)
    assert (totals["completed"], totals["certified"]) == (0, 0)
    attempt = client.api("POST", f"/api/v1/quizzes/{qc.quiz_id}/attempts").json()
    submit = f"/api/v1/attempts/{attempt['id']}/submit"
    result = client.api("POST", submit, json={"answers": RIGHT_ANSWERS}).json()
    assert result["passed"] and result["certificate_code"]
    totals = summary(make_client)
    assert (totals["assigned"], totals["started"], totals["completed"], totals["certified"]) == (1, 1, 1, 1)
    assert totals["completion_rate"] == 100.0
    assert totals["average_score"] == result["percent"]
    # Submitting again and completing a lesson again change nothing: one learner, one course, one training.
    client.api("POST", submit, json={"answers": RIGHT_ANSWERS})
    client.api("POST", f"/api/v1/lessons/{qc.text_lesson_id}/complete")
    again = summary(make_client)
    assert (again["completed"], again["certified"]) == (1, 1)
