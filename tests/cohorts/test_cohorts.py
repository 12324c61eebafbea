"""Cohorts: made by staff, enrol by username (unknown ones reported), roster; hidden from other provinces."""

from __future__ import annotations

from tests.factories import lesson_ids, make_course


def _create(client, **body):
    payload = {"course_slug": "cds", "code": "CDS-01", "title": "Đợt 01", **body}
    return client.api("POST", "/api/v1/cohorts", json=payload)


def test_trainer_creates_cohort_of_a_national_course_and_enrols_by_username(world, db, make_client) -> None:
    course = make_course(db, world.national, "cds", "Chuyển đổi số", lessons=("A", "B"))
    trainer = make_client("haiphong")
    trainer.login_api("trainer")
    r = _create(trainer, opens_on="2026-01-01", closes_on="2026-12-31", self_enrolment=True)
    assert r.status_code == 201, r.text
    cohort = r.json()
    assert cohort["course_slug"] == "cds" and cohort["closes_on"] == "2026-12-31"
    assert _create(trainer).status_code == 409  # code unique in the tenant
    # Another province may use the same code.
    qn = make_client("quangninh")
    qn.login_api("trainer")
    assert _create(qn).status_code == 201
    r = trainer.api(
        "POST",
        f"/api/v1/cohorts/{cohort['id']}/enrolments",
        json={"usernames": ["learner", " LEARNER ", "khong-ton-tai", "admin"]},
    )
    assert r.json() == {"enrolled": 2, "already_enrolled": 0, "unknown_usernames": ["khong-ton-tai"]}
    r = trainer.api("POST", f"/api/v1/cohorts/{cohort['id']}/enrolments", json={"usernames": ["learner"]})
    assert r.json() == {"enrolled": 0, "already_enrolled": 1, "unknown_usernames": []}
    # The learner's progress shows on the roster.
    learner = make_client("haiphong")
    learner.login_api("learner")
    first = lesson_ids(db, world.national, course.id)[0]
    learner.api("POST", f"/api/v1/lessons/{first}/complete")
    roster = {
        e["username"]: e for e in trainer.api("GET", f"/api/v1/cohorts/{cohort['id']}").json()["roster"]
    }
    assert set(roster) == {"learner", "admin"}
    assert (roster["learner"]["lessons_completed"], roster["learner"]["percent"]) == (1, 50)


def test_other_province_cannot_see_or_use_a_cohort(world, db, make_client) -> None:
    make_course(db, world.national, "cds", "Chuyển đổi số")
    hp = make_client("haiphong")
    hp.login_api("admin")
    cohort_id = _create(hp).json()["id"]
    qn = make_client("quangninh")
    qn.login_api("admin")
    assert qn.api("GET", f"/api/v1/cohorts/{cohort_id}").status_code == 404
    r = qn.api("POST", f"/api/v1/cohorts/{cohort_id}/enrolments", json={"usernames": ["learner"]})
    assert r.status_code == 404
    assert qn.api("GET", "/api/v1/cohorts").json()["total"] == 0
    qn.login_page("admin")
    assert qn.get(f"/cohorts/{cohort_id}").status_code == 404


def test_learners_cannot_manage_cohorts(world, db, make_client) -> None:
    make_course(db, world.national, "cds", "Chuyển đổi số")
    learner = make_client("haiphong")
    learner.login_api("learner")
    assert _create(learner).status_code == 403
    learner.login_page("learner")
    assert learner.get("/cohorts").status_code == 403


def test_cohort_pages(world, db, make_client) -> None:
    make_course(db, world.national, "cds", "Chuyển đổi số")
    client = make_client("haiphong")
    client.login_page("trainer")
    r = client.submit(
        "/cohorts",
        data={"course_slug": "cds", "code": "HP-01", "title": "Đợt 01", "closes_on": "2026-06-30"},
    )
    assert r.status_code == 303
    detail_url = r.headers["location"]
    page = client.get(detail_url).text
    assert "HP-01" in page and "30/06/2026" in page
    r = client.submit(detail_url, action=detail_url + "/enrolments", data={"usernames": "learner\nai-do"})
    assert r.status_code == 200
    assert "ai-do" in r.text and "Nguyễn Văn An" in r.text
    # A closing date before the opening date is refused with a message, not a crash.
    r = client.submit(
        "/cohorts",
        data={
            "course_slug": "cds",
            "code": "HP-02",
            "title": "Đợt 02",
            "opens_on": "2026-06-30",
            "closes_on": "2026-01-01",
        },
    )
    assert r.status_code == 422 and "HP-02" in r.text
