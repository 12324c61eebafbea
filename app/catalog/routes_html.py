"""Catalog pages (list, search, course page), media files, and authoring for trainers and admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, Response

from app.accounts.constants import TARGET_GROUPS
from app.accounts.deps import OptionalPageUser, PageStaff, PageUser
from app.catalog import service
from app.catalog.constants import CATALOG_PAGE_SIZE, LESSON_KIND_LABELS
from app.catalog.deps import MediaStorage, max_upload_bytes
from app.catalog.models import Lesson
from app.catalog.presenters import catalog_context
from app.catalog.rendering import render_markdown
from app.cohorts import service as cohorts_service
from app.core.bodylimit import accepts_upload
from app.core.deps import DbSession
from app.core.errors import N_, DomainError, NotFound
from app.core.web import error_text, html_router, redirect_to, render
from app.progress import service as progress_service
from app.tenancy.deps import CurrentTenant

router = html_router()


@router.get("/courses", name="courses:list")
def catalog(
    request: Request,
    session: DbSession,
    tenant: CurrentTenant,
    user: OptionalPageUser,
    q: str = "",
    group: str = "",
    page: Annotated[int, Query(le=10_000)] = 1,
) -> Response:
    page = max(1, page)
    courses, total = service.list_courses(
        session,
        user,
        q=q[:200],
        target_group=group if group in TARGET_GROUPS else None,
        limit=CATALOG_PAGE_SIZE,
        offset=(page - 1) * CATALOG_PAGE_SIZE,
        cache=request.app.state.cache,
        ttl=request.app.state.settings.content_cache_seconds,
    )
    return render(request, "catalog/list.html", catalog_context(courses, total, q=q, group=group, page=page))


@router.get("/courses/{slug}", name="courses:detail")
def course_page(
    request: Request, slug: str, session: DbSession, tenant: CurrentTenant, user: OptionalPageUser
) -> Response:
    course = service.get_course(session, slug, user, include_drafts=True)
    enrolment = progress_service.get_enrolment(session, user.id, course.id) if user else None
    done = progress_service.completed_lesson_ids(session, enrolment) if enrolment else set()
    return render(
        request,
        "catalog/course.html",
        {
            "course": course,
            "enrolment": enrolment,
            "done": done,
            "cohorts": cohorts_service.open_cohorts(session, course) if user and not enrolment else [],
            "can_edit": service.is_staff(user) and course.tenant_id == tenant.id,
            "groups": TARGET_GROUPS,
            "kinds": LESSON_KIND_LABELS,
        },
    )


@router.get("/media/{media_id}", name="media:file")
def media_file(
    media_id: int, session: DbSession, tenant: CurrentTenant, user: PageUser, storage: MediaStorage
) -> Response:
    """An uploaded file with HTTP range requests (video seeking): this tenant's own or national media only."""
    media = service.get_media(session, media_id)
    if media.course_id is not None:
        course = service.get_course_by_id(session, media.course_id)
        if not course.is_published and not (service.is_staff(user) and course.tenant_id == tenant.id):
            raise NotFound(N_("File not found."), code="media_not_found")
    path = storage.local_path(media.storage_key)
    if path is None:
        raise NotFound(N_("File not found."), code="media_not_found")
    return FileResponse(
        path,
        media_type=media.content_type,
        filename=media.filename,
        content_disposition_type="inline",
        headers={"Cache-Control": "private, max-age=86400"},
    )


# Authoring ----------------------------------------------------------------------------------------


@router.get("/author", name="author:list")
def author_list(request: Request, session: DbSession, tenant: CurrentTenant, user: PageStaff) -> Response:
    courses, _ = service.list_courses(session, user, include_drafts=True, own_only=True, limit=500)
    return render(request, "catalog/author_list.html", {"courses": courses, "groups": TARGET_GROUPS})


