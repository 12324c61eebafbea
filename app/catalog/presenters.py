"""What the catalog's routes and the hot path (app/progress/hot_asgi.py) both answer: a course in the list
API, and the catalog page's context."""

from __future__ import annotations

from collections.abc import Sequence

from app.accounts.constants import TARGET_GROUPS
from app.catalog.constants import CATALOG_PAGE_SIZE
from app.catalog.models import Course
from app.catalog.schemas import CourseListItem
from app.catalog.service import CourseCard
from app.tenancy.models import TenantContext


def course_list_item(course: Course | CourseCard, tenant: TenantContext) -> CourseListItem:
    return CourseListItem(
        slug=course.slug,
        title=course.title,
        summary=course.summary,
        target_groups=list(course.target_groups or []),
        tags=list(course.tags or []),
        national=course.tenant_id != tenant.id,
    )


def catalog_context(
    courses: Sequence[Course | CourseCard], total: int, *, q: str = "", group: str = "", page: int = 1
) -> dict[str, object]:
    """The catalog page's context, for the page route and the hot path (app/progress/hot_asgi.py)."""
    return {
        "courses": courses,
        "total": total,
        "q": q,
        "group": group,
        "groups": TARGET_GROUPS,
        "page": page,
        "pages": max(1, -(-total // CATALOG_PAGE_SIZE)),
    }
