"""Authoring in the browser: trainers build and publish courses; provinces cannot edit national ones."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.catalog.models import Course
from app.tenancy.scoping import cross_tenant
from tests.factories import lesson_ids, make_course


def test_trainer_builds_and_publishes_a_course(world, db, make_client) -> None:
    client = make_client("haiphong")
    client.login_page("trainer")
    r = client.submit(
        "/author",
        action="/author/courses",
        data={"title": "Kỹ năng số cho tổ CNSCĐ", "target_groups": ["digital_team_member"]},
    )
    assert r.status_code == 303 and r.headers["location"] == "/author/courses/ky-nang-so-cho-to-cnscd"
    editor = r.headers["location"]
    assert client.submit(editor, action=editor + "/modules", data={"title": "Phần 1"}).status_code == 303
    module_id = re.search(r"/author/modules/(\d+)/lessons", client.get(editor).text).group(1)
    for title in ("Bài một", "Bài hai"):
        r = client.submit(
            editor, action=f"/author/modules/{module_id}/lessons", data={"title": title, "kind": "text"}
        )
        assert r.status_code == 303
    lesson_url = r.headers["location"]
    r = client.submit(
        lesson_url,
        data={
            "title": "Bài hai",
            "kind": "text",
            "body_md": "**Xin chào** <script>x()</script>",
            "required": "1",
        },
    )
    assert r.status_code == 303
    # Reorder: "Bài hai" moves above "Bài một".
    lesson_id = lesson_url.rsplit("/", 1)[1]
    client.submit(editor, action=f"/author/lessons/{lesson_id}/move", data={"direction": "up"})
    page = client.get(editor).text
    assert page.index("Bài hai") < page.index("Bài một")
    # Draft: learners cannot see it; after publishing they can.
    learner = make_client("haiphong")
    learner.login_api("learner")
    assert learner.api("GET", "/api/v1/courses/ky-nang-so-cho-to-cnscd").status_code == 404
    assert client.submit(editor, action=editor + "/publish", data={"published": "1"}).status_code == 303
    r = learner.api("GET", "/api/v1/courses/ky-nang-so-cho-to-cnscd")
    assert r.status_code == 200
    assert [x["title"] for x in r.json()["modules"][0]["lessons"]] == ["Bài hai", "Bài một"]
    learner.api("POST", "/api/v1/courses/ky-nang-so-cho-to-cnscd/enrol")
    body = learner.api("GET", f"/api/v1/lessons/{lesson_id}").json()["body_html"]
    assert "<strong>Xin chào</strong>" in body and "<script" not in body
    with cross_tenant(db):
        course = db.scalars(select(Course).where(Course.slug == "ky-nang-so-cho-to-cnscd")).one()
    assert course.tenant_id == world.haiphong.id and course.target_groups == ["digital_team_member"]


def test_province_trainer_cannot_edit_a_national_course(world, db, make_client) -> None:
    course = make_course(db, world.national, "cds", "Chuyển đổi số")
    first = lesson_ids(db, world.national, course.id)[0]
    client = make_client("haiphong")
    client.login_page("trainer")
    assert client.get("/author/courses/cds").status_code == 403
    assert client.get(f"/author/lessons/{first}").status_code == 403
    token = client.csrf_from("/author")
    for url, data in (
        ("/author/courses/cds", {"title": "Đổi tên"}),
        ("/author/courses/cds/publish", {"published": "0"}),
        (f"/author/lessons/{first}", {"title": "Đổi", "kind": "text"}),
        (f"/author/lessons/{first}/move", {"direction": "down"}),
    ):
        r = client.post(url, data={**data, "csrf_token": token})
        assert r.status_code == 403, url
        assert "quốc gia" in r.text
    with cross_tenant(db):
        assert db.get(Course, course.id).title == "Chuyển đổi số"
    # The national trainer edits it on the national portal.
    national = make_client("national")
    national.login_page("trainer")
    assert national.get("/author/courses/cds").status_code == 200


def test_another_provinces_course_is_not_found_for_editing(world, db, make_client) -> None:
    course = make_course(db, world.quangninh, "qn", "Quảng Ninh")
    first = lesson_ids(db, world.quangninh, course.id)[0]
    client = make_client("haiphong")
    client.login_page("trainer")
    assert client.get("/author/courses/qn").status_code == 404
    assert client.get(f"/author/lessons/{first}").status_code == 404


def test_learners_cannot_author(world, make_client) -> None:
    client = make_client("haiphong")
    client.login_page("learner")
    assert client.get("/author").status_code == 403


def test_video_link_must_come_from_an_allowed_host(world, db, make_client) -> None:
    course = make_course(db, world.haiphong, "hp", "Hải Phòng")
    first = lesson_ids(db, world.haiphong, course.id)[0]
    client = make_client("haiphong")
    client.login_page("trainer")
    url = f"/author/lessons/{first}"
    r = client.submit(url, data={"title": "Video", "kind": "video", "video_link": "https://evil.example/x"})
    assert r.status_code == 422
    r = client.submit(
        url,
        data={"title": "Video", "kind": "video", "video_link": "https://www.youtube.com/watch?v=dQw4w9WgXcQ"},
    )
    assert r.status_code == 303
    page = client.get(f"/lessons/{first}").text
    assert 'src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"' in page
