"""Completion with a required quiz, certificates issued on completion, PDFs, verification, revocation."""

from __future__ import annotations

import io
import zipfile

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.certificates.models import Certificate
from app.progress.models import Enrolment
from app.tenancy.scoping import cross_tenant
from tests.factories import (
    RIGHT_ANSWERS,
    WRONG_ANSWERS,
    QuizCourse,
    learner_client,
    make_cohort,
    make_quiz_course,
    make_user,
)


@pytest.fixture()
def qc(world, db, settings, tmp_path) -> QuizCourse:
    return make_quiz_course(db, world, tmp_path / "courses", settings.media_dir)


def enrol(client, qc: QuizCourse, cohort_id: int | None = None) -> None:  # type: ignore[no-untyped-def]
    body = {"cohort_id": cohort_id} if cohort_id else None
    assert client.api("POST", f"/api/v1/courses/{qc.slug}/enrol", json=body).status_code in (200, 201)


def pass_quiz(client, qc: QuizCourse, answers: dict = RIGHT_ANSWERS) -> dict:  # type: ignore[no-untyped-def,type-arg]
    attempt = client.api("POST", f"/api/v1/quizzes/{qc.quiz_id}/attempts").json()
    return client.api("POST", f"/api/v1/attempts/{attempt['id']}/submit", json={"answers": answers}).json()


def complete_course(client, qc: QuizCourse) -> str:  # type: ignore[no-untyped-def]
    client.api("POST", f"/api/v1/lessons/{qc.text_lesson_id}/complete")
    code = pass_quiz(client, qc)["certificate_code"]
    assert code
    return code


def enrolment_of(db, username: str = "learner", slug: str = "haiphong") -> Enrolment:  # type: ignore[no-untyped-def]
    from app.accounts.models import User
    from app.tenancy.models import Tenant

    db.expire_all()
    with cross_tenant(db):
        # Every province has a "learner": name the tenant, or the database picks one at random.
        user = db.scalars(
            select(User)
            .join(Tenant, Tenant.id == User.tenant_id)
            .where(User.username == username, Tenant.slug == slug)
        ).one()
        return db.scalars(select(Enrolment).where(Enrolment.user_id == user.id)).one()


def test_lessons_alone_do_not_complete_a_course_with_a_required_quiz(app, db, qc) -> None:
    client = learner_client(app)
    enrol(client, qc)
    client.api("POST", f"/api/v1/lessons/{qc.text_lesson_id}/complete")
    # The quiz lesson cannot be ticked off by hand.
    r = client.api("POST", f"/api/v1/lessons/{qc.quiz_lesson_id}/complete")
    assert r.status_code == 403 and r.json()["code"] == "quiz_required"
    failed = pass_quiz(client, qc, WRONG_ANSWERS)
    assert not failed["passed"] and failed["certificate_code"] is None
    e = enrolment_of(db)
    assert e.completed_at is None and e.certified_at is None and e.best_score_percent == 0.0
    progress = client.api("GET", "/api/v1/me/progress").json()["items"][0]
    assert progress["completed_at"] is None and progress["lessons_completed"] == 1


def test_passing_the_quiz_completes_its_lesson_the_course_and_issues_one_certificate(app, db, qc) -> None:
    client = learner_client(app)
    enrol(client, qc)
    client.api("POST", f"/api/v1/lessons/{qc.text_lesson_id}/complete")
    pass_quiz(client, qc, {**RIGHT_ANSWERS, "q4": "sai"})  # 75 %: passes
    e = enrolment_of(db)
    assert e.completed_at is not None and e.percent == 100 and e.lessons_completed == 2
    assert e.best_score_percent == 75.0 and e.certified_at == e.completed_at
    with cross_tenant(db):
        assert db.scalar(select(func.count()).select_from(Certificate)) == 1
        cert = db.scalars(select(Certificate)).one()
    assert cert.tenant_id == e.tenant_id and cert.learner_name == "Nguyễn Văn An"
    assert cert.course_title == "An toàn số cho mọi người"
    mine = client.api("GET", "/api/v1/me/certificates").json()
    assert mine["total"] == 1 and mine["items"][0]["code"] == cert.code
    assert mine["items"][0]["verify_url"] == f"http://haiphong.localhost:8000/verify/{cert.code}"


def test_passing_before_finishing_the_lessons_completes_on_the_last_lesson(app, db, qc) -> None:
    client = learner_client(app)
    enrol(client, qc)
    assert pass_quiz(client, qc)["certificate_code"] is None
    assert enrolment_of(db).completed_at is None
    client.api("POST", f"/api/v1/lessons/{qc.text_lesson_id}/complete")
    e = enrolment_of(db)
    assert e.completed_at is not None and e.certified_at is not None and e.best_score_percent == 100.0


def test_no_certificate_when_the_course_gives_none(app, world, db, settings, tmp_path) -> None:
    qc = make_quiz_course(db, world, tmp_path / "c", settings.media_dir, certificate=False)
    client = learner_client(app)
    enrol(client, qc)
    client.api("POST", f"/api/v1/lessons/{qc.text_lesson_id}/complete")
    assert pass_quiz(client, qc)["certificate_code"] is None
    e = enrolment_of(db)
    assert e.completed_at is not None and e.certified_at is None


def test_completion_after_the_cohort_closed_is_late(app, world, db, qc) -> None:
    import datetime as dt

    from app.catalog.models import Course

    with cross_tenant(db):
        course = db.get(Course, qc.course_id)
    cohort = make_cohort(
        db,
        world.haiphong,
        course,
        "HP-01",
        self_enrolment=True,
        closes_on=dt.date.today() + dt.timedelta(days=1),
    )
    client = learner_client(app)
    enrol(client, qc, cohort.id)
    with cross_tenant(db):
        db.get(type(cohort), cohort.id).closes_on = dt.date(2020, 1, 1)  # type: ignore[union-attr]
        db.commit()
    complete_course(client, qc)
    assert enrolment_of(db).late is True


