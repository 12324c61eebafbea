"""The hot lesson path (app/progress/hot.py): the same answers as the general path, for fewer statements.

Every test records which path answered, so a change that quietly sent every request down the general path
(or the wrong ones down the hot one) fails here.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from app.core.rawsql import ScopedSQL
from app.progress import hot
from app.progress.models import Enrolment
from app.tenancy.models import Tenant
from app.tenancy.scoping import cross_tenant
from tests.factories import lesson_ids, make_course, make_user


@pytest.fixture()
def served(monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    """Which path answered each lesson request, in order: "hot" or "general"."""
    seen: list[str] = []
    for name in ("read", "complete", "catalog"):
        original = getattr(hot, name)

        def spy(request, token, lesson_id=0, _original=original, **kwargs):  # type: ignore[no-untyped-def]
            view = _original(request, token, lesson_id, **kwargs)
            seen.append("hot" if view is not None else "general")
            return view

        monkeypatch.setattr(hot, name, spy)
    return seen


def _general_only(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for name in ("read", "complete", "catalog"):
        monkeypatch.setattr(hot, name, lambda request, token, lesson_id=0, **kwargs: None)


def _enrolled(db, world, make_client, lessons=("A", "B", "C", "D")):  # type: ignore[no-untyped-def]
    """A learner enrolled in a haiphong course; every lesson is in the content cache (staff read it once)."""
    course = make_course(db, world.haiphong, "hp", "Hải Phòng", lessons=lessons)
    ids = lesson_ids(db, world.haiphong, course.id)
    staff = make_client("haiphong")
    staff.login_api("trainer")
    for lesson_id in ids:
        assert staff.api("GET", f"/api/v1/lessons/{lesson_id}").status_code == 200
    client = make_client("haiphong")
    client.login_api("learner")
    client.login_page("learner")
    assert client.api("POST", "/api/v1/courses/hp/enrol").status_code == 201
    return client, ids


def _enrolment(db) -> Enrolment:  # type: ignore[no-untyped-def]
    db.expire_all()
    with cross_tenant(db):
        return db.scalars(select(Enrolment)).one()


def test_hot_page_and_api_are_the_general_ones(world, db, make_client, served, monkeypatch) -> None:
    client, ids = _enrolled(db, world, make_client)
    client.get(f"/lessons/{ids[0]}")  # the first lesson starts the course: the general path counts it
    assert served[-1] == "general"
    served.clear()
    hot_page = client.get(f"/lessons/{ids[1]}")
    hot_api = client.api("GET", f"/api/v1/lessons/{ids[1]}")
    assert served == ["hot", "hot"]
    assert hot_page.status_code == 200 and hot_api.status_code == 200
    assert "<h1>B</h1>" in hot_page.text and f'action="/lessons/{ids[1]}/complete"' in hot_page.text

    _general_only(monkeypatch)
    general_page = client.get(f"/lessons/{ids[1]}")
    general_api = client.api("GET", f"/api/v1/lessons/{ids[1]}")
    assert hot_page.text == general_page.text  # the same page, the same CSRF token, byte for byte
    assert hot_api.json() == general_api.json()
    assert hot_api.json()["previous_id"] == ids[0] and hot_api.json()["next_id"] == ids[2]


def test_the_hot_pages_form_completes_the_lesson(world, db, make_client, served) -> None:
    client, ids = _enrolled(db, world, make_client)
    client.get(f"/lessons/{ids[0]}")
    # submit() loads the page (hot) and posts its form with the CSRF token the page printed. The token
    # travels in the form body, which only the router reads: the general path completes the lesson.
    served.clear()
    r = client.submit(f"/lessons/{ids[1]}", action=f"/lessons/{ids[1]}/complete")
    assert served == ["hot"]
    assert r.status_code == 303 and r.headers["location"] == f"/lessons/{ids[2]}", r.text
    assert _enrolment(db).lessons_completed == 1


def test_continue_resumes_from_a_buffered_visit_and_the_flush_writes_it(world, db, make_client, app) -> None:
    client, ids = _enrolled(db, world, make_client)
    client.get(f"/lessons/{ids[0]}")
    client.get(f"/lessons/{ids[2]}")  # hot: buffered, not written
    assert _enrolment(db).last_lesson_id == ids[0]
    assert client.get("/courses/hp/continue").headers["location"] == f"/lessons/{ids[2]}"
    assert app.state.lesson_visits.flush(app.state.session_factory) == 1
    assert _enrolment(db).last_lesson_id == ids[2]
    assert app.state.lesson_visits.pending(world.haiphong.id, _enrolment(db).id) is None
    assert client.get("/courses/hp/continue").headers["location"] == f"/lessons/{ids[2]}"


def test_hot_completion_counts_once_and_the_last_lesson_completes_the_course(
    world, db, make_client, served
) -> None:
    client, ids = _enrolled(db, world, make_client, lessons=("A", "B", "C"))
    client.get(f"/lessons/{ids[0]}")
    r = client.api("POST", f"/api/v1/lessons/{ids[0]}/complete")
    assert (r.status_code, r.json()["lessons_completed"], r.json()["percent"]) == (200, 1, 33)
    again = client.api("POST", f"/api/v1/lessons/{ids[0]}/complete").json()
    assert (again["lessons_completed"], again["percent"]) == (1, 33)
    r = client.api("POST", f"/api/v1/lessons/{ids[1]}/complete").json()
    assert (r["lessons_completed"], r["percent"]) == (2, 66)
    assert served[-3:] == ["hot", "hot", "hot"]
    assert _enrolment(db).last_lesson_id == ids[1]  # a completion writes the move at once
    r = client.api("POST", f"/api/v1/lessons/{ids[2]}/complete").json()
    assert served[-1] == "general"  # the last lesson completes the course: the general path decides
    assert (r["lessons_completed"], r["percent"]) == (3, 100) and r["completed_at"] is not None
    e = _enrolment(db)
    assert e.completed_at is not None and e.lessons_completed == 3


def test_the_hot_path_refuses_what_the_general_path_refuses(world, db, make_client, served) -> None:
    client, ids = _enrolled(db, world, make_client)
    client.get(f"/lessons/{ids[0]}")
    token = client.token
    # A token of this portal, sent to another: refused (the hot path steps aside, the general path answers).
    other = make_client("quangninh")
    other.token = token
    assert other.api("GET", f"/api/v1/lessons/{ids[1]}").status_code == 401
    # Another portal's learner asking for this portal's (cached) lesson: not found there.
    other.login_api("learner")
    assert other.api("GET", f"/api/v1/lessons/{ids[1]}").status_code == 404
    assert other.api("POST", f"/api/v1/lessons/{ids[1]}/complete").status_code == 404
    # Signing out everywhere revokes the token at once, cached verification or not.
    assert client.api("GET", f"/api/v1/lessons/{ids[1]}").status_code == 200
    assert served[-1] == "hot"
    assert client.api("POST", "/api/v1/auth/logout").status_code in (200, 204)
    assert client.api("GET", f"/api/v1/lessons/{ids[1]}").status_code == 401
    assert client.api("POST", f"/api/v1/lessons/{ids[1]}/complete").status_code == 401
    with cross_tenant(db):
        assert _enrolment(db).lessons_completed == 0


def test_staff_and_unenrolled_learners_take_the_general_path(world, db, make_client, served) -> None:
    client, ids = _enrolled(db, world, make_client)
    client.get(f"/lessons/{ids[0]}")
    trainer = make_client("haiphong")
    trainer.login_api("trainer")
    assert trainer.api("GET", f"/api/v1/lessons/{ids[1]}").status_code == 200  # staff may read
    assert served[-1] == "general"
    make_user(db, world.haiphong, "stranger")
    db.commit()
    stranger = make_client("haiphong")
    stranger.login_api("stranger")
    assert stranger.api("POST", f"/api/v1/lessons/{ids[1]}/complete").status_code == 403
    assert served[-1] == "general"


def test_scoped_sql_refuses_a_statement_without_the_tenant_filter() -> None:
    ScopedSQL("SELECT e.id FROM enrolment e WHERE e.tenant_id = :tenant AND e.id = :id")
    with pytest.raises(ValueError, match="enrolment"):
        ScopedSQL("SELECT e.id FROM enrolment e WHERE e.id = :id")
    with pytest.raises(ValueError, match="user_account"):
        ScopedSQL(
            "SELECT e.id FROM enrolment e JOIN user_account u ON u.id = e.user_id WHERE e.tenant_id = :tenant"
        )
    with pytest.raises(ValueError, match="lesson_progress"):
        ScopedSQL("INSERT INTO lesson_progress (tenant_id, lesson_id) VALUES (:other, :lesson)")
    with pytest.raises(ValueError, match="enrolment"):
        ScopedSQL("UPDATE enrolment SET percent = 0 WHERE id = :id")


def test_hot_htmx_completion_returns_the_same_fragment_as_the_general_path(
    world, db, make_client, served, monkeypatch
) -> None:
    client, ids = _enrolled(db, world, make_client)
    client.get(f"/lessons/{ids[0]}")
    headers = {"X-CSRF-Token": client.csrf_from(f"/lessons/{ids[1]}"), "HX-Request": "true"}
    served.clear()
    hot_fragment = client.post(f"/lessons/{ids[1]}/complete", headers=headers)
    assert served == ["hot"] and hot_fragment.status_code == 200
    assert hot_fragment.text.lstrip().startswith('<div id="progress"') and 'value="25"' in hot_fragment.text
    _general_only(monkeypatch)
    general_fragment = client.post(f"/lessons/{ids[1]}/complete", headers=headers)  # again: changes nothing
    assert general_fragment.text == hot_fragment.text
    assert _enrolment(db).lessons_completed == 1


def test_a_failure_on_the_hot_path_is_answered_by_the_router(world, db, make_client, monkeypatch) -> None:
    client, ids = _enrolled(db, world, make_client)
    client.get(f"/lessons/{ids[0]}")

    def broken(request, token, lesson_id, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("the database went away")

    monkeypatch.setattr(hot, "read", broken)
    monkeypatch.setattr(hot, "complete", broken)
    assert client.api("GET", f"/api/v1/lessons/{ids[1]}").json()["id"] == ids[1]
    assert client.api("POST", f"/api/v1/lessons/{ids[1]}/complete").json()["lessons_completed"] == 1


def test_a_bad_csrf_header_is_refused_by_the_router(world, db, make_client, served) -> None:
    client, ids = _enrolled(db, world, make_client)
    client.get(f"/lessons/{ids[0]}")
    r = client.post(f"/lessons/{ids[1]}/complete", headers={"X-CSRF-Token": "forged", "HX-Request": "true"})
    assert r.status_code == 403
    assert _enrolment(db).lessons_completed == 0


def test_the_assembled_page_follows_a_renamed_portal(world, db, make_client, served, app) -> None:
    client, ids = _enrolled(db, world, make_client)
    client.get(f"/lessons/{ids[0]}")
    assert "Hải Phòng" in client.get(f"/lessons/{ids[1]}").text
    db.execute(
        update(Tenant).where(Tenant.id == world.haiphong.id).values(display_name="Thành phố Hải Phòng mới")
    )
    db.commit()
    app.state.tenant_cache.clear()  # what its TTL does on every worker
    assert "Thành phố Hải Phòng mới" in client.get(f"/lessons/{ids[1]}").text  # general: reloads the portal
    page = client.get(f"/lessons/{ids[1]}")
    assert served[-2:] == ["general", "hot"] and "Thành phố Hải Phòng mới" in page.text


def test_the_hot_catalog_is_the_general_one(world, db, make_client, served, monkeypatch) -> None:
    client, _ids = _enrolled(db, world, make_client)
    make_course(db, world.national, "quoc-gia", "Khoá quốc gia")
    make_course(db, world.quangninh, "quang-ninh", "Khoá Quảng Ninh")
    client.get("/courses")  # the first view fills the content cache: general
    served.clear()
    hot_page, hot_api = client.get("/courses"), client.api("GET", "/api/v1/courses")
    assert served == ["hot", "hot"]
    assert "Khoá quốc gia" in hot_page.text and "Khoá Quảng Ninh" not in hot_page.text
    assert sorted(c["slug"] for c in hot_api.json()["items"]) == ["hp", "quoc-gia"]
    assert client.api("GET", "/api/v1/courses?q=quoc").json()["total"] == 1  # a search: the router
    assert served == ["hot", "hot"]
    _general_only(monkeypatch)
    assert client.get("/courses").text == hot_page.text  # byte for byte, CSRF token included
    assert client.api("GET", "/api/v1/courses").json() == hot_api.json()


def test_the_hot_catalog_refuses_what_the_general_one_refuses(world, db, make_client, served) -> None:
    client, _ids = _enrolled(db, world, make_client)
    client.get("/courses")
    trainer = make_client("haiphong")
    trainer.login_api("trainer")
    assert trainer.api("GET", "/api/v1/courses").status_code == 200
    assert served[-1] == "general"  # staff: the general path
    other = make_client("quangninh")
    other.token = client.token
    assert other.api("GET", "/api/v1/courses").status_code == 401  # another portal's token
    assert client.api("POST", "/api/v1/auth/logout").status_code == 204
    assert client.api("GET", "/api/v1/courses").status_code == 401  # revoked at once
