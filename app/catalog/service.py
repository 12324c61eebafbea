"""The catalog: finding courses, reading them, and authoring them (courses, modules, lessons, media)."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app.accounts.constants import NATIONAL_ADMIN, TARGET_GROUPS, TENANT_ADMIN, TRAINER
from app.accounts.models import User
from app.catalog.constants import MAX_BODY, MAX_LESSON_MINUTES, MAX_SUMMARY, MAX_TITLE
from app.catalog.models import (
    DOCUMENT,
    DRAFT,
    LESSON_KINDS,
    PUBLISHED,
    QUIZ,
    VIDEO,
    Course,
    CourseModule,
    Lesson,
    MediaFile,
)
from app.catalog.rendering import embed_url, render_markdown
from app.catalog.storage import DOCUMENT_TYPES, IMAGE_TYPES, VIDEO_TYPES, Storage
from app.core.cache import CONTENT, Cache, cached
from app.core.db import utcnow
from app.core.errors import N_, Conflict, Forbidden, Invalid, NotFound
from app.core.numbers import parse_int
from app.core.text import clean_text, fold, nfc
from app.tenancy.scoping import bound_tenant_id, readable_tenant_ids

STAFF_ROLES = (TRAINER, TENANT_ADMIN, NATIONAL_ADMIN)
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,98}[a-z0-9]$|^[a-z0-9]$")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def is_staff(user: User | None) -> bool:
    return user is not None and user.has_role(*STAFF_ROLES)


def slugify(text: str, *, fallback: str = "bai") -> str:
    """`Chuyển đổi số là gì?` → `chuyen-doi-so-la-gi`."""
    slug = _NOT_SLUG.sub("-", fold(nfc(text))).strip("-")[:80].strip("-")
    return slug or fallback


def clean_slug(value: str) -> str:
    slug = value.strip().lower()
    if not _SLUG.match(slug):
        raise Invalid(
            N_("A course address may use lower-case letters without accents, digits and dashes."), code="slug"
        )
    return slug


def clean_title(value: str) -> str:
    title = nfc(value or "")
    if not title:
        raise Invalid(N_("The title is required."), code="title")
    if len(title) > MAX_TITLE:
        raise Invalid(N_("The title is too long."), code="title")
    return title


def clean_target_groups(values: Sequence[str]) -> list[str]:
    groups = [v for v in dict.fromkeys(v.strip() for v in values) if v]
    unknown = [g for g in groups if g not in TARGET_GROUPS]
    if unknown:
        raise Invalid(N_("Unknown target group: {group}."), code="group", group=", ".join(unknown))
    return groups


def clean_duration(value: str | int | None) -> int | None:
    """A lesson's duration in minutes as typed (empty: none); refused unless a whole number in range."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    minutes = parse_int(value.strip() if isinstance(value, str) else value, maximum=MAX_LESSON_MINUTES)
    if minutes is None:
        raise Invalid(
            N_("The duration is a whole number of minutes up to {max}, or empty."),
            code="duration",
            max=MAX_LESSON_MINUTES,
        )
    return minutes or None


def clean_tags(values: Sequence[str]) -> list[str]:
    return [t for t in dict.fromkeys(slugify(v, fallback="") for v in values) if t]


def search_text(course: Course) -> str:
    return fold(" ".join([course.title, course.summary or "", " ".join(course.tags or [])]))


# Reading ------------------------------------------------------------------------------------------


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def visible_courses_stmt(session: Session, user: User | None, *, include_drafts: bool = False):  # type: ignore[no-untyped-def]
    """Courses this tenant's catalog shows: its own and the national ones (scoping adds the tenant filter).

    Drafts only with `include_drafts`, and then only the tenant's own drafts, for its staff.
    """
    stmt = select(Course)
    if include_drafts and is_staff(user):
        stmt = stmt.where((Course.status == PUBLISHED) | (Course.tenant_id == bound_tenant_id(session)))
    else:
        stmt = stmt.where(Course.status == PUBLISHED)
    return stmt


@dataclass(frozen=True)
class CourseCard:
    """A published course as the catalog lists it: what the course cards and the list API show."""

    id: int
    tenant_id: int
    slug: str
    title: str
    summary: str
    status: str
    target_groups: list[str]
    tags: list[str]