@router.post("/author/courses", name="author:create")
def author_create(
    request: Request,
    session: DbSession,
    tenant: CurrentTenant,
    user: PageStaff,
    title: Annotated[str, Form(max_length=300)] = "",
    summary: Annotated[str, Form(max_length=2000)] = "",
    target_groups: Annotated[list[str] | None, Form()] = None,
) -> Response:
    try:
        course = service.create_course(
            session, title=title, summary=summary, target_groups=target_groups or []
        )
    except DomainError as exc:
        courses, _ = service.list_courses(session, user, include_drafts=True, own_only=True, limit=500)
        return render(
            request,
            "catalog/author_list.html",
            {"courses": courses, "groups": TARGET_GROUPS, "error": error_text(request, exc), "title": title},
            status_code=exc.status_code,
        )
    return redirect_to(request, "author:course", slug=course.slug)


def _editor(request: Request, course: object, *, status_code: int = 200, **extra: object) -> Response:
    return render(
        request,
        "catalog/author_course.html",
        {"course": course, "groups": TARGET_GROUPS, "kinds": LESSON_KIND_LABELS, **extra},
        status_code=status_code,
    )


@router.get("/author/courses/{slug}", name="author:course")
def author_course(
    request: Request, slug: str, session: DbSession, tenant: CurrentTenant, user: PageStaff
) -> Response:
    return _editor(request, service.get_course_for_edit(session, user, slug))


@router.post("/author/courses/{slug}", name="author:course_save")
def author_course_save(
    request: Request,
    slug: str,
    session: DbSession,
    tenant: CurrentTenant,
    user: PageStaff,
    title: Annotated[str, Form(max_length=300)] = "",
    summary: Annotated[str, Form(max_length=2000)] = "",
    tags: Annotated[str, Form(max_length=500)] = "",
    target_groups: Annotated[list[str] | None, Form()] = None,
) -> Response:
    course = service.get_course_for_edit(session, user, slug)
    try:
        service.update_course(
            session,
            course,
            title=title,
            summary=summary,
            target_groups=target_groups or [],
            tags=[t for t in tags.split(",") if t.strip()],
        )
    except DomainError as exc:
        session.rollback()
        course = service.get_course_for_edit(session, user, slug)
        return _editor(request, course, error=error_text(request, exc), status_code=exc.status_code)
    return redirect_to(request, "author:course", slug=course.slug, query={"saved": 1})


@router.post("/author/courses/{slug}/publish", name="author:publish")
def author_publish(
    request: Request,
    slug: str,
    session: DbSession,
    tenant: CurrentTenant,
    user: PageStaff,
    published: Annotated[str, Form(max_length=1)] = "1",
) -> Response:
    course = service.get_course_for_edit(session, user, slug)
    service.set_published(session, course, published == "1")
    return redirect_to(request, "author:course", slug=course.slug)


