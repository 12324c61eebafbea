"""The tenant's branded home page, with the newest courses of its catalog."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from app.accounts.constants import TARGET_GROUPS
from app.accounts.deps import OptionalPageUser
from app.catalog import service as catalog_service
from app.catalog.constants import HOME_FEATURED
from app.core.deps import DbSession
from app.core.web import html_router, render
from app.tenancy.deps import CurrentTenant

router = html_router()


@router.get("/", name="home")
def home(request: Request, session: DbSession, tenant: CurrentTenant, user: OptionalPageUser) -> Response:
    courses, _ = catalog_service.list_courses(session, user, limit=HOME_FEATURED)
    return render(request, "home.html", {"user": user, "courses": courses, "groups": TARGET_GROUPS})


@router.get("/brand.css", name="brand_css")
def brand_css(tenant: CurrentTenant) -> Response:
    """The tenant's colour as a stylesheet (inline styles are forbidden by our Content-Security-Policy)."""
    return Response(
        f":root{{--brand:{tenant.colour}}}\n",
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )
