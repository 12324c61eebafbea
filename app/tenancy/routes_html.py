"""The tenant's branded home page."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from app.accounts.deps import OptionalPageUser
from app.core.web import html_router, render
from app.tenancy.deps import CurrentTenant

router = html_router()


@router.get("/", name="home")
def home(request: Request, tenant: CurrentTenant, user: OptionalPageUser) -> Response:
    return render(request, "home.html", {"user": user})


@router.get("/brand.css", name="brand_css")
def brand_css(tenant: CurrentTenant) -> Response:
    """The tenant's colour as a stylesheet (inline styles are forbidden by our Content-Security-Policy)."""
    return Response(
        f":root{{--brand:{tenant.colour}}}\n",
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )
