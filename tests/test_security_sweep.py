"""A sweep of every route the app registers: who may call it, with whose ids, and what comes back.

Routes are read from the app itself (`iter_route_contexts`, which also walks included routers), so a new
route is swept without anyone remembering to add it. For each route and method, on Hải Phòng's host:

- anonymous: refused (401/403/404, or a redirect to sign-in) unless the route is in PUBLIC;
- Quảng Ninh's admin, their token sent to Hải Phòng's host: refused everywhere but PUBLIC;
- Hải Phòng's admin and learner, with path ids of Quảng Ninh's objects: refused, never 2xx;
- never a server error.

Path parameters are filled from OTHER_TENANT_IDS; an unknown parameter name fails the sweep, so a new kind of
id is given an object of the other tenant before its route ships.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from sqlalchemy.orm import Session

from app.catalog.models import MediaFile
from app.certificates.codes import new_certificate_code
from app.certificates.models import Certificate
from app.core.web import AUTH_COOKIE, CSRF_FIELD
from app.imports.models import CredentialBatch, ImportJob
from app.progress.models import Enrolment
from app.quizzes.models import Quiz, QuizAttempt, QuizQuestion
from tests import factories
from tests.factories import Browser, in_tenant

# (method, path) anyone may call. A method of "*" means every method of that path.
PUBLIC: set[tuple[str, str]] = {
    ("GET", "/"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/register"),
    ("POST", "/register"),
    ("POST", "/lang"),
    ("GET", "/brand.css"),
    ("GET", "/robots.txt"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/openapi.json"),
    ("GET", "/courses"),  # the catalog is public: a citizen looks before signing up
    ("GET", "/courses/{slug}"),
    ("GET", "/api/v1/courses"),
    ("GET", "/api/v1/courses/{slug}"),
    ("POST", "/api/v1/auth/token"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/verify"),  # certificate verification: anyone holding the paper may check it
    ("GET", "/verify/{code}"),
    ("GET", "/api/v1/certificates/{code}"),
}
REFUSED = {401, 403, 404}
# A valid JSON body for API routes whose body would otherwise be refused (422) before the id is looked at.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("PUT", "/api/v1/users/{user_id}/roles"): {"roles": ["learner"]},
    ("POST", "/api/v1/cohorts/{cohort_id}/enrolments"): {"usernames": ["learner"]},
    ("PUT", "/api/v1/attempts/{attempt_id}/answers"): {"answers": {}},
    ("POST", "/api/v1/attempts/{attempt_id}/submit"): {"answers": {}},
    ("POST", "/api/v1/certificates/{code}/revoke"): {"reason": "Kiểm tra"},
}
# Page forms that need a file, so the upload is not refused (422) before the id is looked at.
FILES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/author/quizzes/{quiz_id}/gift"): {"file": ("bank.gift", b"::q1:: 1+1=2 {T}\n", "text/plain")},
}
# Path parameters that are not ids of anything (an export format): they do not make a route "about an object".
NOT_IDS = {"fmt"}
# National-only routes: a province admin is refused them whatever the ids.
NATIONAL_ONLY = {"/api/v1/tenants", "/api/v1/tenants/{slug}"}


@dataclass
class Objects:
    """Ids of Quảng Ninh's objects, by path parameter name."""

    ids: dict[str, str]


def _other_tenant_objects(db: Session, world: factories.World) -> Objects:
    qn = world.quangninh
    course = factories.make_course(db, qn, "qn-rieng", "Khóa riêng Quảng Ninh", lessons=("Bài A",))
    lesson_id = factories.lesson_ids(db, qn, course.id)[0]
    cohort = factories.make_cohort(db, qn, course, "QN-01")
    units = factories.make_units(db, qn, "Mã,Tên,Loại,Mã cấp trên\nQN,Sở Quảng Ninh,department,\n")
    with in_tenant(db, qn):
        from app.catalog.models import Lesson

        module_id = db.get(Lesson, lesson_id).module_id  # type: ignore[union-attr]
        batch = CredentialBatch(
            accounts=1, payload=b"x", expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
        )
        db.add(batch)
        db.flush()
        job = ImportJob(filename="qn.csv", status="done", credentials_batch_id=batch.id)
        media = MediaFile(
            course_id=course.id,
            storage_key="qn/x.pdf",
            filename="x.pdf",
            content_type="application/pdf",
            size_bytes=1,
            sha256="0" * 64,
        )
        db.add_all([job, media])
        db.flush()
        # A quiz of Quảng Ninh's own course, a question of it, an attempt and a certificate of its learner.
        quiz = Quiz(course_id=course.id, slug="kiem-tra", title="Kiểm tra Quảng Ninh")
        db.add(quiz)
        db.flush()
        question = QuizQuestion(quiz_id=quiz.id, key="q1", kind="true_false", text="Đúng hay sai?")
        enrolment = Enrolment(
            user_id=world.users["quangninh_learner"].id, course_id=course.id, lessons_total=1
        )
        db.add_all([question, enrolment])
        db.flush()
        attempt = QuizAttempt(
            user_id=enrolment.user_id, enrolment_id=enrolment.id, quiz_id=quiz.id, number=1, questions=[]
        )
        certificate = Certificate(
            code=new_certificate_code(),
            user_id=enrolment.user_id,
            course_id=course.id,
            enrolment_id=enrolment.id,
            learner_name="Học viên Quảng Ninh",
            course_title=course.title,
        )
        db.add_all([attempt, certificate])
        db.flush()
        ids = {
            "slug": course.slug,
            "course_id": str(course.id),
            "lesson_id": str(lesson_id),
            "module_id": str(module_id),
            "cohort_id": str(cohort.id),
            "user_id": str(world.users["quangninh_learner"].id),
            "unit_id": str(units["QN"]),
            "job_id": str(job.id),
            "batch_id": str(batch.id),
            "media_id": str(media.id),
            "quiz_id": str(quiz.id),
            "question_id": str(question.id),
            "attempt_id": str(attempt.id),
            "code": certificate.code,
            "fmt": "csv",  # not an id: the export format
        }
    db.commit()
    return Objects(ids)


def _routes(app: Any) -> list[tuple[str, str]]:
    found = []
    for route in iter_route_contexts(app.routes):
        if route.path is None or route.path.startswith("/static"):
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            found.append((method, route.path))
    return found


_PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")


def _fill(path: str, ids: dict[str, str], *, tenants_slug: str = "quangninh") -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if path.startswith("/api/v1/tenants/") and name == "slug":
            return tenants_slug
        if name not in ids:
            pytest.fail(
                f"{path}: add this parameter ({{{name}}}) to the sweep: OTHER_TENANT_IDS in "
                "tests/test_security_sweep.py needs an object of the other tenant for it",
                pytrace=False,
            )
        return ids[name]

    return _PARAM.sub(value, path)


def _is_refusal(response: Any) -> bool:
    if response.status_code in REFUSED:
        return True
    return response.status_code in (302, 303, 307) and "/login" in response.headers.get("location", "")


def _call(client: Browser, method: str, path: str, url: str, *, api: bool, csrf: str | None) -> Any:
    if api:
        body = BODIES.get((method, path))
        return client.api(method, url, json=body) if body is not None else client.api(method, url)
    data = {CSRF_FIELD: csrf} if csrf and method != "GET" else None
    return client.request(method, url, data=data, files=FILES.get((method, path)))


@pytest.fixture()
def other(db: Session, world: factories.World) -> Objects:
    return _other_tenant_objects(db, world)


def _signed_in(make_client: Callable[..., Browser], username: str, slug: str = "haiphong") -> Browser:
    c = make_client(slug)
    c.login_page(username)
    c.login_api(username)
    return c


def test_every_route_refuses_the_anonymous_and_other_tenants(
    app: Any, world: factories.World, other: Objects, make_client: Callable[..., Browser]
) -> None:
    routes = _routes(app)
    assert len(routes) > 60, "the sweep sees too few routes: did route discovery break?"
    anonymous = make_client("haiphong")
    admin = _signed_in(make_client, "admin")
    learner = _signed_in(make_client, "learner")
    # Quảng Ninh's admin carries their own token (and cookie) to Hải Phòng's host.
    intruder = make_client("haiphong")
    qn_token = make_client("quangninh").login_api("admin")
    intruder.token = qn_token
    intruder.cookies.set(AUTH_COOKIE, qn_token, domain="haiphong.localhost")

    csrf = {id(admin): admin.csrf_from("/"), id(learner): learner.csrf_from("/")}
    problems: list[str] = []
    for method, path in routes:
        public = (method, path) in PUBLIC
        api = path.startswith("/api/")
        url = _fill(path, other.ids)
        checks: list[tuple[str, Browser, str | None]] = [("anonymous", anonymous, None)]
        checks.append(("quangninh admin on haiphong", intruder, None))
        if set(_PARAM.findall(path)) - NOT_IDS or path in NATIONAL_ONLY:
            checks += [
                ("haiphong admin", admin, csrf[id(admin)]),
                ("haiphong learner", learner, csrf[id(learner)]),
            ]
        for who, client, token in checks:
            r = _call(client, method, path, url, api=api, csrf=token)
            if r.status_code >= 500:
                problems.append(f"{method} {url} as {who}: server error {r.status_code}")
            elif public and who in ("anonymous", "quangninh admin on haiphong") and not _PARAM.findall(path):
                continue
            elif not _is_refusal(r):
                problems.append(f"{method} {url} as {who}: {r.status_code}, expected a refusal")
            if r.status_code == 200 and "Quảng Ninh" in r.text and path != "/":
                problems.append(f"{method} {url} as {who}: shows Quảng Ninh's data")
    assert not problems, "\n".join(problems)