def catalog_cards(session: Session, cache: Cache | None, *, ttl: float = 60.0) -> list[CourseCard]:
    """The portal's published catalog, newest first: the same for every learner of the portal, so cached per
    content version (any course change bumps it: app/catalog/cache_events.py)."""

    def load() -> list[dict[str, Any]]:
        stmt = visible_courses_stmt(session, None).order_by(Course.published_at.desc(), Course.id.desc())
        return [
            {
                "id": c.id,
                "tenant_id": c.tenant_id,
                "slug": c.slug,
                "title": c.title,
                "summary": c.summary,
                "status": c.status,
                "target_groups": list(c.target_groups or []),
                "tags": list(c.tags or []),
            }
            for c in session.scalars(stmt)
        ]

    rows = cached(cache, CONTENT, catalog_key(bound_tenant_id(session)), load, ttl)
    return cards_from(rows, readable_tenant_ids(session))


def catalog_key(tenant_id: int | None) -> str:
    return f"catalog:{tenant_id}"


def lesson_key(lesson_id: int) -> str:
    return f"lesson:{lesson_id}"


def outline_key(course_id: int) -> str:
    return f"outline:{course_id}"


def cards_from(rows: list[dict[str, Any]], readable: Collection[int | None]) -> list[CourseCard]:
    """The cached catalog's courses this portal may read (its own and the national ones)."""
    return [CourseCard(**row) for row in rows if row["tenant_id"] in readable]


def list_courses(
    session: Session,
    user: User | None = None,
    *,
    q: str | None = None,
    target_group: str | None = None,
    include_drafts: bool = False,
    own_only: bool = False,
    limit: int = 20,
    offset: int = 0,
    cache: Cache | None = None,
    ttl: float = 60.0,
) -> tuple[Sequence[Course | CourseCard], int]:
    """A page of the catalog and its size. The published catalog without a search comes from the content
    cache when `cache` is given (`catalog_cards`); drafts, a portal's own courses and searches from the
    database."""
    if cache is not None and not include_drafts and not own_only and not (q and fold(q)):
        cards = catalog_cards(session, cache, ttl=ttl)
        if target_group:
            cards = [c for c in cards if target_group in c.target_groups]
        return cards[offset : offset + limit], len(cards)
    stmt = visible_courses_stmt(session, user, include_drafts=include_drafts)
    if own_only:
        stmt = stmt.where(Course.tenant_id == bound_tenant_id(session))
    if q and fold(q):
        stmt = stmt.where(Course.search_folded.like(f"%{_escape_like(fold(q))}%", escape="\\"))
    rows = list(session.scalars(stmt.order_by(Course.published_at.desc(), Course.id.desc())))
    if target_group:
        # JSON containment differs between SQLite and PostgreSQL; catalogs are small, filter here.
        rows = [c for c in rows if target_group in (c.target_groups or [])]
    return rows[offset : offset + limit], len(rows)


def get_course(
    session: Session, slug: str, user: User | None = None, *, include_drafts: bool = False
) -> Course:
    """The course at this address in this tenant's catalog, with its modules and lessons loaded.

    A province's own course wins over a national course with the same slug.
    """
    stmt = (
        visible_courses_stmt(session, user, include_drafts=include_drafts)
        .where(Course.slug == slug)
        .options(selectinload(Course.modules).selectinload(CourseModule.lessons))
    )
    own = bound_tenant_id(session)
    courses = sorted(session.scalars(stmt), key=lambda c: c.tenant_id != own)
    if not courses:
        raise NotFound(N_("Course not found."), code="course_not_found")
    return courses[0]


def get_course_by_id(session: Session, course_id: int) -> Course:
    course = session.scalars(
        select(Course)
        .where(Course.id == course_id)
        .options(selectinload(Course.modules).selectinload(CourseModule.lessons))
    ).first()
    if course is None:
        raise NotFound(N_("Course not found."), code="course_not_found")
    return course


def course_lessons(course: Course) -> list[Lesson]:
    """Lessons in reading order (the course must have been loaded with its modules and lessons)."""
    return [lesson for module in course.modules for lesson in module.lessons]


