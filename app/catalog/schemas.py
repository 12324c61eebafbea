"""API shapes for the catalog (SPEC §9: lists are {"items", "total"}; the course shape is fixed)."""

from __future__ import annotations

from pydantic import BaseModel


class LessonSummary(BaseModel):
    id: int
    title: str
    kind: str
    # A quiz lesson names its quiz by slug; `quiz_id` is set when that quiz exists.
    quiz_id: int | None = None
    quiz_slug: str | None = None


class ModuleRead(BaseModel):
    id: int
    title: str
    lessons: list[LessonSummary]


class CourseRead(BaseModel):
    slug: str
    title: str
    summary: str
    target_groups: list[str]
    tags: list[str] = []
    national: bool = False
    modules: list[ModuleRead]


class CourseListItem(BaseModel):
    slug: str
    title: str
    summary: str
    target_groups: list[str]
    tags: list[str] = []
    national: bool = False


class CourseList(BaseModel):
    items: list[CourseListItem]
    total: int


class LessonRead(BaseModel):
    id: int
    course_slug: str
    module_id: int
    title: str
    kind: str
    required: bool
    duration_minutes: int | None
    body_html: str
    video_url: str | None = None
    embed_url: str | None = None
    document_url: str | None = None
    quiz_id: int | None = None
    quiz_slug: str | None = None
    previous_id: int | None = None
    next_id: int | None = None
