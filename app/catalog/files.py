"""Courses as files (`courses/README.md`): import folders into the catalog idempotently, export them back.

Each lesson keeps a hash of its file form (front matter, body and the bytes of its media), so a second import
changes nothing and an edited lesson file updates just that lesson.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.catalog import service
from app.catalog.models import DOCUMENT, LESSON_KINDS, PUBLISHED, QUIZ, VIDEO, Course, CourseModule, Lesson
from app.catalog.rendering import embed_url, render_markdown
from app.catalog.storage import DOCUMENT_TYPES, VIDEO_TYPES, Storage
from app.core.db import utcnow
from app.core.errors import N_, Invalid, NotFound
from app.core.i18n import translate
from app.core.text import nfc
from app.quizzes import service as quizzes_service
from app.quizzes.bank import QuizDefinition, load_quiz_file
from app.tenancy.scoping import bound_tenant_id

COURSE_FILE = "course.yaml"
LESSONS_DIR = "lessons"
MEDIA_DIR = "media"
QUIZZES_DIR = "quizzes"


@dataclass
class LessonFile:
    slug: str
    meta: dict[str, Any]
    body: str
    media: Path | None = None  # a local video or PDF beside the course


@dataclass
class CourseFolder:
    path: Path
    meta: dict[str, Any]
    lessons: dict[str, LessonFile]
    # Parsed `quizzes/<slug>.yaml` (with `<slug>.gift` banks), by slug: checked before anything is written.
    quizzes: dict[str, QuizDefinition] = field(default_factory=dict)


@dataclass
class ImportStats:
    courses_created: int = 0
    courses_updated: int = 0
    lessons_created: int = 0
    lessons_updated: int = 0
    lessons_unchanged: int = 0
    lessons_removed: int = 0
    quizzes_created: int = 0
    quizzes_updated: int = 0
    quizzes_unchanged: int = 0
    slugs: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return (
            self.courses_created
            + self.courses_updated
            + self.lessons_created
            + self.lessons_updated
            + self.lessons_removed
            + self.quizzes_created
            + self.quizzes_updated
        )

    def add(self, other: ImportStats) -> None:
        for name in (
            "courses_created",
            "courses_updated",
            "lessons_created",
            "lessons_updated",
            "lessons_unchanged",
            "lessons_removed",
            "quizzes_created",
            "quizzes_updated",
            "quizzes_unchanged",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.slugs += other.slugs


def _bad(path: Path, problem: str) -> Invalid:
    return Invalid(N_("{path}: {problem}"), code="course_file", path=str(path), problem=problem)


def split_front_matter(text: str, path: Path) -> tuple[dict[str, Any], str]:
    text = text.replace("\r\n", "\n").lstrip("\ufeff")
    if not text.startswith("---\n"):
        return {}, normalise_body(text)
    end = text.find("\n---", 3)
    if end == -1:
        raise _bad(path, "front matter is not closed with ---")
    try:
        meta = yaml.safe_load(text[4:end]) or {}
    except yaml.YAMLError as exc:
        raise _bad(path, f"front matter is not valid YAML ({exc})") from exc
    if not isinstance(meta, dict):
        raise _bad(path, "front matter must be a mapping")
    rest = text[end + 4 :]
    return meta, normalise_body(rest.split("\n", 1)[1] if "\n" in rest else "")


def normalise_body(body: str) -> str:
    body = nfc_lines(body).strip("\n")
    return body + "\n" if body.strip() else ""


def nfc_lines(text: str) -> str:
    import unicodedata

    return "\n".join(line.rstrip() for line in unicodedata.normalize("NFC", text).split("\n"))


def _local_file(folder: Path, ref: str, lesson_path: Path) -> Path:
    target = (folder / ref).resolve()
    if not target.is_relative_to(folder.resolve()) or not target.is_file():
        raise _bad(lesson_path, f"file {ref!r} not found in the course folder")
    return target


def read_course_folder(path: Path) -> CourseFolder:
    course_file = path / COURSE_FILE
    try:
        meta = yaml.safe_load(course_file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise _bad(course_file, f"cannot read ({exc})") from exc
    if not isinstance(meta, dict):
        raise _bad(course_file, "must be a mapping")
    for key in ("slug", "title", "modules"):
        if not meta.get(key):
            raise _bad(course_file, f"{key} is required")
    lessons: dict[str, LessonFile] = {}
    for module in meta["modules"]:
        if not isinstance(module, dict) or not module.get("slug") or not module.get("title"):
            raise _bad(course_file, "every module needs a slug and a title")
        for stem in module.get("lessons") or []:
            stem = str(stem)
            lesson_path = path / LESSONS_DIR / f"{stem}.md"
            if stem in lessons:
                raise _bad(course_file, f"lesson {stem} is listed twice")
            if not lesson_path.is_file():
                raise _bad(lesson_path, "lesson file not found")
            front, body = split_front_matter(lesson_path.read_text(encoding="utf-8"), lesson_path)
            kind = str(front.get("kind") or "text")
            if kind not in LESSON_KINDS:
                raise _bad(lesson_path, f"unknown kind {kind!r}")
            if not front.get("title"):
                raise _bad(lesson_path, "title is required")
            media: Path | None = None
            ref = front.get("video") if kind == VIDEO else front.get("document") if kind == DOCUMENT else None
            if ref and not (kind == VIDEO and str(ref).startswith(("http://", "https://"))):
                media = _local_file(path, str(ref), lesson_path)
            if kind == VIDEO and ref and media is None and embed_url(str(ref)) is None:
                raise _bad(lesson_path, f"video link {ref!r} is not on an allowed host")
            if kind == QUIZ and not front.get("quiz"):
                raise _bad(lesson_path, "a quiz lesson needs quiz: <quiz slug>")
            lessons[stem] = LessonFile(stem, front, body, media)
    return CourseFolder(path, meta, lessons, read_quizzes(path))


def read_quizzes(path: Path) -> dict[str, QuizDefinition]:
    """Every `quizzes/<slug>.yaml` of a course folder, parsed and checked (an error names file and line)."""
    quizzes: dict[str, QuizDefinition] = {}
    for quiz_path in sorted((path / QUIZZES_DIR).glob("*.yaml")):
        slug = service.slugify(quiz_path.stem, fallback="")
        if slug != quiz_path.stem:
            raise _bad(
                quiz_path, "a quiz file name uses lower-case letters without accents, digits and dashes"
            )
        try:
            quizzes[slug] = load_quiz_file(quiz_path)
        except Invalid as exc:
            raise _bad(quiz_path, translate("en", exc.message, **exc.params)) from exc
    return quizzes


def _lesson_fields(lf: LessonFile) -> dict[str, Any]:
    m = lf.meta
    kind = str(m.get("kind") or "text")
    duration = m.get("duration_minutes")
    return {
        "title": nfc(str(m["title"])),
        "kind": kind,
        "duration_minutes": service.clean_duration(duration),
        "required": bool(m.get("required", True)),
        # Normalised to the embed URL: a watch link and its exported embed link are the same lesson.
        "video_url": embed_url(str(m["video"]))
        if kind == VIDEO and m.get("video") and lf.media is None
        else None,
        "quiz": str(m["quiz"]) if kind == QUIZ and m.get("quiz") else None,
    }


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def lesson_hash(lf: LessonFile) -> str:
    """The lesson's identity in file form; a media file counts by its name and bytes, not its path."""
    data = {
        **_lesson_fields(lf),
        "body": lf.body,
        "media": [service._safe_filename(lf.media.name), _file_digest(lf.media)] if lf.media else None,
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _set(obj: Any, **values: Any) -> bool:
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


def import_course(session: Session, folder: CourseFolder, storage: Storage, *, max_bytes: int) -> ImportStats:
    """Create or update one course of the bound tenant (the national one, from the CLI) from its folder.

    Idempotent: the course row, then its modules and lessons in the folder's order (a lesson whose file and
    place are unchanged is left alone), then what the folder no longer lists is removed, then the quizzes.
    """
    stats = ImportStats()
    slug = service.clean_slug(str(folder.meta["slug"]))
    course, course_changed = _upsert_course(session, slug, folder.meta, stats)
    lessons_by_slug = {lesson.slug: lesson for m in course.modules for lesson in m.lessons}
    modules_by_slug = {m.slug: m for m in course.modules}
    wanted_lessons: set[str] = set()
    for m_index, m_meta in enumerate(folder.meta["modules"], start=1):
        module, module_changed = _upsert_module(session, course, modules_by_slug, m_meta, m_index)
        course_changed |= module_changed
        for l_index, stem in enumerate(m_meta.get("lessons") or [], start=1):
            lf = folder.lessons[str(stem)]
            wanted_lessons.add(lf.slug)
            lesson = lessons_by_slug.get(lf.slug)
            _upsert_lesson(session, storage, course, module, lesson, lf, l_index, stats, max_bytes)
    for lesson in list(lessons_by_slug.values()):
        if lesson.slug not in wanted_lessons:
            session.delete(lesson)
            stats.lessons_removed += 1
    wanted_modules = {str(m_meta["slug"]) for m_meta in folder.meta["modules"]}
    for module in list(course.modules):
        if module.slug not in wanted_modules:
            course.modules.remove(module)
            course_changed = True
    session.flush()
    for quiz_slug, definition in folder.quizzes.items():
        outcome = quizzes_service.import_quiz_definition(session, course, quiz_slug, definition)
        setattr(stats, f"quizzes_{outcome}", getattr(stats, f"quizzes_{outcome}") + 1)
    if course_changed and not stats.courses_created:
        stats.courses_updated += 1
    if course_changed or stats.changed:
        course.updated_at = utcnow()
    service.recount_required(session, course.id)
    stats.slugs.append(slug)
    return stats


def _upsert_course(
    session: Session, slug: str, meta: dict[str, Any], stats: ImportStats
) -> tuple[Course, bool]:
    """The course row from `course.yaml`, with its modules and lessons loaded; (course, changed?)."""
    course = session.scalars(
        select(Course)
        .where(Course.slug == slug, Course.tenant_id == bound_tenant_id(session))
        .options(selectinload(Course.modules).selectinload(CourseModule.lessons).selectinload(Lesson.media))
    ).first()
    completion = meta.get("completion") or {}
    fields = {
        "title": service.clean_title(str(meta["title"])),
        "summary": nfc(str(meta.get("summary") or "")),
        "target_groups": service.clean_target_groups([str(g) for g in meta.get("target_groups") or []]),
        "tags": service.clean_tags([str(t) for t in meta.get("tags") or []]),
        "completion_quizzes": [str(q) for q in completion.get("quizzes") or []],
        "certificate": bool(meta.get("certificate", False)),
        "source": "files",
    }
    if course is not None:
        changed = _set(course, **fields)
        return course, _set(course, search_folded=service.search_text(course)) | changed
    # Shipped courses are published straight away; an admin may unpublish them later.
    course = Course(slug=slug, status=PUBLISHED, published_at=utcnow(), **fields)
    course.modules = []
    course.search_folded = service.search_text(course)
    session.add(course)
    session.flush()
    stats.courses_created += 1
    return course, False


def _upsert_module(
    session: Session,
    course: Course,
    modules_by_slug: dict[str, CourseModule],
    m_meta: dict[str, Any],
    position: int,
) -> tuple[CourseModule, bool]:
    """A module of `course.yaml`'s list at its position; (module, changed?)."""
    m_slug = str(m_meta["slug"])
    title = nfc(str(m_meta["title"]))
    module = modules_by_slug.get(m_slug)
    if module is not None:
        return module, _set(module, title=title, position=position)
    module = CourseModule(course_id=course.id, slug=m_slug, title=title)
    module.position = position
    module.lessons = []
    course.modules.append(module)
    session.flush()
    return module, True


def _upsert_lesson(
    session: Session,
    storage: Storage,
    course: Course,
    module: CourseModule,
    lesson: Lesson | None,
    lf: LessonFile,
    position: int,
    stats: ImportStats,
    max_bytes: int,
) -> None:
    """A lesson file at its place in the module: counted unchanged when its content hash and place match."""
    digest = lesson_hash(lf)
    placed = lesson is not None and lesson.module_id == module.id and lesson.position == position
    if lesson is not None and lesson.content_hash == digest and placed:
        stats.lessons_unchanged += 1
        return
    if lesson is None:
        lesson = Lesson(course_id=course.id, module_id=module.id, slug=lf.slug, position=position)
        session.add(lesson)
        stats.lessons_created += 1
    else:
        stats.lessons_updated += 1
    lesson.module_id = module.id
    lesson.position = position
    if lesson.content_hash != digest:
        _apply_lesson_file(session, storage, course, lesson, lf, digest, max_bytes)
    session.flush()


def _apply_lesson_file(
    session: Session,
    storage: Storage,
    course: Course,
    lesson: Lesson,
    lf: LessonFile,
    digest: str,
    max_bytes: int,
) -> None:
    f = _lesson_fields(lf)
    lesson.title = f["title"]
    lesson.kind = f["kind"]
    lesson.duration_minutes = f["duration_minutes"]
    lesson.required = f["required"]
    lesson.quiz_slug = f["quiz"]
    lesson.body_md = lf.body
    lesson.body_html = render_markdown(lf.body)
    lesson.embed_url = f["video_url"]
    if lf.media is None:
        lesson.media_id = None
    else:
        sha = _file_digest(lf.media)
        current = session.get(service.MediaFile, lesson.media_id) if lesson.media_id else None
        if current is None or current.sha256 != sha:
            with lf.media.open("rb") as stream:
                media = service.store_media(
                    session,
                    storage,
                    stream,
                    filename=lf.media.name,
                    course_id=course.id,
                    allowed=VIDEO_TYPES if lesson.kind == VIDEO else DOCUMENT_TYPES,
                    max_bytes=max_bytes,
                )
            lesson.media_id = media.id
    lesson.content_hash = digest
    lesson.updated_at = utcnow()


def course_folders(root: Path) -> list[Path]:
    """`root` itself when it is a course folder, else every sub-folder holding a course.yaml."""
    if (root / COURSE_FILE).is_file():
        return [root]
    if not root.is_dir():
        raise Invalid(N_("{path}: {problem}"), code="course_file", path=str(root), problem="not a folder")
    return sorted(p for p in root.iterdir() if (p / COURSE_FILE).is_file())


def import_folder(session: Session, root: Path, storage: Storage, *, max_bytes: int) -> ImportStats:
    total = ImportStats()
    for path in course_folders(root):
        total.add(import_course(session, read_course_folder(path), storage, max_bytes=max_bytes))
    return total


def export_course(session: Session, slug: str, target: Path, storage: Storage) -> Path:
    """Write one of the bound tenant's courses as `<target>/<slug>/course.yaml` and `lessons/*.md`."""
    course = session.scalars(
        select(Course)
        .where(Course.slug == slug, Course.tenant_id == bound_tenant_id(session))
        .options(selectinload(Course.modules).selectinload(CourseModule.lessons).selectinload(Lesson.media))
    ).first()
    if course is None:
        raise NotFound(N_("Course not found."), code="course_not_found")
    out = target / course.slug
    (out / LESSONS_DIR).mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {
        "slug": course.slug,
        "title": course.title,
        "summary": course.summary,
        "target_groups": list(course.target_groups or []),
        "tags": list(course.tags or []),
        "completion": {"lessons": "required", "quizzes": list(course.completion_quizzes or [])},
        "certificate": course.certificate,
        "modules": [
            {"slug": m.slug, "title": m.title, "lessons": [lesson.slug for lesson in m.lessons]}
            for m in course.modules
        ],
    }
    (out / COURSE_FILE).write_text(_dump(meta), encoding="utf-8")
    for module in course.modules:
        for lesson in module.lessons:
            front: dict[str, Any] = {"title": lesson.title, "kind": lesson.kind}
            if lesson.duration_minutes:
                front["duration_minutes"] = lesson.duration_minutes
            front["required"] = lesson.required
            if lesson.media is not None:
                (out / MEDIA_DIR).mkdir(exist_ok=True)
                (out / MEDIA_DIR / lesson.media.filename).write_bytes(storage.read(lesson.media.storage_key))
                front["video" if lesson.kind == VIDEO else "document"] = (
                    f"{MEDIA_DIR}/{lesson.media.filename}"
                )
            elif lesson.kind == VIDEO and lesson.embed_url:
                front["video"] = lesson.embed_url
            if lesson.kind == QUIZ and lesson.quiz_slug:
                front["quiz"] = lesson.quiz_slug
            text = "---\n" + _dump(front) + "---\n\n" + lesson.body_md
            (out / LESSONS_DIR / f"{lesson.slug}.md").write_text(text, encoding="utf-8")
    for listed in quizzes_service.course_quizzes(session, course.id):
        quiz = quizzes_service.get_quiz(session, listed.id)
        if not quiz.questions:
            continue  # a quiz still being written in the browser: nothing a file could hold yet
        (out / QUIZZES_DIR).mkdir(exist_ok=True)
        data = quizzes_service.definition_to_yaml_data(quizzes_service.definition_of(quiz))
        (out / QUIZZES_DIR / f"{quiz.slug}.yaml").write_text(_dump(data), encoding="utf-8")
    return out


def _dump(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)
