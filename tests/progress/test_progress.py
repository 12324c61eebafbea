"""Enrolment and progress: figures, completion (and lateness), idempotent completion, resume, dashboard."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from app.progress.models import Enrolment, LessonProgress
from app.tenancy.scoping import cross_tenant
from tests.factories import lesson_ids, make_cohort, make_course


def _progress(client) -> dict[str, dict]:
    return {p["course_slug"]: p for p in client.api("GET", "/api/v1/me/progress").json()["items"]}


def test_percentages_and_completion(world, db, make_client) -> None:
    course = make_course(
        db, world.national, "cds", "Chuyển đổi số", lessons=("A", "B", "C", "D"), optional=("D",)
    )
    ids = lesson_ids(db, world.national, course.id)
    client = make_client("haiphong")
    client.login_api("learner")
    r = client.api("POST", "/api/v1/courses/cds/enrol")
    assert r.status_code == 201
    assert r.json() == {
        "course_slug": "cds",
        "cohort_id": None,
        "lessons_completed": 0,
        "lessons_total": 3,
        "percent": 0,
        "completed_at": None,
        "late": False,
    }
    assert client.api("POST", "/api/v1/courses/cds/enrol").status_code == 200  # enrolling twice is harmless
    r = client.api("POST", f"/api/v1/lessons/{ids[0]}/complete").json()
    assert (r["lessons_completed"], r["percent"]) == (1, 33)
    r = client.api("POST", f"/api/v1/lessons/{ids[3]}/complete").json()  # optional: does not count
    assert (r["lessons_completed"], r["percent"]) == (1, 33)
    client.api("POST", f"/api/v1/lessons/{ids[1]}/complete")
    assert _progress(client)["cds"]["completed_at"] is None
    r = client.api("POST", f"/api/v1/lessons/{ids[2]}/complete").json()
    assert (r["lessons_completed"], r["percent"]) == (3, 100)
    assert r["completed_at"] is not None and r["late"] is False
    completed_at = r["completed_at"]
    # Completing again changes nothing, including the completion time.
    r = client.api("POST", f"/api/v1/lessons/{ids[2]}/complete").json()
    assert (r["lessons_completed"], r["completed_at"]) == (3, completed_at)


def test_double_click_counts_once(world, db, make_client) -> None:
    course = make_course(db, world.haiphong, "hp", "Hải Phòng")
    first = lesson_ids(db, world.haiphong, course.id)[0]
    client = make_client("haiphong")
    client.login_api("learner")
    client.api("POST", "/api/v1/courses/hp/enrol")
    for _ in range(3):
        assert client.api("POST", f"/api/v1/lessons/{first}/complete").status_code == 200
    assert _progress(client)["hp"]["lessons_completed"] == 1
    with cross_tenant(db):
        assert len(db.scalars(select(LessonProgress)).all()) == 1


def test_completion_after_the_cohort_closed_is_late(world, db, make_client) -> None:
    course = make_course(db, world.national, "cds", "Chuyển đổi số", lessons=("A",))
    first = lesson_ids(db, world.national, course.id)[0]
    today = dt.date.today()
    closed = make_cohort(db, world.haiphong, course, "HP-01", closes_on=today - dt.timedelta(days=2))
    make_user_in_cohort = make_client("haiphong")
    make_user_in_cohort.login_api("admin")
    r = make_user_in_cohort.api(
        "POST", f"/api/v1/cohorts/{closed.id}/enrolments", json={"usernames": ["learner"]}
    )
    assert r.json()["enrolled"] == 1
    learner = make_client("haiphong")
    learner.login_api("learner")
    r = learner.api("POST", f"/api/v1/lessons/{first}/complete").json()
    assert r["completed_at"] is not None and r["late"] is True and r["cohort_id"] == closed.id
    # In a cohort still open, the same completion is on time.
    open_cohort = make_cohort(db, world.quangninh, course, "QN-01", closes_on=today + dt.timedelta(days=2))
    admin = make_client("quangninh")
    admin.login_api("admin")
    admin.api("POST", f"/api/v1/cohorts/{open_cohort.id}/enrolments", json={"usernames": ["learner"]})
    qn = make_client("quangninh")
    qn.login_api("learner")
    r = qn.api("POST", f"/api/v1/lessons/{first}/complete").json()
    assert r["late"] is False and r["percent"] == 100


def test_progress_belongs_to_the_learners_tenant(world, db, make_client) -> None:
    course = make_course(db, world.national, "cds", "Chuyển đổi số")
    first = lesson_ids(db, world.national, course.id)[0]
    hp = make_client("haiphong")
    hp.login_api("learner")
    hp.api("POST", "/api/v1/courses/cds/enrol")
    hp.api("POST", f"/api/v1/lessons/{first}/complete")
    with cross_tenant(db):
        enrolment = db.scalars(select(Enrolment)).one()
        assert enrolment.tenant_id == world.haiphong.id and enrolment.course_id == course.id
    # The same learner name in another province has no progress, and cannot see Hải Phòng's.
    qn = make_client("quangninh")
    qn.login_api("learner")
    assert qn.api("GET", "/api/v1/me/progress").json() == {"items": [], "total": 0}
    assert qn.api("GET", f"/api/v1/lessons/{first}").status_code == 403  # not enrolled there
    qn.login_page("learner")
    assert "Chuyển đổi số" not in qn.get("/learning").text


def test_lesson_pages_mark_complete_without_javascript_and_with_htmx(world, db, make_client) -> None:
    course = make_course(db, world.national, "cds", "Chuyển đổi số", lessons=("Một", "Hai", "Ba"))
    ids = lesson_ids(db, world.national, course.id)
    client = make_client("haiphong")
    client.login_page("learner")
    r = client.submit("/courses/cds", action="/courses/cds/enrol")
    assert r.status_code == 303 and r.headers["location"] == "/courses/cds/continue"
    assert client.get("/courses/cds/continue").headers["location"] == f"/lessons/{ids[0]}"
    page = client.get(f"/lessons/{ids[0]}")
    assert page.status_code == 200 and "Nội dung <strong>Một</strong>" in page.text
    assert f'href="/lessons/{ids[1]}"' in page.text  # next
    # Without JavaScript: a form post that goes on to the next lesson.
    r = client.submit(f"/lessons/{ids[0]}", action=f"/lessons/{ids[0]}/complete")
    assert r.status_code == 303 and r.headers["location"] == f"/lessons/{ids[1]}"
    # With htmx: only the progress fragment comes back.
    token = client.csrf_from(f"/lessons/{ids[1]}")
    r = client.post(f"/lessons/{ids[1]}/complete", headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert r.status_code == 200
    assert r.text.lstrip().startswith('<div id="progress"') and "<html" not in r.text
    assert 'value="66"' in r.text
    # Resume goes to the first lesson not yet completed.
    assert client.get("/courses/cds/continue").headers["location"] == f"/lessons/{ids[2]}"
    dashboard = client.get("/learning").text
    assert "Chuyển đổi số" in dashboard and 'value="66"' in dashboard


def test_resume_goes_to_last_visited_when_it_is_unfinished(world, db, make_client) -> None:
    course = make_course(db, world.haiphong, "hp", "Hải Phòng", lessons=("A", "B", "C"))
    ids = lesson_ids(db, world.haiphong, course.id)
    client = make_client("haiphong")
    client.login_page("learner")
    client.submit("/courses/hp", action="/courses/hp/enrol")
    client.get(f"/lessons/{ids[2]}")
    assert client.get("/courses/hp/continue").headers["location"] == f"/lessons/{ids[2]}"


def test_self_enrolment_rules(world, db, make_client) -> None:
    draft = make_course(db, world.haiphong, "nhap", "Nháp", published=False)
    course = make_course(db, world.haiphong, "hp", "Hải Phòng")
    closed = make_cohort(db, world.haiphong, course, "KHONG-TU-GHI", self_enrolment=False)
    opened = make_cohort(db, world.haiphong, course, "TU-GHI", self_enrolment=True)
    other = make_course(db, world.quangninh, "qn", "Quảng Ninh")
    qn_cohort = make_cohort(db, world.quangninh, other, "QN", self_enrolment=True)
    client = make_client("haiphong")
    client.login_api("learner")
    assert client.api("POST", "/api/v1/courses/nhap/enrol").status_code == 404
    assert draft.status == "draft"
    r = client.api("POST", "/api/v1/courses/hp/enrol", json={"cohort_id": closed.id})
    assert r.status_code == 403 and r.json()["code"] == "cohort_closed"
    r = client.api("POST", "/api/v1/courses/hp/enrol", json={"cohort_id": qn_cohort.id})
    assert r.status_code == 404  # another province's cohort does not exist here
    r = client.api("POST", "/api/v1/courses/hp/enrol", json={"cohort_id": opened.id})
    assert r.status_code == 201 and r.json()["cohort_id"] == opened.id
    # The course page offers open cohorts only.
    other_learner = make_client("haiphong")
    other_learner.login_page("trainer")
    page = other_learner.get("/courses/hp").text
    assert "TU-GHI" in page and "KHONG-TU-GHI" not in page


def test_learner_journey_in_the_browser_is_small_and_script_free(world, db, make_client) -> None:
    course = make_course(db, world.national, "cds", "Chuyển đổi số")
    first = lesson_ids(db, world.national, course.id)[0]
    client = make_client("haiphong")
    client.login_page("learner")
    client.submit("/courses/cds", action="/courses/cds/enrol")
    page = client.get(f"/lessons/{first}").text
    assert len(page.encode()) < 20_000
    for tag in re.findall(r"<script[^>]*>", page):
        assert "src=" in tag
    assert "style=" not in page