def get_lesson(session: Session, lesson_id: int) -> Lesson:
    lesson = session.scalars(
        select(Lesson).where(Lesson.id == lesson_id).options(selectinload(Lesson.media))
    ).first()
    if lesson is None:
        raise NotFound(N_("Lesson not found."), code="lesson_not_found")
    return lesson


def get_media(session: Session, media_id: int) -> MediaFile:
    media = session.get(MediaFile, media_id)
    if media is None:
        raise NotFound(N_("File not found."), code="media_not_found")
    return media


# Cached snapshots for the hot read paths ----------------------------------------------------------
#
# A lesson and its course's outline are the same for every learner of every province: they are cached per
# content version (any change to courses, modules, lessons or media bumps it: app/catalog/cache_events.py)
# as plain JSON-shaped values, shared across tenants. Visibility is therefore checked on every read against
# the session's readable tenants (the cache holds a province's own course too), exactly as the ORM criteria
# would have filtered it.


@dataclass(frozen=True)
class MediaSnapshot:
    id: int
    size_bytes: int
    content_type: str


@dataclass(frozen=True)
class LessonSnapshot:
    id: int
    tenant_id: int
    course_id: int
    module_id: int
    title: str
    kind: str
    required: bool
    duration_minutes: int | None
    body_html: str
    media_id: int | None
    embed_url: str | None
    quiz_slug: str | None
    media: MediaSnapshot | None

    @classmethod
    def of(cls, lesson: Lesson) -> LessonSnapshot:
        media = lesson.media
        return cls(
            id=lesson.id,
            tenant_id=lesson.tenant_id,
            course_id=lesson.course_id,
            module_id=lesson.module_id,
            title=lesson.title,
            kind=lesson.kind,
            required=lesson.required,
            duration_minutes=lesson.duration_minutes,
            body_html=lesson.body_html,
            media_id=lesson.media_id,
            embed_url=lesson.embed_url,
            quiz_slug=lesson.quiz_slug,
            media=MediaSnapshot(media.id, media.size_bytes, media.content_type) if media else None,
        )

    def dump(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["media"] = dict(self.media.__dict__) if self.media else None
        return data

    @classmethod
    def load(cls, data: dict[str, Any]) -> LessonSnapshot:
        media = data.get("media")
        return cls(**{**data, "media": MediaSnapshot(**media) if media else None})


@dataclass(frozen=True)
class OutlineLesson:
    id: int
    title: str
    kind: str
    required: bool
    module_id: int
    quiz_slug: str | None


@dataclass(frozen=True)
class OutlineModule:
    id: int
    title: str
    lessons: tuple[OutlineLesson, ...]


@dataclass(frozen=True)
class CourseOutline:
    """A course's syllabus: what the lesson viewer and the course API need, without any lesson body."""

    id: int
    tenant_id: int
    slug: str
    title: str
    status: str
    required_lessons: int
    certificate: bool
    completion_quizzes: tuple[str, ...]  # quiz slugs the course requires (course.yaml's `completion.quizzes`)
    modules: tuple[OutlineModule, ...]

    @property
    def is_published(self) -> bool:
        return self.status == PUBLISHED

    @property
    def lessons(self) -> list[OutlineLesson]:
        return [lesson for module in self.modules for lesson in module.lessons]

    @classmethod
    def of(cls, course: Course) -> CourseOutline:
        return cls(
            id=course.id,
            tenant_id=course.tenant_id,
            slug=course.slug,
            title=course.title,
            status=course.status,
            required_lessons=course.required_lessons,
            certificate=course.certificate,
            completion_quizzes=tuple(course.completion_quizzes or ()),
            modules=tuple(
                OutlineModule(
                    m.id,
                    m.title,
                    tuple(
                        OutlineLesson(x.id, x.title, x.kind, x.required, x.module_id, x.quiz_slug)
                        for x in m.lessons
                    ),
                )
                for m in course.modules
            ),
        )

    def dump(self) -> dict[str, Any]:
        return {
            **{k: v for k, v in self.__dict__.items() if k != "modules"},
            "modules": [
                {"id": m.id, "title": m.title, "lessons": [dict(x.__dict__) for x in m.lessons]}
                for m in self.modules
            ],
        }

    @classmethod
    def load(cls, data: dict[str, Any]) -> CourseOutline:
        modules = tuple(
            OutlineModule(m["id"], m["title"], tuple(OutlineLesson(**x) for x in m["lessons"]))
            for m in data["modules"]
        )
        return cls(**{**data, "completion_quizzes": tuple(data["completion_quizzes"]), "modules": modules})


def load_lesson_snapshot(session: Session, lesson_id: int) -> LessonSnapshot | None:
    """The lesson (with its media's size) from the database, as the session's scoping lets it see it."""
    lesson = session.scalars(
        select(Lesson).where(Lesson.id == lesson_id).options(selectinload(Lesson.media))
    ).first()
    return LessonSnapshot.of(lesson) if lesson is not None else None


def lesson_snapshot(
    session: Session, cache: Cache | None, lesson_id: int, *, ttl: float = 60.0
) -> LessonSnapshot:
    """The lesson (with its media's size), from the cache when this content version has it."""

    def load() -> dict[str, Any] | None:
        found = load_lesson_snapshot(session, lesson_id)
        return found.dump() if found is not None else None

    data = cached(cache, CONTENT, lesson_key(lesson_id), load, ttl)
    if data is None or data["tenant_id"] not in readable_tenant_ids(session):
        raise NotFound(N_("Lesson not found."), code="lesson_not_found")
    return LessonSnapshot.load(data)


def load_course_outline(session: Session, course_id: int) -> CourseOutline | None:
    """The course's modules and lessons in reading order (no bodies), as the session's scoping lets it see."""
    course = session.scalars(
        select(Course)
        .where(Course.id == course_id)
        .options(
            selectinload(Course.modules)
            .selectinload(CourseModule.lessons)
            .load_only(
                Lesson.id,
                Lesson.title,
                Lesson.kind,
                Lesson.required,
                Lesson.module_id,
                Lesson.quiz_slug,
                Lesson.position,
                Lesson.tenant_id,
                raiseload=True,
            )
        )
    ).first()
    return CourseOutline.of(course) if course is not None else None


def course_outline(
    session: Session, cache: Cache | None, course_id: int, *, ttl: float = 60.0
) -> CourseOutline:
    """The course's modules and lessons in reading order (no bodies), from the cache when it has them."""

    def load() -> dict[str, Any] | None:
        found = load_course_outline(session, course_id)
        return found.dump() if found is not None else None

    data = cached(cache, CONTENT, outline_key(course_id), load, ttl)
    if data is None or data["tenant_id"] not in readable_tenant_ids(session):
        raise NotFound(N_("Course not found."), code="course_not_found")
    return CourseOutline.load(data)


# Authoring ----------------------------------------------------------------------------------------


def ensure_editable(session: Session, user: User, course_tenant_id: int) -> None:
    """Staff edit their own tenant's courses; national courses are read-only on province portals."""
    if not is_staff(user):
        raise Forbidden(N_("You do not have permission to do this."), code="forbidden")
    if course_tenant_id != bound_tenant_id(session):
        raise Forbidden(
            N_("This course belongs to the national catalog and cannot be changed here."), code="read_only"
        )


def get_course_for_edit(session: Session, user: User, slug: str) -> Course:
    course = session.scalars(
        select(Course)
        .where(Course.slug == slug, Course.tenant_id == bound_tenant_id(session))
        .options(selectinload(Course.modules).selectinload(CourseModule.lessons))
    ).first()
    if course is None:
        # A national course with this address exists: say it is read-only rather than "not found".
        national = session.scalars(select(Course.tenant_id).where(Course.slug == slug)).first()
        if national is not None:
            ensure_editable(session, user, national)
        raise NotFound(N_("Course not found."), code="course_not_found")
    ensure_editable(session, user, course.tenant_id)
    return course


def get_module_for_edit(session: Session, user: User, module_id: int) -> CourseModule:
    module = session.get(CourseModule, module_id)
    if module is None:
        raise NotFound(N_("Module not found."))
    ensure_editable(session, user, module.tenant_id)
    return module


def get_lesson_for_edit(session: Session, user: User, lesson_id: int) -> Lesson:
    lesson = get_lesson(session, lesson_id)
    ensure_editable(session, user, lesson.tenant_id)
    return lesson


def create_course(
    session: Session,
    *,
    title: str,
    slug: str | None = None,
    summary: str = "",
    target_groups: Sequence[str] = (),
    tags: Sequence[str] = (),
    source: str = "web",
) -> Course:
    title = clean_title(title)
    slug = clean_slug(slug) if slug else slugify(title, fallback="khoa-hoc")
    exists = session.scalar(
        select(Course.id).where(Course.slug == slug, Course.tenant_id == bound_tenant_id(session))
    )
    if exists is not None:
        raise Conflict(N_("A course with this address already exists."), code="slug_taken")
    course = Course(
        slug=slug,
        title=title,
        summary=nfc(summary or "")[:MAX_SUMMARY],
        target_groups=clean_target_groups(target_groups),
        tags=clean_tags(tags),
        status=DRAFT,
        source=source,
        completion_quizzes=[],
    )
    course.modules = []
    course.search_folded = search_text(course)
    session.add(course)
    session.flush()
    return course


def update_course(
    session: Session,
    course: Course,
    *,
    title: str,
    summary: str,
    target_groups: Sequence[str],
    tags: Sequence[str],
) -> Course:
    course.title = clean_title(title)
    course.summary = nfc(summary or "")[:MAX_SUMMARY]
    course.target_groups = clean_target_groups(target_groups)
    course.tags = clean_tags(tags)
    course.search_folded = search_text(course)
    course.updated_at = utcnow()
    session.flush()
    return course


def set_published(session: Session, course: Course, published: bool) -> Course:
    if published and course.required_lessons == 0 and not any(m.lessons for m in course.modules):
        raise Invalid(N_("Add at least one lesson before publishing."), code="empty_course")
    course.status = PUBLISHED if published else DRAFT
    if published and course.published_at is None:
        course.published_at = utcnow()
    course.updated_at = utcnow()
    session.flush()
    return course


def _unique_slug(taken: set[str], base: str) -> str:
    slug, n = base, 2
    while slug in taken:
        slug = f"{base}-{n}"
        n += 1
    return slug


def add_module(session: Session, course: Course, *, title: str, slug: str | None = None) -> CourseModule:
    title = clean_title(title)
    taken = {m.slug for m in course.modules}
    module = CourseModule(
        course_id=course.id,
        slug=slug or _unique_slug(taken, f"m{len(course.modules) + 1}"),
        title=title,
        position=max((m.position for m in course.modules), default=0) + 1,
    )
    module.lessons = []
    course.modules.append(module)
    session.flush()
    return module


def add_lesson(session: Session, module: CourseModule, *, title: str, kind: str = "text") -> Lesson:
    title = clean_title(title)
    if kind not in LESSON_KINDS:
        raise Invalid(N_("Unknown lesson kind."), code="kind")
    taken = set(session.scalars(select(Lesson.slug).where(Lesson.course_id == module.course_id)))
    last = session.scalar(select(func.max(Lesson.position)).where(Lesson.module_id == module.id)) or 0
    lesson = Lesson(
        course_id=module.course_id,
        module_id=module.id,
        slug=_unique_slug(taken, slugify(title)),
        title=title,
        kind=kind,
        position=last + 1,
    )
    session.add(lesson)
    session.flush()
    recount_required(session, module.course_id)
    return lesson


def update_lesson(
    session: Session,
    lesson: Lesson,
    *,
    title: str,
    kind: str,
    body_md: str,
    required: bool = True,
    duration_minutes: int | None = None,
    video_link: str | None = None,
    quiz_slug: str | None = None,
) -> Lesson:
    # Validate everything first: a refused edit must leave the lesson untouched.
    title = clean_title(title)
    if kind not in LESSON_KINDS:
        raise Invalid(N_("Unknown lesson kind."), code="kind")
    if len(body_md) > MAX_BODY:
        raise Invalid(N_("The lesson text is too long."), code="body")
    new_embed: str | None = None
    if kind == VIDEO and video_link and video_link.strip():
        new_embed = embed_url(video_link)
        if new_embed is None:
            raise Invalid(
                N_("Video links must come from YouTube or Vimeo; other sites cannot be embedded."),
                code="embed_url",
            )
    lesson.title = title
    lesson.kind = kind
    lesson.required = required
    lesson.duration_minutes = duration_minutes if duration_minutes and duration_minutes > 0 else None
    lesson.body_md = clean_text(body_md)
    lesson.body_html = render_markdown(lesson.body_md)
    if new_embed:
        lesson.embed_url = new_embed
        lesson.media_id = None
    elif kind != VIDEO:
        lesson.embed_url = None
    if kind not in (VIDEO, DOCUMENT):
        lesson.media_id = None
    lesson.quiz_slug = (slugify(quiz_slug, fallback="") or None) if kind == QUIZ and quiz_slug else None
    lesson.content_hash = ""  # edited in the browser: the next file import rewrites it
    lesson.updated_at = utcnow()
    session.flush()
    recount_required(session, lesson.course_id)
    return lesson


def allowed_types_for(kind: str) -> frozenset[str]:
    if kind == VIDEO:
        return VIDEO_TYPES
    if kind == DOCUMENT:
        return DOCUMENT_TYPES
    return IMAGE_TYPES


def store_media(
    session: Session,
    storage: Storage,
    stream: BinaryIO,
    *,
    filename: str,
    course_id: int,
    allowed: frozenset[str],
    max_bytes: int,
    uploaded_by_id: int | None = None,
) -> MediaFile:
    tenant_id = bound_tenant_id(session)
    if tenant_id is None:
        raise RuntimeError("store_media needs a session bound to a tenant")
    stored = storage.save(tenant_id, stream, max_bytes=max_bytes, allowed=allowed)
    media = MediaFile(
        course_id=course_id,
        storage_key=stored.key,
        filename=_safe_filename(filename),
        content_type=stored.content_type,
        size_bytes=stored.size,
        sha256=stored.sha256,
        uploaded_by_id=uploaded_by_id,
    )
    session.add(media)
    session.flush()
    return media


def _safe_filename(name: str) -> str:
    base = (name or "file").replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    clean = slugify(stem, fallback="file")
    return clean + ("." + re.sub(r"[^a-z0-9]", "", ext.lower())[:8] if ext else "")


def attach_upload(
    session: Session,
    storage: Storage,
    lesson: Lesson,
    stream: BinaryIO,
    *,
    filename: str,
    max_bytes: int,
    user: User,
) -> MediaFile:
    """Upload a video (video lessons) or a PDF (document lessons) and make it the lesson's media."""
    if lesson.kind not in (VIDEO, DOCUMENT):
        raise Invalid(N_("Only video and document lessons take a file."), code="file_type")
    media = store_media(
        session,
        storage,
        stream,
        filename=filename,
        course_id=lesson.course_id,
        allowed=allowed_types_for(lesson.kind),
        max_bytes=max_bytes,
        uploaded_by_id=user.id,
    )
    lesson.media_id = media.id
    lesson.embed_url = None
    lesson.updated_at = utcnow()
    session.flush()
    return media


def _swap(items: Sequence[CourseModule] | Sequence[Lesson], index: int, direction: str) -> None:
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(items):
        a, b = items[index], items[other]
        a.position, b.position = b.position, a.position
        if a.position == b.position:  # repair equal positions left by earlier edits
            b.position = a.position + (1 if direction == "up" else -1)


def move_module(session: Session, module: CourseModule, direction: str) -> None:
    siblings = list(
        session.scalars(
            select(CourseModule)
            .where(CourseModule.course_id == module.course_id)
            .order_by(CourseModule.position, CourseModule.id)
        )
    )
    for i, m in enumerate(siblings):
        m.position = i + 1
    _swap(siblings, siblings.index(module), direction)
    session.flush()


def move_lesson(session: Session, lesson: Lesson, direction: str) -> None:
    siblings = list(
        session.scalars(
            select(Lesson).where(Lesson.module_id == lesson.module_id).order_by(Lesson.position, Lesson.id)
        )
    )
    for i, item in enumerate(siblings):
        item.position = i + 1
    _swap(siblings, siblings.index(lesson), direction)
    session.flush()


def recount_required(session: Session, course_id: int) -> int:
    """Keep `course.required_lessons` current: enrolments compare against it instead of counting lessons."""
    count = (
        session.scalar(
            select(func.count()).select_from(Lesson).where(Lesson.course_id == course_id, Lesson.required)
        )
        or 0
    )
    course = session.get(Course, course_id)
    if course is not None and course.required_lessons != count:
        course.required_lessons = count
        session.flush()
    return count
