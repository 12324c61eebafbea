"""Quizzes as files: imported with the course (YAML or GIFT), idempotently; export round-trips."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from app.catalog.files import export_course
from app.catalog.storage import DiskStorage
from app.core.errors import Invalid
from app.quizzes.models import Quiz, QuizQuestion
from app.tenancy.scoping import cross_tenant
from tests.factories import QUIZ_YAML, import_courses, in_tenant, write_quiz_course

SHIPPED = Path(__file__).resolve().parents[2] / "courses"


def _quiz_state(db) -> dict:  # type: ignore[no-untyped-def,type-arg]
    db.expire_all()
    with cross_tenant(db):
        quizzes = {q.slug: (q.content_hash, q.updated_at, q.title, q.draw) for q in db.scalars(select(Quiz))}
        questions = {
            (q.quiz_id, q.key): (q.text, q.options, q.position) for q in db.scalars(select(QuizQuestion))
        }
    return {"quizzes": quizzes, "questions": questions}


def test_import_loads_the_quiz_and_a_second_import_changes_nothing(world, db, settings, tmp_path) -> None:
    folder = write_quiz_course(tmp_path)
    stats = import_courses(db, world, settings.media_dir, folder)
    assert stats.quizzes_created == 1
    before = _quiz_state(db)
    with cross_tenant(db):
        quiz = db.scalars(select(Quiz)).one()
        assert (quiz.title, quiz.pass_percent, quiz.time_limit_minutes, quiz.max_attempts) == (
            "Kiểm tra cuối khóa",
            75.0,
            10,
            2,
        )
        assert quiz.tenant_id == world.national.id
    assert len(before["questions"]) == 4
    again = import_courses(db, world, settings.media_dir, folder)
    assert again.changed == 0 and again.quizzes_unchanged == 1
    assert _quiz_state(db) == before


def test_an_edited_quiz_file_updates_the_quiz(world, db, settings, tmp_path) -> None:
    folder = write_quiz_course(tmp_path)
    import_courses(db, world, settings.media_dir, folder)
    edited = QUIZ_YAML.replace("Mật khẩu nào mạnh nhất?", "Mật khẩu nào an toàn nhất?").replace(
        "max_attempts: 2", "max_attempts: 3"
    )
    (folder / "quizzes" / "kiem-tra.yaml").write_text(edited, encoding="utf-8")
    stats = import_courses(db, world, settings.media_dir, folder)
    assert stats.quizzes_updated == 1 and stats.lessons_unchanged == 2
    with cross_tenant(db):
        quiz = db.scalars(select(Quiz)).one()
        q1 = db.scalars(select(QuizQuestion).where(QuizQuestion.key == "q1")).one()
        assert quiz.max_attempts == 3 and q1.text == "Mật khẩu nào an toàn nhất?"
        assert db.scalars(select(QuizQuestion)).all().__len__() == 4


def test_a_gift_bank_beside_the_settings_is_imported(world, db, settings, tmp_path) -> None:
    folder = write_quiz_course(tmp_path, quiz_yaml='title: "Kiểm tra"\npass_percent: 50\n')
    (folder / "quizzes" / "kiem-tra.gift").write_text(
        "::cau-1:: Thủ đô của Việt Nam? {=Hà Nội ~Huế ~Đà Nẵng}\n\n::cau-2:: Trái đất tròn. {T}\n",
        encoding="utf-8",
    )
    import_courses(db, world, settings.media_dir, folder)
    with cross_tenant(db):
        keys = [q.key for q in db.scalars(select(QuizQuestion).order_by(QuizQuestion.position))]
    assert keys == ["cau-1", "cau-2"]
    # Exported as YAML, it imports back as the same quiz.
    out = tmp_path / "export"
    with in_tenant(db, world.national):
        exported = export_course(db, folder.name, out, DiskStorage(settings.media_dir))
    assert (exported / "quizzes" / "kiem-tra.yaml").is_file()
    before = _quiz_state(db)
    stats = import_courses(db, world, settings.media_dir, exported)
    assert stats.changed == 0 and _quiz_state(db) == before


def test_export_then_import_changes_nothing(world, db, settings, tmp_path) -> None:
    folder = write_quiz_course(tmp_path / "src")
    import_courses(db, world, settings.media_dir, folder)
    before = _quiz_state(db)
    out = tmp_path / "export"
    with in_tenant(db, world.national):
        exported = export_course(db, folder.name, out, DiskStorage(settings.media_dir))
    text = (exported / "quizzes" / "kiem-tra.yaml").read_text(encoding="utf-8")
    assert "correct: true" in text and "VNeID" in text and "GIAI-THICH-Q1" in text
    stats = import_courses(db, world, settings.media_dir, exported)
    assert stats.changed == 0 and stats.quizzes_unchanged == 1
    assert _quiz_state(db) == before


def test_a_broken_quiz_file_names_the_file_and_line_and_imports_nothing(
    world, db, settings, tmp_path
) -> None:
    folder = write_quiz_course(tmp_path, quiz_yaml=QUIZ_YAML.replace("        correct: true\n", "", 1))
    with pytest.raises(Invalid) as exc:
        import_courses(db, world, settings.media_dir, folder)
    assert "kiem-tra.yaml" in exc.value.params["path"]
    assert "q1" in exc.value.params["problem"] and "line 8" in exc.value.params["problem"]
    db.rollback()
    with cross_tenant(db):
        assert db.scalars(select(Quiz)).all() == []


def test_the_shipped_courses_load_with_their_quizzes(world, db, settings, tmp_path) -> None:
    root = tmp_path / "courses"
    shutil.copytree(SHIPPED, root, ignore=shutil.ignore_patterns("README.md"))
    stats = import_courses(db, world, settings.media_dir, root)
    assert stats.courses_created == 3 and stats.quizzes_created == 3
    with cross_tenant(db):
        for quiz in db.scalars(select(Quiz)):
            count = len(db.scalars(select(QuizQuestion).where(QuizQuestion.quiz_id == quiz.id)).all())
            assert count == 18 and quiz.draw == 10
    assert import_courses(db, world, settings.media_dir, root).changed == 0