@router.post("/author/courses/{slug}/modules", name="author:add_module")
def author_add_module(
    request: Request,
    slug: str,
    session: DbSession,
    tenant: CurrentTenant,
    user: PageStaff,
    title: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    course = service.get_course_for_edit(session, user, slug)
    service.add_module(session, course, title=title)
    return redirect_to(request, "author:course", slug=course.slug)


@router.post("/author/modules/{module_id}/move", name="author:move_module")
def author_move_module(
    request: Request,
    module_id: int,
    session: DbSession,
    tenant: CurrentTenant,
    user: PageStaff,
    direction: Annotated[str, Form(pattern="^(up|down)$")] = "up",
) -> Response:
    module = service.get_module_for_edit(session, user, module_id)
    service.move_module(session, module, direction)
    course = service.get_course_by_id(session, module.course_id)
    return redirect_to(request, "author:course", slug=course.slug)


@router.post("/author/modules/{module_id}/lessons", name="author:add_lesson")
def author_add_lesson(
    request: Request,
    module_id: int,
    session: DbSession,
    tenant: CurrentTenant,
    user: PageStaff,
    title: Annotated[str, Form(max_length=300)] = "",
    kind: Annotated[str, Form(max_length=16)] = "text",
) -> Response:
    module = service.get_module_for_edit(session, user, module_id)
    lesson = service.add_lesson(session, module, title=title, kind=kind)
    return redirect_to(request, "author:lesson", lesson_id=lesson.id)


@router.post("/author/lessons/{lesson_id}/move", name="author:move_lesson")
def author_move_lesson(
    request: Request,
    lesson_id: int,
    session: DbSession,
    tenant: CurrentTenant,
    user: PageStaff,
    direction: Annotated[str, Form(pattern="^(up|down)$")] = "up",
) -> Response:
    lesson = service.get_lesson_for_edit(session, user, lesson_id)
    service.move_lesson(session, lesson, direction)
    course = service.get_course_by_id(session, lesson.course_id)
    return redirect_to(request, "author:course", slug=course.slug)


def _lesson_editor(
    request: Request, session: DbSession, lesson: Lesson, *, status_code: int = 200, **extra: object
) -> Response:
    course = service.get_course_by_id(session, lesson.course_id)
    return render(
        request,
        "catalog/author_lesson.html",
        {"lesson": lesson, "course": course, "kinds": LESSON_KIND_LABELS, **extra},
        status_code=status_code,
    )


@router.get("/author/lessons/{lesson_id}", name="author:lesson")
def author_lesson(
    request: Request, lesson_id: int, session: DbSession, tenant: CurrentTenant, user: PageStaff
) -> Response:
    return _lesson_editor(request, session, service.get_lesson_for_edit(session, user, lesson_id))


@router.post("/author/lessons/{lesson_id}", name="author:lesson_save")
@accepts_upload("media_max_upload_mb", service.STAFF_ROLES)
def author_lesson_save(
    request: Request,
    lesson_id: int,
    session: DbSession,
    tenant: CurrentTenant,
    user: PageStaff,
    storage: MediaStorage,
    title: Annotated[str, Form(max_length=300)] = "",
    kind: Annotated[str, Form(max_length=16)] = "text",
    body_md: Annotated[str, Form(max_length=200_000)] = "",
    required: Annotated[str, Form(max_length=2)] = "",
    duration_minutes: Annotated[str, Form(max_length=4)] = "",
    video_link: Annotated[str, Form(max_length=500)] = "",
    quiz_slug: Annotated[str, Form(max_length=100)] = "",
    upload: Annotated[UploadFile | None, File()] = None,
) -> Response:
    lesson = service.get_lesson_for_edit(session, user, lesson_id)
    try:
        # One save: a refused file leaves the title and text as they were too (nothing half-saved).
        with session.begin_nested():
            service.update_lesson(
                session,
                lesson,
                title=title,
                kind=kind,
                body_md=body_md,
                required=bool(required),
                duration_minutes=service.clean_duration(duration_minutes),
                video_link=video_link,
                quiz_slug=quiz_slug,
            )
            if upload is not None and upload.filename:
                service.attach_upload(
                    session,
                    storage,
                    lesson,
                    upload.file,
                    filename=upload.filename,
                    max_bytes=max_upload_bytes(request),
                    user=user,
                )
    except DomainError as exc:
        lesson = service.get_lesson_for_edit(session, user, lesson_id)
        return _lesson_editor(
            request, session, lesson, error=error_text(request, exc), status_code=exc.status_code
        )
    return redirect_to(request, "author:lesson", lesson_id=lesson.id, query={"saved": 1})


@router.post("/author/preview", name="author:preview")
def author_preview(
    request: Request,
    tenant: CurrentTenant,
    user: PageStaff,
    body_md: Annotated[str, Form(max_length=200_000)] = "",
) -> Response:
    """The live preview of the Markdown editor: the same sanitised HTML learners will get."""
    return render(request, "catalog/_preview.html", {"preview_html": render_markdown(body_md)})
