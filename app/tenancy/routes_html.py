"""The tenant's branded home page with the newest courses of its catalog; the national admin's portals."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import Response

from app.accounts.constants import TARGET_GROUPS
from app.accounts.deps import OptionalPageUser, PageNationalAdmin
from app.audit import service as audit
from app.catalog import service as catalog_service
from app.catalog.constants import HOME_FEATURED
from app.certificates.service import portal_origin
from app.core.deps import AppSettings, DbSession, client_address
from app.core.errors import N_, DomainError, Forbidden
from app.core.web import error_text, html_router, redirect_to, render
from app.tenancy import service
from app.tenancy.deps import CurrentTenant
from app.tenancy.models import TenantContext

router = html_router()

TENANT_PAGE_LIMIT = 500


@router.get("/", name="portal:home")
def home(request: Request, session: DbSession, tenant: CurrentTenant, user: OptionalPageUser) -> Response:
    courses, _ = catalog_service.list_courses(
        session,
        user,
        limit=HOME_FEATURED,
        cache=request.app.state.cache,
        ttl=request.app.state.settings.content_cache_seconds,
    )
    return render(request, "home.html", {"user": user, "courses": courses, "groups": TARGET_GROUPS})


@router.get("/brand.css", name="portal:brand_css")
def brand_css(tenant: CurrentTenant) -> Response:
    """The tenant's colour as a stylesheet (inline styles are forbidden by our Content-Security-Policy)."""
    return Response(
        f":root{{--brand:{tenant.colour}}}\n",
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )


# What search engines may read of a portal: its home page and catalog, never a signed-in page, an API answer,
# a file or a certificate's verification page (it names the learner).
ROBOTS_DISALLOW = (
    "/account",
    "/admin",
    "/api/",
    "/attempts/",
    "/author",
    "/certificates",
    "/cohorts",
    "/lang",
    "/learning",
    "/lessons/",
    "/login",
    "/logout",
    "/media/",
    "/quizzes/",
    "/register",
    "/reports",
    "/verify",
)


@router.get("/robots.txt", name="portal:robots")
def robots(tenant: CurrentTenant) -> Response:
    """The portal's robots.txt (plain text; an unknown portal is a 404 like any of its pages)."""
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in ROBOTS_DISALLOW), ""]
    return Response(
        "\n".join(lines),
        media_type="text/plain; charset=utf-8",
        headers={"Cache-Control": "public, max-age=86400"},
    )


# --- national admin: the portals (tenants) ---------------------------------------------------------------


def _national_only(tenant: TenantContext) -> None:
    if not tenant.is_national:
        raise Forbidden(N_("Portals are managed from the national portal."))


def _tenants_page(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    *,
    form: dict[str, str] | None = None,
    error: str | None = None,
    created: str | None = None,
    status_code: int = 200,
) -> Response:
    tenants, total = service.list_tenants(session, limit=TENANT_PAGE_LIMIT)
    context = {
        "tenants": tenants,
        "total": total,
        "form": form or {"colour": "#0b5394"},
        "error": error,
        "created": created,
        "url_of": lambda slug: portal_origin(settings, slug),
    }
    return render(request, "tenancy/tenants.html", context, status_code=status_code)


@router.get("/admin/tenants", name="tenants:list")
def tenants_list(
    request: Request,
    session: DbSession,
    tenant: CurrentTenant,
    admin: PageNationalAdmin,
    settings: AppSettings,
) -> Response:
    _national_only(tenant)
    created = request.query_params.get("created")
    created_name = None
    if created:
        found = service.get_by_slug(session, created)
        created_name = found.display_name if found else None
    return _tenants_page(request, session, settings, created=created_name)


@router.post("/admin/tenants", name="tenants:create")
def tenants_create(
    request: Request,
    session: DbSession,
    tenant: CurrentTenant,
    admin: PageNationalAdmin,
    settings: AppSettings,
    slug: Annotated[str, Form(max_length=63)] = "",
    display_name: Annotated[str, Form(max_length=200)] = "",
    colour: Annotated[str, Form(max_length=7)] = "#0b5394",
    self_registration: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    _national_only(tenant)
    form = {
        "slug": slug,
        "display_name": display_name,
        "colour": colour,
        "self_registration": self_registration,
    }
    try:
        created = service.create_tenant(
            session,
            slug=slug,
            display_name=display_name,
            colour=colour,
            self_registration=bool(self_registration),
        )
    except DomainError as exc:
        message = error_text(request, exc)
        return _tenants_page(
            request, session, settings, form=form, error=message, status_code=exc.status_code
        )
    request.app.state.tenant_cache.clear()
    audit.record(
        session,
        "national.tenant_created",
        actor_id=admin.id,
        target=f"tenant:{created.slug}",
        client_address=client_address(request),
    )
    return redirect_to(request, "tenants:list", query={"created": created.slug})
