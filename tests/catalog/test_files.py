"""Courses as files: import is idempotent, an edited lesson updates just that lesson, export round-trips."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import select

from app.catalog.files import export_course, import_folder
from app.catalog.models import Course, Lesson, MediaFile
from app.catalog.storage import DiskStorage
from app.core.errors import Invalid
from app.tenancy.scoping import cross_tenant
from tests.factories import FIXTURE_COURSES, MAX_UPLOAD, import_courses, in_tenant


def _lessons(db) -> dict[str, tuple[str, object]]:
    with cross_tenant(db):
        rows = db.scalars(select(Lesson)).all()
        return {x.slug: (x.content_hash, x.updated_at) for x in rows}


def test_import_creates_the_course_in_the_national_catalog(world, db, settings) -> None:
    stats = import_courses(db, world, settings.media_dir)
    assert (stats.courses_created, stats.lessons_created) == (1, 5)
    with in_tenant(db, world.national):
        course = db.scalars(select(Course).where(Course.slug == "an-toan-mang")).one()
        assert course.tenant_id == world.national.id
        assert course.is_published and course.certificate
        assert course.completion_quizzes == ["kiem-tra"]
        assert course.required_lessons == 4  # 05-doc-them is optional
        lessons = {x.slug: x for x in db.scalars(select(Lesson))}
        assert lessons["04-kiem-tra"].kind == "quiz" and lessons["04-kiem-tra"].quiz_slug == "kiem-tra"
        assert lessons["05-doc-them"].embed_url == "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"
        video = db.get(MediaFile, lessons["02-video"].media_id)
        assert video is not None and video.content_type == "video/mp4"
        assert (settings.media_dir / video.storage_key).read_bytes() == (
            FIXTURE_COURSES / "an-toan-mang" / "media" / "goi-gia-danh.mp4"
        ).read_bytes()
        assert "<script" not in lessons["01-lua-dao"].body_html


def test_second_import_changes_nothing(world, db, settings) -> None:
    import_courses(db, world, settings.media_dir)
    before = _lessons(db)
    with cross_tenant(db):
        media_count = len(db.scalars(select(MediaFile)).all())
    stats = import_courses(db, world, settings.media_dir)
    assert stats.changed == 0 and stats.lessons_unchanged == 5
    assert _lessons(db) == before
    with cross_tenant(db):
        assert len(db.scalars(select(MediaFile)).all()) == media_count  # media not copied again


def test_edited_lesson_file_updates_just_that_lesson(world, db, settings, tmp_path) -> None:
    root = tmp_path / "courses"
    shutil.copytree(FIXTURE_COURSES, root)
    import_courses(db, world, settings.media_dir, root)
    before = _lessons(db)
    lesson_file = root / "an-toan-mang" / "lessons" / "01-lua-dao.md"
    lesson_file.write_text(lesson_file.read_text(encoding="utf-8") + "\nCâu mới.\n", encoding="utf-8")
    stats = import_courses(db, world, settings.media_dir, root)
    assert (stats.lessons_updated, stats.lessons_unchanged) == (1, 4)
    after = _lessons(db)
    assert after["01-lua-dao"][0] != before["01-lua-dao"][0]
    assert {k: v for k, v in after.items() if k != "01-lua-dao"} == {
        k: v for k, v in before.items() if k != "01-lua-dao"
    }
    with cross_tenant(db):
        body = db.scalars(select(Lesson.body_html).where(Lesson.slug == "01-lua-dao")).one()
    assert "Câu mới." in body


def test_lesson_removed_from_course_yaml_is_removed(world, db, settings, tmp_path) -> None:
    root = tmp_path / "courses"
    shutil.copytree(FIXTURE_COURSES, root)
    import_courses(db, world, settings.media_dir, root)
    yaml_file = root / "an-toan-mang" / "course.yaml"
    yaml_file.write_text(yaml_file.read_text(encoding="utf-8").replace(", 05-doc-them", ""), encoding="utf-8")
    stats = import_courses(db, world, settings.media_dir, root)
    assert stats.lessons_removed == 1
    assert "05-doc-them" not in _lessons(db)


def test_export_then_import_changes_nothing(world, db, settings, tmp_path) -> None:
    import_courses(db, world, settings.media_dir)
    before = _lessons(db)
    out = tmp_path / "export"
    with in_tenant(db, world.national):
        folder = export_course(db, "an-toan-mang", out, DiskStorage(settings.media_dir))
    assert (folder / "course.yaml").is_file()
    assert (folder / "lessons" / "04-kiem-tra.md").read_text(encoding="utf-8").count("quiz: kiem-tra") == 1
    assert (folder / "media" / "goi-gia-danh.mp4").is_file()
    stats = import_courses(db, world, settings.media_dir, out)
    assert stats.changed == 0 and stats.lessons_unchanged == 5
    assert _lessons(db) == before


def test_video_link_outside_the_allow_list_is_refused(world, db, settings, tmp_path) -> None:
    root = tmp_path / "courses"
    shutil.copytree(FIXTURE_COURSES, root)
    lesson = root / "an-toan-mang" / "lessons" / "05-doc-them.md"
    lesson.write_text(
        lesson.read_text(encoding="utf-8").replace(
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "https://evil.example/v"
        ),
        encoding="utf-8",
    )
    with in_tenant(db, world.national), pytest.raises(Invalid):
        import_folder(db, root, DiskStorage(settings.media_dir), max_bytes=MAX_UPLOAD)


def test_cli_import_and_export(world, db, settings, tmp_path, monkeypatch) -> None:
    """`onetouch courses import` then `export` against a real database file."""
    from app import cli
    from app.core.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.setenv("COURSES_DIR", str(tmp_path / "none"))
    assert cli.main(["seed"]) == 0
    assert cli.main(["courses", "import", str(FIXTURE_COURSES)]) == 0
    assert cli.main(["courses", "import", str(FIXTURE_COURSES)]) == 0
    assert cli.main(["courses", "export", "an-toan-mang", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "an-toan-mang" / "lessons" / "01-lua-dao.md").is_file()