def test_pdf_shows_the_vietnamese_name_and_is_for_its_owner_only(app, world, db, qc) -> None:
    client = learner_client(app)
    enrol(client, qc)
    code = complete_course(client, qc)
    r = client.api("GET", f"/api/v1/certificates/{code}/pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(r.content)).pages)
    assert "Nguyễn Văn An" in text and "An toàn số cho mọi người" in text and code in text
    assert f"http://haiphong.localhost:8000/verify/{code}" in text
    page = client.get(f"/certificates/{code}/pdf")
    assert page.status_code == 200 and page.content[:5] == b"%PDF-"

    make_user(db, world.haiphong, "learner2")
    db.commit()
    other = learner_client(app, username="learner2")
    assert other.api("GET", f"/api/v1/certificates/{code}/pdf").status_code == 404
    assert other.get(f"/certificates/{code}/pdf").status_code == 404


def test_verification_of_a_valid_an_unknown_and_a_revoked_code(app, world, db, qc, make_client) -> None:
    client = learner_client(app)
    enrol(client, qc)
    code = complete_course(client, qc)
    public = make_client("haiphong")  # nobody signed in
    r = public.get(f"/api/v1/certificates/{code.lower().replace('-', ' ')}")
    assert r.status_code == 200
    assert r.json() | {"issued_at": None} == {
        "code": code,
        "learner_name": "Nguyễn Văn An",
        "course_title": "An toàn số cho mọi người",
        "portal": "Hải Phòng",
        "issued_at": None,
        "valid": True,
        "revoked_at": None,
        "revoke_reason": None,
    }
    page = public.get(f"/verify/{code}")
    assert page.status_code == 200
    assert "Nguyễn Văn An" in page.text and "Hải Phòng" in page.text and "còn hiệu lực" in page.text
    assert public.get("/verify/7KQ2-M9XD-4HNB-V0TE").status_code == 404
    assert public.get("/api/v1/certificates/7KQ2-M9XD-4HNB-V0TE").status_code == 404
    assert public.get("/verify/not-a-code").status_code == 404
    typed = public.get("/verify", params={"code": code.lower()})
    assert typed.status_code == 303 and typed.headers["location"] == f"/verify/{code}"

    # A learner cannot revoke; the province admin can, and it is audit-logged.
    assert client.api("POST", f"/api/v1/certificates/{code}/revoke", json={"reason": "x"}).status_code == 403
    admin = make_client("haiphong")
    admin.login_page("admin")
    r = admin.submit(
        "/admin/certificates", f"/admin/certificates/{code}/revoke", {"reason": "Gian lận khi thi"}
    )
    assert r.status_code == 303
    page = public.get(f"/verify/{code}")
    assert "đã bị thu hồi" in page.text and "Gian lận khi thi" in page.text
    assert public.get(f"/api/v1/certificates/{code}").json()["valid"] is False
    with cross_tenant(db):
        events = list(db.scalars(select(AuditEvent).where(AuditEvent.action == "certificate.revoked")))
    assert [(e.target, e.tenant_id) for e in events] == [(code, world.haiphong.id)]


def test_a_certificate_does_not_verify_on_another_portal(app, qc, make_client) -> None:
    client = learner_client(app)
    enrol(client, qc)
    code = complete_course(client, qc)
    for slug in ("quangninh", "national"):
        other = make_client(slug)
        assert other.get(f"/verify/{code}").status_code == 404
        assert other.get(f"/api/v1/certificates/{code}").status_code == 404
    assert make_client("haiphong").get(f"/verify/{code}").status_code == 200


def test_national_portal_certificates_verify_on_the_bare_domain(app, world, db, qc, make_client) -> None:
    make_user(db, world.national, "hv", full_name="Trần Thị Bình")
    db.commit()
    client = learner_client(app, "national", "hv")
    enrol(client, qc)
    code = complete_course(client, qc)
    item = client.api("GET", "/api/v1/me/certificates").json()["items"][0]
    assert item["verify_url"] == f"http://localhost:8000/verify/{code}"
    assert make_client("national").get(f"/verify/{code}").status_code == 200


def test_admin_downloads_a_cohorts_certificates_as_one_zip(app, world, db, qc, make_client) -> None:
    from app.catalog.models import Course

    with cross_tenant(db):
        course = db.get(Course, qc.course_id)
    cohort = make_cohort(db, world.haiphong, course, "HP-02", self_enrolment=True)
    make_user(db, world.haiphong, "learner2", full_name="Lê Văn Cường")
    db.commit()
    codes = []
    for username in ("learner", "learner2"):
        client = learner_client(app, username=username)
        enrol(client, qc, cohort.id)
        codes.append(complete_course(client, qc))
    learner = learner_client(app)
    assert learner.submit("/certificates", f"/admin/cohorts/{cohort.id}/certificates.zip").status_code == 403
    admin = make_client("haiphong")
    admin.login_page("admin")
    r = admin.submit(f"/cohorts/{cohort.id}", f"/admin/cohorts/{cohort.id}/certificates.zip")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    assert sorted(names) == sorted(f"chung-nhan-{c}.pdf" for c in codes)
    with cross_tenant(db):
        event = db.scalars(
            select(AuditEvent).where(AuditEvent.action == "certificate.cohort_downloaded")
        ).one()
    assert event.target == "HP-02" and event.detail == {"cohort_id": cohort.id, "certificates": 2}


def test_my_certificates_page_and_nav_link(app, qc) -> None:
    client = learner_client(app)
    enrol(client, qc)
    code = complete_course(client, qc)
    page = client.get("/certificates")
    assert page.status_code == 200
    assert 'href="/certificates"' in page.text and "Chứng nhận" in page.text
    assert code in page.text and f"/certificates/{code}/pdf" in page.text
