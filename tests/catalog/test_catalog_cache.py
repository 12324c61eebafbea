"""The published catalog comes from the content cache: the same list for every learner of a portal, changed
at once by an edit, never another province's courses."""

from __future__ import annotations

from app.catalog import service as catalog
from app.catalog.models import Course
from tests.factories import in_tenant, make_course


def _slugs(client) -> list[str]:  # type: ignore[no-untyped-def]
    return [c["slug"] for c in client.api("GET", "/api/v1/courses").json()["items"]]


def test_the_cached_catalog_follows_edits_and_stays_in_its_portal(world, db, make_client, app) -> None:
    make_course(db, world.national, "quoc-gia", "Khoá quốc gia")
    make_course(db, world.haiphong, "hai-phong", "Khoá Hải Phòng")
    make_course(db, world.quangninh, "quang-ninh", "Khoá Quảng Ninh")
    haiphong, quangninh = make_client("haiphong"), make_client("quangninh")
    haiphong.login_api("learner")
    quangninh.login_api("learner")
    assert sorted(_slugs(haiphong)) == ["hai-phong", "quoc-gia"]
    assert sorted(_slugs(quangninh)) == ["quang-ninh", "quoc-gia"]
    assert sorted(_slugs(haiphong)) == ["hai-phong", "quoc-gia"]  # from the cache now
    assert any(key.startswith("content:") and ":catalog:" in key for key in app.state.cache._values)

    make_course(db, world.haiphong, "moi", "Khoá mới")  # published: shows at once
    assert sorted(_slugs(haiphong)) == ["hai-phong", "moi", "quoc-gia"]
    page = haiphong.get("/courses")
    assert "Khoá mới" in page.text and "Khoá Quảng Ninh" not in page.text
    with in_tenant(db, world.haiphong):
        course = db.get(Course, next(c.id for c in catalog.list_courses(db)[0] if c.slug == "moi"))
        catalog.set_published(db, course, False)
    db.commit()
    assert sorted(_slugs(haiphong)) == ["hai-phong", "quoc-gia"]  # unpublished: gone at once
    assert "quang-ninh" not in _slugs(haiphong)