def test_every_html_page_carries_the_security_headers(
    app: Any, world: factories.World, make_client: Callable[..., Browser]
) -> None:
    admin = _signed_in(make_client, "admin")
    for method, path in _routes(app):
        if method != "GET" or path.startswith("/api/") or _PARAM.search(path):
            continue
        r = admin.get(path)
        if not r.headers.get("content-type", "").startswith("text/html"):
            continue
        csp = r.headers.get("content-security-policy", "")
        script_src = csp.split("script-src", 1)[1].split(";", 1)[0] if "script-src" in csp else ""
        assert script_src, f"{path}: no script-src in the CSP"
        assert "unsafe-inline" not in script_src, f"{path}: inline script allowed"
        for tag in re.findall(r"<script[^>]*>", r.text):
            assert "src=" in tag, f"{path}: inline <script>"
        assert "frame-ancestors 'none'" in csp, path
        assert r.headers.get("x-content-type-options") == "nosniff", path
        assert r.headers.get("referrer-policy"), path


def test_every_state_changing_form_route_refuses_a_post_without_csrf_token(
    app: Any, world: factories.World, other: Objects, make_client: Callable[..., Browser]
) -> None:
    admin = make_client("haiphong")
    admin.login_page("admin")
    ids = {**other.ids}
    for method, path in _routes(app):
        if path.startswith("/api/") or method in ("GET", "HEAD", "OPTIONS"):
            continue
        url = _fill(path, ids)
        r = admin.request(method, url, data={"title": "x"})
        assert r.status_code == 403, f"{method} {path} without a CSRF token: {r.status_code}"
        assert "csrf" in r.text.lower() or "biểu mẫu" in r.text.lower(), f"{path}: {r.text[:200]}"


def test_ids_past_the_database_range_are_bad_input_not_server_errors(
    world: factories.World, make_client: Callable[..., Browser]
) -> None:
    """Found by schemathesis: `/api/v1/cohorts/9223372036854775808` was a 500 (OverflowError on SQLite,
    DataError on PostgreSQL)."""
    admin = _signed_in(make_client, "admin")
    huge = str(2**63)
    for url in (f"/api/v1/cohorts/{huge}", f"/api/v1/users/{huge}", f"/lessons/{huge}", f"/cohorts/{huge}"):
        r = admin.api("GET", url) if url.startswith("/api/") else admin.get(url)
        assert r.status_code in (404, 422), f"{url}: {r.status_code}"


def test_an_id_past_the_database_range_is_refused_before_the_database_sees_it(
    world: factories.World, make_client: Callable[..., Browser]
) -> None:
    admin = _signed_in(make_client, "admin")
    huge = str(2**63)
    for method, url in (
        ("GET", f"/api/v1/cohorts/{huge}"),
        ("POST", f"/api/v1/cohorts/{huge}/certificates.zip"),
    ):
        r = admin.api(method, url)
        assert r.status_code == 422 and r.json()["code"] == "out_of_range", (url, r.text)
        assert r.json()["detail"] == "Một con số trong yêu cầu vượt quá giới hạn cho phép.", r.text


def test_ids_are_32_bit_on_both_databases_and_only_declared_ids_are_checked(
    world: factories.World, make_client: Callable[..., Browser]
) -> None:
    """Ids are INTEGER columns: PostgreSQL stores up to 2^31 - 1, so one more is refused the same way on
    SQLite (whose rowids would go further) before any query; the largest id is still just an unknown id."""
    admin = _signed_in(make_client, "admin")
    r = admin.api("GET", f"/api/v1/cohorts/{2**31}")
    assert r.status_code == 422 and r.json()["code"] == "out_of_range", r.text
    assert admin.api("GET", f"/api/v1/cohorts/{2**31 - 1}").status_code == 404
    # A course slug made of digits is a slug, not an id: not found, not out of range.
    assert admin.api("GET", f"/api/v1/courses/{2**40}").status_code == 404
